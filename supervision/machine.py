"""One state machine per object of the supervision loop, written in one place: from which
states each action may be taken, to which state it leads, who may take it and whether it
needs a written comment. Pages, the API and jobs all move objects through `Machine.apply`,
which locks the row, checks the version the person decided on (two decisions at once: one
wins, the other gets StaleDecision → 409), records the step in the thread (Transition) and
the audit trail (before/after), and tells the next people once the transaction commits
(supervision.signals.transitioned).

    PeriodReport   draft ─submit→ pending_signoff ─sign_off→ pending_review ─accept→ accepted
                     ▲               │ unit_return              │ return
                     └── unit_returned / returned ─submit───────┘
    (submit goes straight to pending_review when the plan needs no unit sign-off)

    CoOwnerInput   draft ─submit→ submitted (─submit→ submitted: a revised contribution)

    CloseOut       (filed) pending ─approve→ approved ─reopen→ reopened
                              ├─reject→ rejected
                              └─withdraw→ withdrawn

    ChangeRequest  (filed) pending_unit ─approve→ pending_supervisor ─approve→ pending_leader ─approve→ approved
                   any pending ─reject→ rejected, ─withdraw→ withdrawn
                   (the steps are the plan's chain, fixed when filed: ChangeRequest.steps)
"""

import dataclasses
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.choices import EventType
from audit.services import record
from supervision import permissions as can
from supervision.choices import Action, CloseOutState, InputState, ReportState, RequestState, Step
from supervision.models import ChangeRequest, CloseOut, CoOwnerInput, PeriodReport, Transition
from supervision.signals import transitioned


class StaleDecision(Exception):
    """Someone acted on the object after the version this decision was based on."""

    def __init__(self, obj):
        super().__init__(_("该事项已被他人处理，请刷新后查看最新状态。"))
        self.obj = obj


@dataclasses.dataclass(frozen=True)
class Edge:
    action: str
    sources: frozenset[str]
    # The state it leads to; a function of the object for the request's next step.
    target: str | Callable[[Any], str]
    who: Callable[[Any, Any], bool]
    needs_comment: bool = False

    def target_for(self, obj) -> str:
        return self.target(obj) if callable(self.target) else self.target


