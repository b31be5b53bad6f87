"""Figures for leaders' dashboards over the agencies a leader oversees (or everything, for
admins): live counts for today, per plan, section and owner agency, indicator attainment,
the open 督办单 per addressee and level, and the trend read from the rollup snapshots. A
fixed number of queries whatever the size."""

import dataclasses
import datetime
import hashlib
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import Agency, User
from core.roles import OVERSIGHT_ROLES, Role
from dashboards.models import TrendPoint
from dashboards.rollup import mean_percent, task_aggregates
from escalation.choices import Level
from escalation.models import Notice, overdue_q
from indicators.models import Indicator, Reading
from indicators.services import attained, attainment_counts, with_latest_reading
from supervision.rates import ReportingRates, reporting_rates_for
from tasks.choices import TaskStatus
from tasks.models import Task
from workplans.models import Plan

INDICATOR_ROWS = 100  # the indicator table shows the ones that miss first, then the rest
INDICATOR_FIELDS = ("id", "plan_id", "task_id", "name", "comparator", "target", "unit", "order")


def scoped_tasks(agency_ids: set[int] | None, year: int, plan_id: int | None = None) -> QuerySet[Task]:
    """Tasks of the published plans of `year` (or of one plan) owned, as lead or co-owner, by
    an agency in `agency_ids` (None: every task): the visibility rule's parts
    (Task.objects.published, owned_by) over a scope, so that every leader of one scope
    shares one cached overview. The overview and the exports count these."""
    tasks = Task.objects.published().filter(plan__year=year)
    if plan_id is not None:
        tasks = tasks.filter(plan_id=plan_id)
    if agency_ids is not None:
        tasks = tasks.owned_by(agency_ids)
    return tasks


@dataclasses.dataclass
class Row:
    """One line of a rollup table: a plan, a section, an agency, or the whole scope."""

    key: object
    label: str
    tasks: int = 0
    not_started: int = 0
    in_progress: int = 0
    done: int = 0
    lagging: int = 0
    on_hold: int = 0
    closed: int = 0
    overdue: int = 0
    at_risk: int = 0
    mean_percent: float = 0.0
    percent_sum: int = 0
    report_due: int = 0
    reported: int = 0
    link: str = ""

    def __reduce__(self):
        # Unpickled through the constructor from one tuple: a city's thousands of plan rows
        # load from the cache three times faster than through the dataclass's own state.
        return (Row, tuple(getattr(self, field.name) for field in dataclasses.fields(self)))

    @property
    def report_rate(self) -> float | None:
        return round(100 * self.reported / self.report_due, 1) if self.report_due else None

    @property
    def by_status(self) -> list[tuple[str, str, int]]:
        return [(value, str(label), getattr(self, value)) for value, label in TaskStatus.choices]


def _row(key, label, values: Mapping[str, Any], link: str = "") -> Row:
    row = Row(key=key, label=label, link=link)
    for field in ("tasks", *TaskStatus.values, "overdue", "at_risk", "report_due", "reported", "percent_sum"):
        setattr(row, field, values.get(field) or 0)
    row.mean_percent = float(round(mean_percent(row.percent_sum, row.tasks), 1))
    return row


def _sum_rows(rows: list[Row]) -> Row:
    total = Row(key=None, label="")
    for row in rows:
        for field in ("tasks", *TaskStatus.values, "overdue", "at_risk", "report_due", "reported", "percent_sum"):
            setattr(total, field, getattr(total, field) + getattr(row, field))
    total.mean_percent = float(round(mean_percent(total.percent_sum, total.tasks), 1))
    return total


