"""What escalation does when the supervision loop moves: a close-out approved (销号)
closes the task's notices and urges and settles its instructions, once the step commits.
(The ladder's morning run closes any left open, should this fail.)"""

import logging

from escalation import notices
from supervision.choices import CloseOutState
from supervision.models import Transition
from supervision.signals import transitioned

logger = logging.getLogger(__name__)


def on_transitioned(sender, transition, **kwargs) -> None:
    if not (transition.close_out_id and transition.state_after == CloseOutState.APPROVED):
        return
    try:
        notices.close_for_task(transition.task_id)
    except Exception:
        logger.exception("notices of task %s could not be closed after its close-out", transition.task_id)


def connect() -> None:
    transitioned.connect(on_transitioned, sender=Transition, dispatch_uid="escalation_close_out_closes_notices")
