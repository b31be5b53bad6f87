"""Work lists (待办): what waits for one person in the supervision loop, as querysets
bounded by their scope, with counts for the header.

- staff: this cycle's reports their agency owes as lead, returned reports, co-owner input
  their agency owes, their own open requests and pending close-outs;
- unit heads (leaders, staff named 审核人): reports to sign off and requests at the unit
  step for the agencies they head, never their own;
- the supervision office: reports to review, close-outs and requests at its step, in its
  scope, overdue first, then oldest due, then oldest received;
- leaders: requests at the leader's step they decide.

These are the SQL forms of supervision.permissions (is_lead_staff, co_owner_agency_id,
is_unit_head, is_supervisor_for, is_leader_in_charge): tests/supervision/test_worklist.py
holds each list to the predicate's answer. The counts are one query whatever the sections
(each a scalar subquery), so the header pays once.
"""

import dataclasses
import datetime
from collections.abc import Callable

from django.core.cache import cache
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.services import scope_agency_ids
from core.roles import Role
from supervision.choices import CloseOutState, InputState, ReportState, RequestState
from supervision.models import (
    OPEN_REQUEST_STATES,
    RETURNED_REPORT_STATES,
    SENT_REPORT_STATES,
    ChangeRequest,
    CloseOut,
    CoOwnerInput,
    PeriodReport,
)
from tasks.choices import OwnerRole
from tasks.models import Task, TaskOwner
from tasks.services import owes_reports_q
from workplans.choices import PlanStatus, ReportingCycle
from workplans.cycles import cycle_for
from workplans.models import supervised_plan_ids

# A section shows this many of its oldest items; its count says how many there are.
SECTION_CAP = 50


@dataclasses.dataclass
class Section:
    """One kind of item waiting for the user: its items (a queryset, oldest first) and
    what each links to (`link`: supervision:report_detail, … or tasks:task_detail)."""

    key: str
    label: "str | Promise"
    items: QuerySet
    link: str
    count: int = 0

    @property
    def shown(self) -> list:
        return list(self.items[:SECTION_CAP])


# --- Scope: the SQL forms of supervision.permissions ------------------------------------


def _lead_in(agency_ids) -> Q:
    """Objects (with a `task`) whose task is led by one of `agency_ids`."""
    return Q(Exists(TaskOwner.objects.filter(task=OuterRef("task_id"), role=OwnerRole.LEAD, agency_id__in=agency_ids)))


def unit_head_q(user) -> Q:
    """is_unit_head: a leader whose scope covers the lead agency, or the lead agency's 审核人."""
    if not (user.is_authenticated and user.is_active):
        return Q(pk__in=[])
    if user.role == Role.LEADER:
        return _lead_in(list(scope_agency_ids(user) or ()))
    if user.role == Role.STAFF and user.is_unit_reviewer and user.agency_id:
        return _lead_in([user.agency_id])
    return Q(pk__in=[])


def supervisor_q(user) -> Q:
    """is_supervisor_for: a task of a plan the supervisor is named on, or owned by an
    agency of their tree."""
    if not (user.is_authenticated and user.is_active) or user.role != Role.SUPERVISOR:
        return Q(pk__in=[])
    owned = Q(
        Exists(TaskOwner.objects.filter(task=OuterRef("task_id"), agency_id__in=list(scope_agency_ids(user) or ())))
    )
    named = supervised_plan_ids(user)
    # The named plans as a list of ids, and no OR at all for a supervisor named on none
    # (the usual whole-bureau supervisor): an OR beside the EXISTS makes PostgreSQL hash
    # every owner row of the scope instead of probing the few waiting items' tasks
    # (tests/bench/bench_supervision.py --explain).
    return (Q(task__plan_id__in=named) | owned) if named else owned


def leader_in_charge_q(user) -> Q:
    """is_leader_in_charge: the plan's named leader, or, where it names none, a leader who
    may open the task (a published plan, a task owned in their scope)."""
    if not (user.is_authenticated and user.is_active) or user.role != Role.LEADER:
        return Q(pk__in=[])
    owned = TaskOwner.objects.filter(task=OuterRef("task_id"), agency_id__in=list(scope_agency_ids(user) or ()))
    return Q(task__plan__leader_in_charge=user) | (
        Q(task__plan__leader_in_charge__isnull=True) & ~Q(task__plan__status=PlanStatus.DRAFT) & Q(Exists(owned))
    )


def _cycle_starts(today: datetime.date) -> dict[str, datetime.date]:
    """Each kind of cycle's current start: it depends on the kind only (the due day moves
    the deadline, not the window), so one condition per kind covers every plan."""
    return {kind: cycle_for(kind, 28, today).start for kind in ReportingCycle.values}


