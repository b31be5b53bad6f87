"""The state machines of escalation's objects, on supervision.machine.Machine (row lock,
version check, thread, audit, signal once committed), logging to escalation's Step.

    Notice       issued ─acknowledge→ acknowledged ─answer→ answered ─close→ closed
                   │                      │              └─return→ acknowledged
                   └──────────answer──────┘
                 any open ─close→ closed (the office, or the ladder when the task is closed out)
                 any open ─cancel→ cancelled (the office, with a reason)
                 any open ─supersede→ superseded (the ladder or the office, issuing a higher level)

    Urge         open ─reply→ answered;  open ─close→ closed (the task closed out)

    Instruction  open ─respond→ responded ─settle→ settled
                                  └─return→ open (the leader asks for more)
                 open | responded ─settle→ settled (the leader; or the task closed out)
"""

from escalation import permissions as can
from escalation.choices import OPEN_NOTICE_STATES, UNANSWERED_STATES, Action, InstructionState, NoticeState, UrgeState
from escalation.models import Instruction, Notice, Step, Urge
from escalation.signals import stepped
from supervision.machine import Edge, Machine

_OPEN = frozenset(OPEN_NOTICE_STATES)
_UNANSWERED = frozenset(UNANSWERED_STATES)


def _machine(model, link, edges) -> Machine:
    return Machine(model, link, edges, log=Step, actions=Action, signal=stepped)


NOTICES = _machine(
    Notice,
    "notice",
    [
        Edge(Action.ACKNOWLEDGE, frozenset({NoticeState.ISSUED}), NoticeState.ACKNOWLEDGED, can.may_acknowledge),
        Edge(Action.ANSWER, _UNANSWERED, NoticeState.ANSWERED, can.is_addressee_staff),
        Edge(
            Action.RETURN,
            frozenset({NoticeState.ANSWERED}),
            NoticeState.ACKNOWLEDGED,
            can.decides_notice,
            needs_comment=True,
        ),
        Edge(Action.CLOSE, _OPEN, NoticeState.CLOSED, can.decides_or_ladder),
        Edge(Action.CANCEL, _OPEN, NoticeState.CANCELLED, can.decides_notice, needs_comment=True),
        Edge(Action.SUPERSEDE, _OPEN, NoticeState.SUPERSEDED, can.decides_or_ladder),
    ],
)

URGES = _machine(
    Urge,
    "urge",
    [
        Edge(Action.REPLY, frozenset({UrgeState.OPEN}), UrgeState.ANSWERED, can.may_answer_urge, needs_comment=True),
        Edge(Action.CLOSE, frozenset({UrgeState.OPEN}), UrgeState.CLOSED, can.is_ladder),
    ],
)

INSTRUCTIONS = _machine(
    Instruction,
    "instruction",
    [
        Edge(
            Action.RESPOND,
            frozenset({InstructionState.OPEN}),
            InstructionState.RESPONDED,
            can.may_respond,
            needs_comment=True,
        ),
        Edge(
            Action.RETURN,
            frozenset({InstructionState.RESPONDED}),
            InstructionState.OPEN,
            can.is_instruction_author,
            needs_comment=True,
        ),
        Edge(
            Action.SETTLE,
            frozenset({InstructionState.OPEN, InstructionState.RESPONDED}),
            InstructionState.SETTLED,
            lambda user, obj: user is None or can.is_instruction_author(user, obj),
        ),
    ],
)