@dataclasses.dataclass
class NoticeRow:
    """The open 督办单 of the scope addressed to one agency (or, key None, all of them), by
    level, and how many of them are past their reply deadline unanswered. `plan_id`: the
    plan the overview was narrowed to, carried into the drill-down links; `outside`: the
    addressee is not of the scope (it leads a task the scope co-owns)."""

    key: int | None
    label: str
    blue: int = 0
    yellow: int = 0
    red: int = 0
    overdue: int = 0
    plan_id: int | None = None
    outside: bool = False

    @property
    def total(self) -> int:
        return self.blue + self.yellow + self.red

    def _query(self, level: str = "", extra: str = "") -> str:
        # The 督办 page's filters (escalation:board): ?state=open&level=red&agency=12
        query = "?state=open"
        if level:
            query += f"&level={level}"
        if self.key is not None:
            query += f"&agency={self.key}"
        if self.plan_id is not None:
            query += f"&plan={self.plan_id}"
        return query + extra

    @property
    def link(self) -> str:
        """The board's query for every open notice of the row."""
        return self._query()

    @property
    def overdue_link(self) -> str:
        return self._query(extra="&overdue=on")

    @property
    def links(self) -> dict[str, str]:
        """The board's query per level: {"red": "?state=open&level=red&agency=12", …}."""
        return {value: self._query(value) for value in Level.values}

    @property
    def by_level(self) -> list[tuple[str, str, int, str]]:
        """(level, label, count, the board's query) for blue, yellow and red."""
        return [(value, str(label), getattr(self, value), self._query(value)) for value, label in Level.choices]


def open_notices(agency_ids: set[int] | None, year: int | None = None, plan_id: int | None = None):
    """The open notices (已发出, 已签收, 已反馈) on the scope's published tasks (None: every
    notice): what the 督办 page lists at state=open for a leader of that scope, addressed
    to an agency of it or, on a task one of them co-owns (and is copied on), to that task's
    lead. Not by year: a notice open today is open whatever its plan's year, and the page a
    count links to lists it; with a plan chosen (of `year`), that plan's only."""
    tasks = Task.objects.published()
    if plan_id is not None:
        tasks = tasks.filter(plan_id=plan_id, plan__year=year)
    if agency_ids is not None:
        tasks = tasks.owned_by(agency_ids)
    return Notice.objects.open().filter(task__in=tasks.values("pk"))


def notice_rows(
    agency_ids: set[int] | None, today: datetime.date, year: int | None = None, plan_id: int | None = None
) -> list[NoticeRow]:
    """The open notices of the scope (open_notices) per addressee and level, and those
    past their reply deadline unanswered, in one query. An addressee outside the scope
    (the lead of a task the scope co-owns) is marked so."""
    notices = open_notices(agency_ids, year, plan_id)
    rows = (
        notices.values("agency_id", "agency__name")
        .annotate(
            **{level: Count("pk", filter=Q(level=level)) for level in Level.values},
            overdue=Count("pk", filter=overdue_q(today)),
        )
        .order_by("agency__order", "agency__name")
    )
    return [
        NoticeRow(
            key=r["agency_id"],
            label=r["agency__name"],
            blue=r[Level.BLUE],
            yellow=r[Level.YELLOW],
            red=r[Level.RED],
            overdue=r["overdue"],
            plan_id=plan_id,
            outside=agency_ids is not None and r["agency_id"] not in agency_ids,
        )
        for r in rows
    ]


def sum_notice_rows(rows: list[NoticeRow], plan_id: int | None = None) -> NoticeRow:
    total = NoticeRow(key=None, label=gettext("合计"), plan_id=plan_id)
    for row in rows:
        for field in (*Level.values, "overdue"):
            setattr(total, field, getattr(total, field) + getattr(row, field))
    return total


@dataclasses.dataclass
class IndicatorRow:
    indicator: Indicator
    met: bool | None
    trend: list[tuple[datetime.date, Decimal]]