def _this_cycle(model, today: datetime.date, **match) -> Q:
    """Whether the task (OuterRef pk) has a `model` row of the current cycle matching `match`."""
    condition = Q(pk__in=[])
    for kind, start in _cycle_starts(today).items():
        rows = model.objects.filter(task=OuterRef("pk"), period_start=start, **match)
        condition |= Q(plan__reporting_cycle=kind) & Q(Exists(rows))
    return condition


def _open_tasks() -> QuerySet:
    # The tasks that owe this cycle's report and co-owners' input: open tasks of active
    # plans, but for those marked 无需填报 (tasks.services.owes_reports_q).
    return Task.objects.filter(owes_reports_q())


def _owned_as(role: str, agency_id: int) -> Q:
    return Q(Exists(TaskOwner.objects.filter(task=OuterRef("pk"), role=role, agency_id=agency_id)))


# --- The sections -----------------------------------------------------------------------


def oldest_due_first(queryset: QuerySet, received: str, today: datetime.date) -> QuerySet:
    """Overdue first (their due day is the earliest), then by due day, then by arrival."""
    return queryset.annotate(
        overdue=Case(
            When(decision_due_on__lt=today, then=Value(True)), default=Value(False), output_field=BooleanField()
        )
    ).order_by(F("decision_due_on").asc(nulls_last=True), received, "pk")


def _staff_sections(user, today: datetime.date) -> list[Section]:
    agency_id = user.agency_id
    if user.role != Role.STAFF or not agency_id:
        return []
    owed_reports = (
        _open_tasks()
        .filter(_owned_as(OwnerRole.LEAD, agency_id))
        .exclude(_this_cycle(PeriodReport, today, state__in=[*SENT_REPORT_STATES, *RETURNED_REPORT_STATES]))
        .select_related("plan")
        .order_by("due_on", "plan_id", "pk")
    )
    returned = (
        PeriodReport.objects.filter(state__in=RETURNED_REPORT_STATES, task__plan__status=PlanStatus.ACTIVE)
        .filter(_lead_in([agency_id]))
        .select_related("task__plan")
        .order_by("due_on", "pk")
    )
    owed_inputs = (
        _open_tasks()
        .filter(_owned_as(OwnerRole.CO_OWNER, agency_id))
        .exclude(_this_cycle(CoOwnerInput, today, agency_id=agency_id, state=InputState.SUBMITTED))
        .select_related("plan")
        .order_by("due_on", "plan_id", "pk")
    )
    requests = (
        ChangeRequest.objects.filter(filed_by=user, state__in=OPEN_REQUEST_STATES)
        .select_related("task__plan")
        .order_by("filed_at", "pk")
    )
    close_outs = (
        CloseOut.objects.filter(submitted_by=user, state=CloseOutState.PENDING)
        .select_related("task__plan")
        .order_by("submitted_at", "pk")
    )
    return [
        Section("owed_reports", _("本期待报送"), owed_reports, "tasks:task_detail"),
        Section("returned_reports", _("被退回的报送"), returned, "supervision:report_detail"),
        Section("owed_inputs", _("待提交的配合单位反馈"), owed_inputs, "tasks:task_detail"),
        Section("my_requests", _("我的延期/调整申请"), requests, "supervision:request_detail"),
        Section("my_close_outs", _("我的销号申请"), close_outs, "supervision:closeout_detail"),
    ]


def _unit_head_sections(user, today: datetime.date) -> list[Section]:
    if not (user.role == Role.LEADER or (user.role == Role.STAFF and user.is_unit_reviewer)):
        return []
    heads = unit_head_q(user)
    reports = PeriodReport.objects.filter(heads, state=ReportState.PENDING_SIGNOFF).exclude(author=user)
    requests = ChangeRequest.objects.filter(heads, state=RequestState.PENDING_UNIT).exclude(filed_by=user)
    return [
        Section(
            "signoff_reports",
            _("待单位审核的报送"),
            oldest_due_first(reports.select_related("task__plan", "author"), "submitted_at", today),
            "supervision:report_detail",
        ),
        Section(
            "unit_requests",
            _("待单位审核的申请"),
            oldest_due_first(requests.select_related("task__plan", "filed_by"), "filed_at", today),
            "supervision:request_detail",
        ),
    ]


