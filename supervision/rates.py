"""The reporting rate of the current cycle (本期报送率), as the dashboards show it: for the
open tasks of active plans (they owe this cycle's report), where each lead's report stands
— sent and waiting for sign-off or review, accepted, returned, or not sent (no report, or
a draft) — and, counted apart, the co-owners' input: expected (one per co-owner agency of
such a task) and submitted. Per agency (the lead for reports, the co-owner for input) and
overall, in three queries whatever the number of tasks.

The cycle is each plan's own (workplans.cycles): its start depends only on the kind of
cycle, so one CASE per kind finds every task's current report, as
tasks.services.reported_this_cycle_q does for progress updates."""

import dataclasses
import datetime
from typing import Any

from django.db.models import Case, Count, DateField, Exists, OuterRef, Q, QuerySet, Subquery, Value, When

from accounts.services import scope_agency_ids
from core.roles import Role
from supervision.choices import InputState, ReportState
from supervision.models import RETURNED_REPORT_STATES, WAITING_REPORT_STATES, CoOwnerInput, PeriodReport
from tasks.choices import OwnerRole
from tasks.models import Task, TaskOwner
from tasks.services import owes_reports_q
from workplans.choices import ReportingCycle
from workplans.cycles import cycle_for


@dataclasses.dataclass
class ReportingFigures:
    """One line of the reporting rate: an agency, or the whole scope (agency_id None)."""

    agency_id: int | None = None
    label: str = ""
    due: int = 0  # tasks owing this cycle's report
    submitted: int = 0  # sent, waiting for the unit's sign-off or the supervision office's review
    accepted: int = 0
    returned: int = 0  # returned by the unit or by the supervision office, not yet resent
    inputs_due: int = 0  # co-owner agencies' input expected this cycle
    inputs_submitted: int = 0

    @property
    def not_submitted(self) -> int:
        return self.due - self.submitted - self.accepted - self.returned

    @property
    def rate(self) -> float | None:
        """Reports sent (waiting or accepted) over reports owed, in percent."""
        return _percent(self.submitted + self.accepted, self.due)

    @property
    def accepted_rate(self) -> float | None:
        return _percent(self.accepted, self.due)

    @property
    def input_rate(self) -> float | None:
        return _percent(self.inputs_submitted, self.inputs_due)


@dataclasses.dataclass
class ReportingRates:
    today: datetime.date
    total: ReportingFigures
    agencies: list[ReportingFigures]


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def owing_report_q() -> Q:
    """Tasks that owe the current cycle's report: open tasks of active plans, but for
    those marked 无需填报 (reporting_exempt)."""
    return owes_reports_q()


def cycle_start(today: datetime.date, plan_path: str = "plan") -> Case:
    """The first day of the current cycle of the task's plan (`plan_path` leads to it)."""
    return Case(
        *(
            When(**{f"{plan_path}__reporting_cycle": kind}, then=Value(cycle_for(kind, 28, today).start))
            for kind in ReportingCycle.values
        ),
        output_field=DateField(),
    )


def _add_state(figures: ReportingFigures, state: str | None, count: int) -> None:
    """Count `count` owing tasks whose current report is in `state` (None: no report)."""
    figures.due += count
    if state in WAITING_REPORT_STATES:
        figures.submitted += count
    elif state == ReportState.ACCEPTED:
        figures.accepted += count
    elif state in RETURNED_REPORT_STATES:
        figures.returned += count


def _with_report_state(tasks: QuerySet[Task], today: datetime.date) -> QuerySet[Any]:
    # QuerySet[Any]: the rows carry report_state, which the type checker cannot see on Task.
    current = PeriodReport.objects.filter(task=OuterRef("pk"), period_start=OuterRef("cycle_start")).values("state")
    return (
        tasks.filter(owing_report_q())
        .order_by()
        .alias(cycle_start=cycle_start(today))
        .annotate(report_state=Subquery(current[:1]))
    )


def reporting_rates(tasks: QuerySet[Task], today: datetime.date, agency_ids: set[int] | None = None) -> ReportingRates:
    """The reporting rate over `tasks` (callers pass what the person sees:
    Task.objects.visible_to, or the dashboards' scoped_tasks), with one row per agency —
    only those in `agency_ids` when given — in three queries.

    Each query groups by the current report's state, so the report is looked up once per
    task (a count per state, FILTERed by state, would look it up once per count)."""
    owing = _with_report_state(tasks, today)

    # 1. Overall: every owing task once, whoever leads it.
    total = ReportingFigures()
    for row in owing.values("report_state").annotate(n=Count("pk")):
        _add_state(total, row["report_state"], row["n"])

    # 2. Per lead agency: a task has one lead, so a report counts once, for its lead.
    # One filter() call, so both conditions are on the same owner row.
    lead = Q(task_owners__role=OwnerRole.LEAD)
    if agency_ids is not None:
        lead &= Q(task_owners__agency_id__in=agency_ids)
    leads = owing.filter(lead)
    rows: dict[int, ReportingFigures] = {}
    names: dict[int, tuple] = {}
    by_lead = leads.values(
        "task_owners__agency_id", "task_owners__agency__name", "task_owners__agency__order", "report_state"
    ).annotate(n=Count("pk"))
    for row in by_lead:
        agency_id = row["task_owners__agency_id"]
        names[agency_id] = (row["task_owners__agency__order"], row["task_owners__agency__name"])
        figures = rows.setdefault(
            agency_id, ReportingFigures(agency_id=agency_id, label=row["task_owners__agency__name"])
        )
        _add_state(figures, row["report_state"], row["n"])

    # 3. Co-owners' input, per co-owner agency: one expected per (task, co-owner).
    submitted = CoOwnerInput.objects.filter(
        task_id=OuterRef("task_id"),
        agency_id=OuterRef("agency_id"),
        period_start=OuterRef("cycle_start"),
        state=InputState.SUBMITTED,
    )
    co_owners = (
        TaskOwner.objects.filter(role=OwnerRole.CO_OWNER, task__in=owing.values("pk"))
        .order_by()
        .alias(cycle_start=cycle_start(today, "task__plan"))
        .values("agency_id", "agency__name", "agency__order")
        .annotate(expected=Count("pk"), submitted=Count("pk", filter=Q(Exists(submitted))))
    )
    for co_row in co_owners:
        total.inputs_due += co_row["expected"]
        total.inputs_submitted += co_row["submitted"]
        agency_id = co_row["agency_id"]
        if agency_ids is not None and agency_id not in agency_ids:
            continue
        figures = rows.setdefault(agency_id, ReportingFigures(agency_id=agency_id, label=co_row["agency__name"]))
        names[agency_id] = (co_row["agency__order"], co_row["agency__name"])
        figures.inputs_due, figures.inputs_submitted = co_row["expected"], co_row["submitted"]

    agencies = sorted(rows.values(), key=lambda figures: names[figures.agency_id or 0])
    return ReportingRates(today=today, total=total, agencies=agencies)


def reporting_rates_for(
    user, today: datetime.date, *, year: int | None = None, plan_id: int | None = None
) -> ReportingRates:
    """The reporting rate over the tasks `user` sees (of one year or plan): rows for the
    agencies of a leader's scope; for admins and supervisors (whose named plans may reach
    outside their agency tree), every agency on those tasks."""
    tasks = Task.objects.visible_to(user)
    if year is not None:
        tasks = tasks.filter(plan__year=year)
    if plan_id is not None:
        tasks = tasks.filter(plan_id=plan_id)
    scope = scope_agency_ids(user) if user.role == Role.LEADER else None
    return reporting_rates(tasks, today, scope)