@dataclasses.dataclass
class Overview:
    year: int
    today: datetime.date
    total: Row
    plans: list[Row]
    sections: list[Row]
    agencies: list[Row]
    indicators_met: int
    indicators_missed: int
    indicators_unreported: int
    indicator_rows: list[IndicatorRow]
    trend: list[dict]
    computed_at: datetime.datetime | None = None
    # The open 督办单 per addressee agency of the scope, and their sum.
    notices: list[NoticeRow] = dataclasses.field(default_factory=list)
    notices_total: NoticeRow = dataclasses.field(default_factory=lambda: NoticeRow(key=None, label=""))

    @property
    def indicators_total(self) -> int:
        return self.indicators_met + self.indicators_missed + self.indicators_unreported


def overview(
    agency_ids: set[int] | None, year: int, today: datetime.date | None = None, plan_id: int | None = None
) -> Overview:
    """Everything the overview page shows, in eight queries (seven without a plan: sections are
    broken down for one plan at a time; a city's hundreds of plans have thousands of them)."""
    today = today or timezone.localdate()
    tasks = scoped_tasks(agency_ids, year, plan_id)
    # The same definitions the nightly rollup stores, so live and stored figures agree.
    figures = task_aggregates(today)

    # 1. Per plan, and 2. per section: values() groups in the database, one query each;
    # sorted here, a thousand rows sort faster in Python than in the query's plan.
    by_plan = tasks.values("plan_id", "plan__title").annotate(**figures).order_by()
    plans = [_row(r["plan_id"], r["plan__title"], r, f"?plan={r['plan_id']}") for r in by_plan]
    plans.sort(key=lambda row: (row.label, row.key))
    # The whole scope is the sum of its plans: a task is in exactly one plan.
    total = _sum_rows(plans)
    sections = []
    if plan_id is not None:
        by_section = (
            tasks.values("plan_id", "section_id", "section__label", "section__title")
            .annotate(**figures)
            .order_by("plan_id", "section__order", "section_id")
        )
        sections = [
            _row(
                r["section_id"],
                " ".join(filter(None, [r["section__label"], r["section__title"]])) or gettext("（未分部分）"),
                r,
                f"?plan={r['plan_id']}" + (f"&section={r['section_id']}" if r["section_id"] else ""),
            )
            for r in by_section
        ]

    # 3. Per owner agency, from the scope's owner rows (taskowner_agency_role_idx): a task
    # with two owners counts for both. The owner row is the scope test itself, so the
    # tasks are not filtered by owned_by a second time. Sorted in Python, not by the query.
    owned = scoped_tasks(None, year, plan_id)
    if agency_ids is None:
        owned = owned.filter(task_owners__agency_id__isnull=False)
    else:
        owned = owned.filter(task_owners__agency_id__in=agency_ids)
    by_agency = list(
        owned.values("task_owners__agency_id", "task_owners__agency__name", "task_owners__agency__order")
        .annotate(**figures)
        .order_by()
    )
    agencies = _agency_rows(by_agency)

    # 4-6. Indicators: attainment counts, and the table with each one's trend.
    met, missed, unreported = _attainment_counts(tasks)
    indicator_rows = _indicator_rows(tasks, year)

    # 7. The open 督办单 per addressee and level.
    notices = notice_rows(agency_ids, today, year, plan_id)

    # 8. The trend, from the nightly snapshots.
    trend = _trend(agency_ids, year)
    return Overview(
        year=year,
        today=today,
        total=total,
        plans=plans,
        sections=sections,
        agencies=agencies,
        indicators_met=met,
        indicators_missed=missed,
        indicators_unreported=unreported,
        indicator_rows=indicator_rows,
        trend=trend,
        notices=notices,
        notices_total=sum_notice_rows(notices, plan_id),
    )


def _agency_rows(by_agency: list[Any]) -> list[Row]:
    """The per-agency figures as rows in the agency tree's order (order, name, id), sorted
    here rather than in the grouping query."""
    rows = sorted(
        by_agency,
        key=lambda r: (r["task_owners__agency__order"], r["task_owners__agency__name"], r["task_owners__agency_id"]),
    )
    return [
        _row(r["task_owners__agency_id"], r["task_owners__agency__name"], r, f"?owner={r['task_owners__agency_id']}")
        for r in rows
    ]