def _supervisor_sections(user, today: datetime.date) -> list[Section]:
    if user.role != Role.SUPERVISOR:
        return []
    scope = supervisor_q(user)
    reports = PeriodReport.objects.filter(scope, state=ReportState.PENDING_REVIEW)
    close_outs = CloseOut.objects.filter(scope, state=CloseOutState.PENDING)
    requests = ChangeRequest.objects.filter(scope, state=RequestState.PENDING_SUPERVISOR)
    return [
        Section(
            "review_reports",
            _("待审核的报送"),
            oldest_due_first(reports.select_related("task__plan", "author"), "submitted_at", today),
            "supervision:report_detail",
        ),
        Section(
            "close_outs",
            _("待审核的销号申请"),
            oldest_due_first(close_outs.select_related("task__plan", "submitted_by"), "submitted_at", today),
            "supervision:closeout_detail",
        ),
        Section(
            "supervisor_requests",
            _("待督查室审核的申请"),
            oldest_due_first(requests.select_related("task__plan", "filed_by"), "filed_at", today),
            "supervision:request_detail",
        ),
    ]


def _leader_sections(user, today: datetime.date) -> list[Section]:
    if user.role != Role.LEADER:
        return []
    requests = ChangeRequest.objects.filter(leader_in_charge_q(user), state=RequestState.PENDING_LEADER)
    return [
        Section(
            "leader_requests",
            _("待分管领导审批的申请"),
            oldest_due_first(requests.select_related("task__plan", "filed_by"), "filed_at", today),
            "supervision:request_detail",
        )
    ]


SECTION_BUILDERS: list[Callable[[object, datetime.date], list[Section]]] = [
    _staff_sections,
    _unit_head_sections,
    _supervisor_sections,
    _leader_sections,
]


def register(build: Callable[[object, datetime.date], list[Section]]) -> None:
    """Add the sections of a layer above (escalation's notices, urges, instructions):
    called from its AppConfig.ready, once."""
    if build not in SECTION_BUILDERS:
        SECTION_BUILDERS.append(build)


def sections(user, today: datetime.date | None = None) -> list[Section]:
    """The sections of `user`'s work list, without counts (see `with_counts`)."""
    if not (user.is_authenticated and user.is_active):
        return []
    today = today or timezone.localdate()
    return [section for build in SECTION_BUILDERS for section in build(user, today)]


def _count_of(queryset: QuerySet) -> Coalesce:
    """A scalar subquery counting `queryset`'s rows. COUNT as a plain function, not Django's
    aggregate, so no GROUP BY comes with it: one row, 0 when nothing matches."""
    counted = queryset.order_by().annotate(n=Func(F("pk"), function="COUNT", output_field=IntegerField()))
    return Coalesce(Subquery(counted.values("n")[:1]), Value(0), output_field=IntegerField())


def counts(user, found: list[Section]) -> dict[str, int]:
    """How many items each section holds: one query for them all."""
    if not found:
        return {}
    # Carried by the user's own row: any one-row SELECT would do.
    subqueries = {f"n_{section.key}": _count_of(section.items) for section in found}
    row = User.objects.filter(pk=user.pk).values(**subqueries).first() or {}
    return {section.key: int(row.get(f"n_{section.key}") or 0) for section in found}  # type: ignore[call-overload]


def with_counts(user, today: datetime.date | None = None) -> list[Section]:
    found = sections(user, today)
    numbers = counts(user, found)
    for section in found:
        section.count = numbers[section.key]
    return found


def total(user, today: datetime.date | None = None) -> int:
    """Everything waiting for `user`: the header's badge."""
    return sum(counts(user, sections(user, today)).values())


# The header's badge is on every page: it is kept for a short while per person and day,
# and every step of the loop (supervision.signals.transitioned) starts a new generation,
# so a decision shows in everyone's badge at once (on a shared cache; within the TTL on a
# per-process one).
BADGE_TTL_SECONDS = 60
GENERATION_KEY = "supervision:worklist:generation"


def new_generation(**_kwargs) -> None:
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:
        cache.set(GENERATION_KEY, 1, None)


def badge_total(user, today: datetime.date | None = None) -> int:
    today = today or timezone.localdate()
    generation = cache.get(GENERATION_KEY, 0)
    key = f"supervision:worklist:{user.pk}:{today:%Y%m%d}:{generation}"
    found = cache.get(key)
    if found is None:
        found = total(user, today)
        cache.set(key, found, BADGE_TTL_SECONDS)
    return found


def remember_total(user, count: int, today: datetime.date) -> None:
    """The work list page counted already: the header takes its figure."""
    generation = cache.get(GENERATION_KEY, 0)
    cache.set(f"supervision:worklist:{user.pk}:{today:%Y%m%d}:{generation}", count, BADGE_TTL_SECONDS)