class Machine:
    """`log` is the thread's model (a row per step: task, action, states, actor, comment,
    and the `link` field naming the object), `actions` the vocabulary of its steps and
    `signal` what is sent, once the step commits, with `transition=` the row. The loop's
    objects log to Transition; escalation's (督办单, 催办, 批示) to their own thread."""

    def __init__(
        self,
        model: Any,
        link: str,
        edges: list[Edge],
        *,
        log: Any = Transition,
        actions: Any = Action,
        signal: Any = transitioned,
    ):
        self.model = model
        self.link = link  # the log's field naming the object
        self.edges = {edge.action: edge for edge in edges}
        self.log = log
        self.actions = actions
        self.signal = signal

    def edge(self, action: str) -> Edge:
        return self.edges[action]

    def allowed(self, obj, user) -> list[str]:
        """The actions `user` may take on `obj` now (its task's owners and plan loaded)."""
        return [a for a, e in self.edges.items() if obj.state in e.sources and e.who(user, obj)]

    def may(self, obj, user, action: str) -> bool:
        edge = self.edges.get(action)
        return edge is not None and obj.state in edge.sources and edge.who(user, obj)

    def check(self, obj, user, action: str, *, version: int | None) -> Edge:
        """Refuse `action` on `obj` (as loaded or locked) unless `user` may take it now on
        the version they saw: StaleDecision, ValidationError (state) or PermissionDenied.
        Services call it before they check a form's input, so a stranger is told 403, not
        what the form lacks; `apply` calls it again under the lock."""
        edge = self.edges.get(action)
        if edge is None:
            raise ValidationError(_("不支持的操作。"))
        if version is not None and int(version) != obj.version:
            raise StaleDecision(obj)
        if obj.state not in edge.sources:
            raise ValidationError(
                _("该事项当前为“%(state)s”，不能“%(action)s”。")
                % {"state": obj.get_state_display(), "action": self.actions(action).label}
            )
        if not edge.who(user, obj):
            raise PermissionDenied(_("您无权对该事项执行“%(action)s”。") % {"action": self.actions(action).label})
        return edge

    def lock(self, pk: int):
        """The object, locked for the rest of the transaction, with what the rules read."""
        return (
            self.model.objects.select_for_update(of=("self",))
            .select_related("task__plan")
            .prefetch_related("task__task_owners")
            .get(pk=pk)
        )

    def apply(
        self,
        obj,
        action: str,
        user,
        *,
        version: int | None,
        comment: str = "",
        changes: dict | None = None,
        locked: bool = False,
    ) -> Transition:
        """Take `action` on `obj` as `user`: inside the caller's transaction (or its own).
        `version` is the version the person saw (None: whatever is current — jobs only).
        Raises StaleDecision, PermissionDenied or ValidationError, changing nothing."""
        comment = (comment or "").strip()
        with transaction.atomic():
            current = obj if locked else self.lock(obj.pk)
            edge = self.check(current, user, action, version=version)
            if edge.needs_comment and not comment:
                raise ValidationError({"comment": [_("请写明意见或要求。")]})
            before = {"state": current.state, "version": current.version}
            changes = dict(changes or {})
            for field, value in changes.items():
                before[field] = _plain(getattr(current, field))
                setattr(current, field, value)
            state_before = current.state
            current.state = edge.target_for(current)
            current.version += 1
            current.save()
            step = self.log(
                task_id=current.task_id,
                action=action,
                state_before=state_before,
                state_after=current.state,
                actor=user,
                comment=comment,
                created_at=timezone.now(),
                **{self.link: current},
            )
            step.save()
            after = {"state": current.state, "version": current.version}
            after.update({field: _plain(value) for field, value in changes.items()})
            record(
                EventType.TRANSITION,
                user=user,
                obj=current,
                detail={"action": action, "before": before, "after": after, "comment": comment[:500]},
            )
            self._announce(step)
        if not locked:
            obj.__dict__.update({k: v for k, v in current.__dict__.items() if not k.startswith("_")})
        return step

    def record_creation(self, obj, user, *, comment: str = "", action: str = Action.SUBMIT) -> Transition:
        """The first step of an object filed in the state its chain starts at (a close-out,
        a request): logged and announced like any other."""
        step = self.log(
            task_id=obj.task_id,
            action=action,
            state_before="",
            state_after=obj.state,
            actor=user,
            comment=(comment or "").strip(),
            **{self.link: obj},
        )
        step.save()
        record(
            EventType.TRANSITION,
            user=user,
            obj=obj,
            detail={"action": action, "before": {}, "after": {"state": obj.state, "version": obj.version}},
        )
        self._announce(step)
        return step

    def _announce(self, step) -> None:
        signal, log = self.signal, self.log
        transaction.on_commit(lambda: signal.send(sender=log, transition=step))


def _plain(value):
    if value is None or isinstance(value, (str, int, bool, float)):
        return value
    return str(value)


# --- Reports ----------------------------------------------------------------------------

_REPORT_OPEN = frozenset({ReportState.DRAFT, ReportState.UNIT_RETURNED, ReportState.RETURNED})


def _after_submit(report) -> str:
    return ReportState.PENDING_SIGNOFF if report.task.plan.requires_unit_signoff else ReportState.PENDING_REVIEW


def _signs_off(user, report) -> bool:
    # Nobody signs off their own submission (a 审核人 who wrote the report included).
    return can.is_unit_head(user, report.task) and user.pk != report.author_id