def _attainment_counts(tasks: QuerySet[Task]) -> tuple[int, int, int]:
    return attainment_counts(Indicator.objects.filter(task__in=tasks.values("pk")))


def _indicator_rows(tasks: QuerySet[Task], year: int) -> list[IndicatorRow]:
    indicators = list(
        with_latest_reading(Indicator.objects.filter(task__in=tasks.values("pk")))
        # The table shows the task's number and heading: the rest of the task (and the plan)
        # would be pickled into the cache and unpickled at every look for nothing.
        .select_related("task")
        .only(*INDICATOR_FIELDS, "task__number", "task__heading")
        .order_by("plan_id", "task__order", "order", "id")[: INDICATOR_ROWS * 2]
    )
    # latest_value: annotated by with_latest_reading
    rows = [IndicatorRow(i, attained(i.comparator, i.target, i.latest_value), []) for i in indicators]  # type: ignore[attr-defined]
    # Misses first, then the unreported, then those met: what a leader has to act on.
    rank = {False: 0, None: 1, True: 2}
    rows.sort(key=lambda r: rank[r.met])
    rows = rows[:INDICATOR_ROWS]
    by_id = {r.indicator.pk: r for r in rows}
    readings = Reading.objects.current().filter(indicator_id__in=by_id, as_of__year=year).order_by("as_of", "id")
    for indicator_id, as_of, value in readings.values_list("indicator_id", "as_of", "value"):
        by_id[indicator_id].trend.append((as_of, value))
    return rows


def _trend(agency_ids: set[int] | None, year: int) -> list[dict]:
    """Mean percent and share done per rollup day, from the trend points: all plans' total
    (admins), or the sum over the scope's agencies (leaders; a task owned by two of them
    counts twice, as in the per-agency table)."""
    points = TrendPoint.objects.filter(year=year)
    points = points.filter(agency__isnull=True) if agency_ids is None else points.filter(agency_id__in=agency_ids)
    rows = (
        points.values("day")
        .annotate(weighted=Sum("weighted_percent"), task_count=Sum("tasks"), done_count=Sum("done"))
        .order_by("day")
    )
    return [
        {
            "day": r["day"],
            "mean_percent": round(float(r["weighted"] or 0) / r["task_count"], 1) if r["task_count"] else 0.0,
            "done_share": round(100 * r["done_count"] / r["task_count"], 1) if r["task_count"] else 0.0,
        }
        for r in rows
    ]


def scoped_years(agency_ids: set[int] | None) -> list[int]:
    """The years of the published plans a scope has tasks in, newest first."""
    plans = Plan.objects.published()
    if agency_ids is not None:
        plans = plans.with_tasks_owned_by(agency_ids)
    return list(plans.order_by("-year").values_list("year", flat=True).distinct())


def scope_key(scope: set[int] | None) -> str:
    """A short name for a scope in cache keys: every leader of one scope shares its entries."""
    return "all" if scope is None else hashlib.sha256(",".join(map(str, sorted(scope))).encode()).hexdigest()[:24]


def _fresh(computed_at: datetime.datetime | None) -> bool:
    """Whether figures computed then are recent enough to show (DASHBOARD_CACHE_SECONDS)."""
    age = timezone.now() - computed_at if computed_at else None
    return age is not None and age.total_seconds() < settings.DASHBOARD_CACHE_SECONDS


def cached_years(scope: set[int] | None) -> list[int]:
    """scoped_years() from the cache: the list joins the scope's owner rows, and changes only
    when a plan is published or its owners move, so it is read once per cache window
    (dashboards.jobs.refresh_overviews keeps it warm with the overview)."""
    key = f"dashboard:years:v1:{scope_key(scope)}"
    entry = cache.get(key)
    if entry is not None and _fresh(entry[0]):
        return entry[1]
    return store_years(scope)


