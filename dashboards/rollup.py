"""The daily rollup: per plan, section and owner agency, the figures dashboards chart over time.

What one snapshot of `day` holds, for the tasks in its scope:

- tasks, and the count of each status (not_started, in_progress, done, lagging, on_hold, closed);
- overdue: open (neither done nor closed out) tasks with due_on < day;
- at_risk: tasks whose risk mark (tasks.risk.risk_annotation) on `day` is AMBER. Red tasks
  are not counted here: they already show as overdue or lagging;
- mean_percent: the mean of the tasks' percent, to two places (0 for no tasks);
- indicators: the indicators attached to those tasks (an indicator attached to no task, which
  only the admin can make, is in no row); indicators_met / indicators_missed by each one's
  latest reading with as_of <= day (greatest (as_of, id)), judged by indicators.services.attained;
  an indicator with no reading by then counts in neither;
- report_due: open tasks of active plans; reported: those of them with a progress update
  inside their plan's reporting cycle containing `day`, up to the end of `day` (local time).

Scopes: one PLAN row per plan (written even when it has no tasks, so its history has the day);
one SECTION row per section that has tasks directly (a task counts in its own section only, not
in the sections above it; tasks in no section count in the plan row only); one AGENCY row per
(plan, owner agency), counting the tasks the agency owns as lead or co-owner, so a task with two
owners counts in both agencies' rows.

No history is replayed: status, percent, owners and the tasks themselves are as stored when the
rollup runs. The nightly job runs just after midnight for the day that ended, so that is the end
of the day; run for an older day, the figures mix today's statuses with that day's overdue, risk,
cycle and indicator readings — use that for filling a gap, not for rewriting history.

Cost: a fixed number of queries whatever the number of plans (the plans, two GROUP BY queries
over the tasks, the indicators with their latest reading, their owners, one delete, and the
inserts in batches of 2,000), so a whole city's year is a few seconds, not one query per plan.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection, transaction
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.lookups import Exact

from dashboards.models import Snapshot, SnapshotScope, TrendPoint
from indicators.models import Indicator
from indicators.services import attained, with_latest_reading
from tasks.choices import FINISHED, TaskStatus
from tasks.models import Task, TaskOwner
from tasks.risk import Risk, risk_annotation
from tasks.services import owes_reports_q, reported_this_cycle_q
from workplans.choices import PlanStatus
from workplans.models import Plan

TREND_LOCK = 0x7E4D << 32  # advisory lock keys of write_trend_points, one per day
BATCH_SIZE = 2000
COUNTS = ("tasks", *TaskStatus.values, "overdue", "at_risk", "report_due", "reported")
INDICATOR_COUNTS = ("indicators", "indicators_met", "indicators_missed")


# --- The figures, as expressions the live dashboard can use too --------------------------


def task_aggregates(day: datetime.date) -> dict:
    """The aggregate expressions of a snapshot's task figures on `day`, for a Task queryset's
    aggregate() or values(...).annotate(): the Snapshot field names (bar mean_percent and the
    indicators) and `percent_sum`, from which mean_percent() gives the mean.

    Self-contained (the risk mark is inlined, no alias needed), so the live dashboard can use
    the same definitions: `Task.objects.filter(...).aggregate(**task_aggregates(today))`."""
    is_open = ~Q(status__in=FINISHED)
    due = owes_reports_q()
    aggregates = {"tasks": Count("pk")}
    aggregates.update({status: Count("pk", filter=Q(status=status)) for status in TaskStatus.values})
    aggregates.update(
        overdue=Count("pk", filter=is_open & Q(due_on__lt=day)),
        at_risk=Count("pk", filter=Exact(risk_annotation(day), Risk.AMBER.value)),
        percent_sum=Sum("percent"),
        report_due=Count("pk", filter=due),
        reported=Count("pk", filter=due & reported_this_cycle_q(day)),
    )
    return aggregates


def mean_percent(percent_sum, tasks: int) -> Decimal:
    """The mean percent as a snapshot stores it: two places, halves rounded up; 0 for no tasks."""
    if not tasks:
        return Decimal("0.00")
    return (Decimal(percent_sum or 0) / tasks).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _indicator_outcomes(indicators: QuerySet[Indicator], day: datetime.date, *fields: str):
    """(task_id, *fields, met) for each indicator: met is True, False or None (unreported)."""
    rows = with_latest_reading(indicators, day).values_list("task_id", *fields, "comparator", "target", "latest_value")
    for task_id, *rest, comparator, target, value in rows.order_by():
        yield task_id, *rest, attained(comparator, target, value)


def _add_outcome(figures: dict, met: bool | None) -> None:
    figures["indicators"] += 1
    if met is True:
        figures["indicators_met"] += 1
    elif met is False:
        figures["indicators_missed"] += 1


def figures_query(tasks: QuerySet[Task], day: datetime.date) -> dict:
    """The figures of a snapshot, live, for any Task queryset (a leader's scope, a filter of
    the dashboard): every Snapshot figure field, in two queries. What rollup_day stores for a
    scope is what this returns for that scope's tasks on the same day."""
    figures = tasks.order_by().aggregate(**task_aggregates(day))
    figures = {field: figures[field] or 0 for field in COUNTS} | {
        "mean_percent": mean_percent(figures["percent_sum"], figures["tasks"])
    }
    figures.update(dict.fromkeys(INDICATOR_COUNTS, 0))
    for _task_id, met in _indicator_outcomes(Indicator.objects.filter(task__in=tasks.values("pk")), day):
        _add_outcome(figures, met)
    return figures