REPORTS = Machine(
    PeriodReport,
    "report",
    [
        Edge(Action.SUBMIT, _REPORT_OPEN, _after_submit, lambda u, r: can.is_lead_staff(u, r.task)),
        Edge(Action.SIGN_OFF, frozenset({ReportState.PENDING_SIGNOFF}), ReportState.PENDING_REVIEW, _signs_off),
        Edge(
            Action.UNIT_RETURN,
            frozenset({ReportState.PENDING_SIGNOFF}),
            ReportState.UNIT_RETURNED,
            _signs_off,
            needs_comment=True,
        ),
        Edge(
            Action.ACCEPT,
            frozenset({ReportState.PENDING_REVIEW}),
            ReportState.ACCEPTED,
            lambda u, r: can.is_supervisor_for(u, r.task),
        ),
        Edge(
            Action.RETURN,
            frozenset({ReportState.PENDING_REVIEW}),
            ReportState.RETURNED,
            lambda u, r: can.is_supervisor_for(u, r.task),
            needs_comment=True,
        ),
    ],
)

# --- Co-owners' input -------------------------------------------------------------------

INPUTS = Machine(
    CoOwnerInput,
    "co_input",
    [
        Edge(
            Action.SUBMIT,
            frozenset({InputState.DRAFT, InputState.SUBMITTED}),
            InputState.SUBMITTED,
            lambda u, i: can.co_owner_agency_id(u, i.task) == i.agency_id,
        ),
    ],
)

# --- Close-out --------------------------------------------------------------------------


CLOSE_OUTS = Machine(
    CloseOut,
    "close_out",
    [
        Edge(
            Action.APPROVE,
            frozenset({CloseOutState.PENDING}),
            CloseOutState.APPROVED,
            lambda u, c: can.is_supervisor_for(u, c.task),
        ),
        Edge(
            Action.REJECT,
            frozenset({CloseOutState.PENDING}),
            CloseOutState.REJECTED,
            lambda u, c: can.is_supervisor_for(u, c.task),
            needs_comment=True,
        ),
        Edge(
            Action.WITHDRAW,
            frozenset({CloseOutState.PENDING}),
            CloseOutState.WITHDRAWN,
            lambda u, c: can.is_lead_staff_on_closing(u, c.task),
        ),
        Edge(
            Action.REOPEN,
            frozenset({CloseOutState.APPROVED}),
            CloseOutState.REOPENED,
            lambda u, c: can.may_reopen(u, c.task),
            needs_comment=True,
        ),
    ],
)

# --- Delay and change requests ----------------------------------------------------------

STEP_STATES = {
    Step.UNIT: RequestState.PENDING_UNIT,
    Step.SUPERVISOR: RequestState.PENDING_SUPERVISOR,
    Step.LEADER: RequestState.PENDING_LEADER,
}
_REQUEST_OPEN = frozenset(STEP_STATES.values())


def next_state(request: ChangeRequest) -> str:
    """The state after the current step approves: the next step's, or approved."""
    steps = list(request.steps)
    here = request.step
    index = steps.index(here) if here in steps else len(steps) - 1
    return STEP_STATES[steps[index + 1]] if index + 1 < len(steps) else RequestState.APPROVED


def decides(user, request: ChangeRequest) -> bool:
    step = request.step
    if step == Step.UNIT:
        return can.is_unit_head(user, request.task) and user.pk != request.filed_by_id
    if step == Step.SUPERVISOR:
        return can.is_supervisor_for(user, request.task)
    if step == Step.LEADER:
        return can.is_leader_in_charge(user, request.task)
    return False


REQUESTS = Machine(
    ChangeRequest,
    "request",
    [
        Edge(Action.APPROVE, _REQUEST_OPEN, next_state, decides),
        Edge(Action.REJECT, _REQUEST_OPEN, RequestState.REJECTED, decides, needs_comment=True),
        Edge(
            Action.WITHDRAW, _REQUEST_OPEN, RequestState.WITHDRAWN, lambda u, r: can.is_lead_staff_on_closing(u, r.task)
        ),
    ],
)
