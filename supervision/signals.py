"""What the loop tells the layers above: a step was taken (after its transaction commits).
notifications connects to it to tell the next person, exactly once per step and person."""

from django.dispatch import Signal

# sender: the Transition's model; transition: the supervision.models.Transition row;
# recipients: the users who must act next or be told (supervision.recipients).
transitioned = Signal()
