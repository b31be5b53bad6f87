"""What escalation tells the layers above, once the step committed: notifications connects
to it to tell the right people, once per step and person.

stepped: sender the Step model, transition= one Step row (a step by a person).
batch_stepped: sender the Step model, steps= the Step rows the ladder wrote in one batch
(told in bulk: the ladder may issue hundreds of notices on its first morning)."""

from django.dispatch import Signal

stepped = Signal()
batch_stepped = Signal()