def store_years(scope: set[int] | None) -> list[int]:
    years = scoped_years(scope)
    cache.set(f"dashboard:years:v1:{scope_key(scope)}", (timezone.now(), years), settings.DASHBOARD_CACHE_SECONDS)
    return years


def _overview_key(scope: set[int] | None, year: int, today: datetime.date, plan_id: int | None) -> str:
    # v3: the key holds (computed_at, overview); v2 held the overview alone.
    return f"dashboard:overview:v3:{scope_key(scope)}:{year}:{plan_id or ''}:{today.isoformat()}"


def cached_overview(scope: set[int] | None, year: int, today, plan_id: int | None):
    """overview() for a scope, shared by every leader of that scope: at a city's scale the
    live figures take a second or more to add up, and a leader's look need not redo them.

    Figures computed less than DASHBOARD_CACHE_SECONDS ago are shown (the page says when
    they were computed); dashboards.jobs.refresh_overviews recomputes the leaders' scopes
    after each rollup and burst of reports, so in working hours they are rarely older. When
    there are none, or only older ones (no worker, Redis down, a scope nobody precomputed),
    the page computes them itself: never shown stale, at worst slower."""
    entry = cache.get(_overview_key(scope, year, today, plan_id))
    if entry is not None and _fresh(entry[0]):
        return entry[1]
    return store_overview(scope, year, today, plan_id)


def store_overview(scope: set[int] | None, year: int, today: datetime.date, plan_id: int | None = None) -> Overview:
    """Compute a scope's overview and keep it for every leader of the scope."""
    data = overview(scope, year, today, plan_id=plan_id)
    data.computed_at = timezone.now()
    cache.set(_overview_key(scope, year, today, plan_id), (data.computed_at, data), settings.DASHBOARD_CACHE_SECONDS)
    return data


def leader_scopes() -> list[set[int] | None]:
    """The scopes whose overview someone opens: every agency an active leader or supervisor
    belongs to, with the agencies below it, and everything (admins), each once."""
    users = User.objects.filter(is_active=True, role__in=OVERSIGHT_ROLES).exclude(role=Role.ADMIN)
    roots = set(users.filter(agency__isnull=False).values_list("agency_id", flat=True).distinct())
    scopes: list[set[int] | None] = []
    seen = set()
    for agency in Agency.objects.filter(pk__in=roots).order_by("pk"):
        scope = agency.descendant_ids()
        if frozenset(scope) not in seen:
            seen.add(frozenset(scope))
            scopes.append(scope)
    if User.objects.filter(is_active=True, role=Role.ADMIN).exists():
        scopes.insert(0, None)
    return scopes


def cached_reporting(user, year: int, today, plan_id: int | None) -> ReportingRates:
    """The current cycle's reporting rate over the tasks `user` sees
    (supervision.rates.reporting_rates_for), kept per person for as long as the overview:
    a supervisor's tasks include the plans they are named on, so it is not shared by scope."""
    entry = cache.get(_reporting_key(user, year, today, plan_id))
    if entry is not None and _fresh(entry[0]):
        return entry[1]
    return store_reporting(user, year, today, plan_id)


def _reporting_key(user, year: int, today: datetime.date, plan_id: int | None) -> str:
    # v2: the key holds (computed_at, rates).
    return f"dashboard:reporting:v2:{user.pk}:{year}:{plan_id or ''}:{today.isoformat()}"


def store_reporting(user, year: int, today: datetime.date, plan_id: int | None = None) -> ReportingRates:
    data = reporting_rates_for(user, today, year=year, plan_id=plan_id)
    cache.set(_reporting_key(user, year, today, plan_id), (timezone.now(), data), settings.DASHBOARD_CACHE_SECONDS)
    return data