# --- The rollup ---------------------------------------------------------------------------


def _empty() -> dict:
    return dict.fromkeys(COUNTS + INDICATOR_COUNTS + ("percent_sum",), 0)


def _add(into: dict, row: dict) -> None:
    for field in COUNTS:
        into[field] += row[field] or 0
    into["percent_sum"] += row["percent_sum"] or 0


def _snapshot(day: datetime.date, scope: str, plan_id: int, figures: dict, **about) -> Snapshot:
    values = {field: figures[field] for field in COUNTS + INDICATOR_COUNTS}
    return Snapshot(
        day=day,
        scope=scope,
        plan_id=plan_id,
        mean_percent=mean_percent(figures["percent_sum"], figures["tasks"]),
        **values,
        **about,
    )


def build_snapshots(day: datetime.date, plan_ids: list[int]) -> list[Snapshot]:
    """The (unsaved) snapshots of `day` for `plan_ids`, in four queries whatever their number."""
    tasks = Task.objects.filter(plan_id__in=plan_ids).order_by()
    aggregates = task_aggregates(day)
    plans = {plan_id: _empty() for plan_id in plan_ids}
    sections: dict[int, dict] = {}
    section_plan: dict[int, int] = {}
    agencies: dict[tuple[int, int], dict] = {}

    # 1. Per (plan, section): the section rows, and summed, the plan rows.
    for row in tasks.values("plan_id", "section_id").annotate(**aggregates):
        _add(plans[row["plan_id"]], row)
        if row["section_id"] is not None:
            sections[row["section_id"]] = section = _empty()
            section_plan[row["section_id"]] = row["plan_id"]
            _add(section, row)

    # 2. Per (plan, owner agency), through the owner join: a task counts for each of its owners.
    owned = tasks.filter(task_owners__isnull=False).values("plan_id", "task_owners__agency_id")
    for row in owned.annotate(**aggregates):
        agencies[row["plan_id"], row["task_owners__agency_id"]] = figures = _empty()
        _add(figures, row)

    # 3. The indicators of these tasks with their latest reading by `day`, and 4. their owners.
    indicators = Indicator.objects.filter(task__plan_id__in=plan_ids)
    outcomes = list(_indicator_outcomes(indicators, day, "task__plan_id", "task__section_id"))
    if outcomes:
        owners = defaultdict(list)
        ownerships = TaskOwner.objects.filter(task__in=indicators.values("task_id")).values_list("task_id", "agency_id")
        for task_id, agency_id in ownerships.order_by():
            owners[task_id].append(agency_id)
        for task_id, plan_id, section_id, met in outcomes:
            _add_outcome(plans[plan_id], met)
            if section_id is not None:
                _add_outcome(sections[section_id], met)
            for agency_id in owners[task_id]:
                _add_outcome(agencies[plan_id, agency_id], met)

    snapshots = []
    by_plan_sections = defaultdict(list)
    for section_id, plan_id in section_plan.items():
        by_plan_sections[plan_id].append(section_id)
    by_plan_agencies = defaultdict(list)
    for plan_id, agency_id in agencies:
        by_plan_agencies[plan_id].append(agency_id)
    for plan_id in plan_ids:
        snapshots.append(_snapshot(day, SnapshotScope.PLAN, plan_id, plans[plan_id]))
        for section_id in sorted(by_plan_sections[plan_id]):
            figures = sections[section_id]
            snapshots.append(_snapshot(day, SnapshotScope.SECTION, plan_id, figures, section_id=section_id))
        for agency_id in sorted(by_plan_agencies[plan_id]):
            figures = agencies[plan_id, agency_id]
            snapshots.append(_snapshot(day, SnapshotScope.AGENCY, plan_id, figures, agency_id=agency_id))
    return snapshots


def rollup_day(day: datetime.date, *, plan_ids: Iterable[int] | None = None) -> int:
    """Compute and store the snapshots of `day` for every active plan (or `plan_ids`), replacing
    any rows already stored for that day and those plans, in one transaction. Returns rows written.

    `plan_ids` may name archived plans (to fill a gap in their history); drafts are never rolled
    up, they are not published. The plans are locked (FOR NO KEY UPDATE, in id order) for the
    transaction, so two runs over the same plans take turns and the second replaces the first's
    rows instead of colliding with them; the lock does not stop anyone adding tasks, progress or
    readings meanwhile (those take only a key-share lock on the plan)."""
    plans = Plan.objects.order_by("pk")
    if plan_ids is None:
        plans = plans.filter(status=PlanStatus.ACTIVE)
    else:
        plans = plans.filter(pk__in=list(plan_ids)).exclude(status=PlanStatus.DRAFT)
    with transaction.atomic():
        ids = list(plans.select_for_update(no_key=True).values_list("pk", flat=True))
        if not ids:
            return 0
        snapshots = build_snapshots(day, ids)
        Snapshot.objects.filter(day=day, plan_id__in=ids).delete()
        Snapshot.objects.bulk_create(snapshots, batch_size=BATCH_SIZE)
        write_trend_points(day)
    return len(snapshots)


def write_trend_points(day: datetime.date) -> int:
    """Replace the day's trend points with the sums of all its snapshot rows (whatever plans
    this run covered): per plan year and agency, and per plan year for all plans."""
    if connection.vendor == "postgresql":
        # Runs over different plans may finish the same day at once; they take turns here.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [TREND_LOCK + day.toordinal()])
    # A trend point's `done` is the finished work: 已完成 and 已销号 (tasks.choices.FINISHED).
    sums = {
        "weighted": Sum(F("mean_percent") * F("tasks")),
        "task_sum": Sum("tasks"),
        "done_sum": Sum(F("done") + F("closed")),
    }
    day_rows = Snapshot.objects.filter(day=day).order_by()
    points = [
        TrendPoint(
            day=day,
            year=r["plan__year"],
            agency_id=r["agency_id"],
            tasks=r["task_sum"],
            done=r["done_sum"],
            weighted_percent=r["weighted"] or 0,
        )
        for r in day_rows.filter(scope=SnapshotScope.AGENCY).values("plan__year", "agency_id").annotate(**sums)
    ]
    points += [
        TrendPoint(
            day=day,
            year=r["plan__year"],
            agency_id=None,
            tasks=r["task_sum"],
            done=r["done_sum"],
            weighted_percent=r["weighted"] or 0,
        )
        for r in day_rows.filter(scope=SnapshotScope.PLAN).values("plan__year").annotate(**sums)
    ]
    TrendPoint.objects.filter(day=day).delete()
    TrendPoint.objects.bulk_create(points, batch_size=BATCH_SIZE)
    return len(points)
