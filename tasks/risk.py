"""Red / amber / green risk marks for tasks: one rule, used by pages, jobs, exports and the API."""

import datetime
import math
from fractions import Fraction

from django.conf import settings
from django.db import models
from django.db.models import Case, Q, Value, When
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tasks.choices import FINISHED, TaskStatus


class Risk(models.TextChoices):
    RED = "red", _("红")
    AMBER = "amber", _("黄")
    GREEN = "green", _("绿")
    DONE = "done", _("已完成")


def _policy(policy: dict | None) -> dict:
    # Read at call time, not import time, so a changed setting (or a test's override) applies at once.
    return settings.RISK_POLICY if policy is None else policy


def _expected_percent(year_start: datetime.date, year_end: datetime.date, today: datetime.date) -> Fraction:
    """The share of the plan year elapsed on `today`, in percentage points, clamped to 0–100.

    Exact (a Fraction, not a float) so that a gap of exactly `pace_gap_points` is never
    tipped over the line by rounding, and so the database filter can match it exactly.
    """
    total = (year_end - year_start).days
    if total <= 0:
        # A one-day "year": nothing has elapsed before it, all of it from then on.
        return Fraction(100) if today >= year_end else Fraction(0)
    elapsed = (today - year_start).days
    return min(max(Fraction(100 * elapsed, total), Fraction(0)), Fraction(100))


def _on_pace_min_percent(expected: Fraction, policy: dict) -> int:
    """The lowest whole percent that is not behind pace: a task is amber below it.

    Behind pace means expected − percent > gap, i.e. percent < expected − gap; for a whole
    percent that is percent < ceil(expected − gap). Both risk_of and risk_annotation compare
    against this one number, so the Python and SQL answers cannot drift apart.
    """
    return math.ceil(expected - Fraction(policy["pace_gap_points"]))


def _due_soon_min_percent(policy: dict) -> int:
    # percent < x  ⇔  percent < ceil(x) for a whole percent; lets the policy hold a non-integer.
    return math.ceil(Fraction(policy["due_soon_min_percent"]))


def _assess(
    *,
    status: str,
    percent: int,
    due_on: datetime.date,
    year_start: datetime.date,
    year_end: datetime.date,
    today: datetime.date,
    policy: dict | None = None,
) -> tuple[Risk, str]:
    policy = _policy(policy)
    if status in FINISHED:
        return Risk.DONE, ""

    # On hold (暂缓) is deliberately not exempt: pausing a task does not move its deadline or
    # the calendar, so a paused task that is overdue is red and one that trails the year is
    # amber, the same as any other open task. Exempting it would let 暂缓 hide a slipped task.
    days_left = (due_on - today).days
    if days_left < 0:
        return Risk.RED, gettext("已逾期 %(days)d 天") % {"days": -days_left}
    if status == TaskStatus.LAGGING:
        return Risk.RED, gettext("标记为滞后")

    # When both amber reasons hold, the deadline is named: it is the more pressing of the two.
    if days_left <= policy["due_soon_days"] and percent < _due_soon_min_percent(policy):
        if days_left == 0:
            return Risk.AMBER, gettext("今天到期，进度 %(percent)d%%") % {"percent": percent}
        return Risk.AMBER, gettext("%(days)d 天后到期，进度 %(percent)d%%") % {"days": days_left, "percent": percent}

    expected = _expected_percent(year_start, year_end, today)
    if percent < _on_pace_min_percent(expected, policy):
        # Rounded up, so a gap of 20.3 points reads as 21, never as the allowed 20.
        gap = math.ceil(expected - percent)
        return Risk.AMBER, gettext("进度 %(percent)d%%，落后时间进度 %(gap)d 个百分点") % {
            "percent": percent,
            "gap": gap,
        }
    return Risk.GREEN, ""


def risk_of(**facts) -> Risk:
    """The risk mark of one task; `facts` are _assess's keywords.

    DONE for a done task, whatever else. RED when overdue (due_on < today) or marked lagging.
    AMBER when the percent trails the share of the plan year elapsed by more than
    `pace_gap_points`, or when due within `due_soon_days` (today included) below
    `due_soon_min_percent`. GREEN otherwise. `policy` defaults to settings.RISK_POLICY.
    """
    return _assess(**facts)[0]


def risk_reason(**facts) -> str:
    """A short Chinese reason for the mark risk_of gives ("已逾期 12 天"); empty for green and done."""
    return _assess(**facts)[1]


def plan_year_bounds(year: int) -> tuple[datetime.date, datetime.date]:
    """The plan year the pace is measured against: 1 January to 31 December."""
    return datetime.date(year, 1, 1), datetime.date(year, 12, 31)


def points_behind(year: int, percent: int, today: datetime.date) -> int:
    """How many percentage points `percent` trails the share of plan year `year` elapsed on
    `today` ("落后时间进度 N 个百分点"), rounded up as the amber reason rounds it; 0 when
    on or ahead of pace. The escalation ladder's thresholds are measured in these points."""
    expected = _expected_percent(*plan_year_bounds(year), today)
    return max(math.ceil(expected - percent), 0)


def due_soon_below_percent(policy: dict | None = None) -> int:
    """The percent a task due soon must reach not to be behind (RISK_POLICY's
    due_soon_min_percent, as a whole percent): the escalation ladder's blue rule uses it."""
    return _due_soon_min_percent(_policy(policy))


def task_risk(task, today: datetime.date, policy: dict | None = None) -> tuple[Risk, str]:
    """The mark and its reason for a Task (with its plan loaded), assessed once."""
    year_start, year_end = plan_year_bounds(task.plan.year)
    return _assess(
        status=task.status,
        percent=task.percent,
        due_on=task.due_on,
        year_start=year_start,
        year_end=year_end,
        today=today,
        policy=policy,
    )


def _risk_conditions(today: datetime.date, policy: dict | None) -> tuple[Q, Q, Q]:
    """(done, red, amber) as plain conditions on a Task queryset, each meant to be read after
    the ones before it (as the CASE below reads them): the rule's one SQL form."""
    policy = _policy(policy)
    due_soon = Q(
        due_on__gte=today,
        due_on__lte=today + datetime.timedelta(days=policy["due_soon_days"]),
        percent__lt=_due_soon_min_percent(policy),
    )

    # The elapsed share is the same for every earlier year (100), every later year (0) and
    # the current year (computed here), so three conditions cover every plan without
    # knowing which years exist.
    amber = due_soon
    for year_filter, expected in (
        (Q(plan__year__lt=today.year), Fraction(100)),
        (Q(plan__year=today.year), _expected_percent(*plan_year_bounds(today.year), today)),
        (Q(plan__year__gt=today.year), Fraction(0)),
    ):
        threshold = _on_pace_min_percent(expected, policy)
        # A percent is never negative, so a threshold of 0 or less can never match.
        if threshold > 0:
            amber |= year_filter & Q(percent__lt=threshold)
    return Q(status__in=FINISHED), Q(due_on__lt=today) | Q(status=TaskStatus.LAGGING), amber


def risk_annotation(today: datetime.date, policy: dict | None = None) -> Case:
    """The risk_of rule as a database expression on a Task queryset, for counting by mark.

    Use as `Task.objects.annotate(risk=risk_annotation(today))`. The plan year is taken from
    plan__year (see plan_year_bounds). To filter by one mark use risk_q: a CASE compared
    with a value can use no index, its plain conditions can.
    """
    done, red, amber = _risk_conditions(today, policy)
    return Case(
        When(done, then=Value(Risk.DONE.value)),
        When(red, then=Value(Risk.RED.value)),
        When(amber, then=Value(Risk.AMBER.value)),
        default=Value(Risk.GREEN.value),
        output_field=models.CharField(max_length=8, choices=Risk.choices),
    )


# The statuses a task may have and still be amber or green: open and not marked lagging.
# The partial index task_open_due_idx (tasks.models) is on the open ones.
OPEN_NOT_LAGGING = [status for status in TaskStatus.values if status not in FINISHED and status != TaskStatus.LAGGING]


def risk_q(risk: str, today: datetime.date, policy: dict | None = None) -> Q:
    """The tasks whose mark is `risk` on `today`: the same rule as risk_annotation (and so as
    risk_of), written as one condition without CASE, so that the database can narrow it by
    index (open tasks by due date: task_open_due_idx) before it reads a row.

    Each mark is its own condition and not the ones before it: red is open and (overdue or
    lagging); amber is open, not lagging, not overdue, and due soon or behind pace; green is
    open, not lagging, not overdue and neither."""
    done, red, amber = _risk_conditions(today, policy)
    if risk == Risk.DONE:
        return done
    if risk == Risk.RED:
        return ~done & red
    # Not done and not red, spelled as a status list and a due-date range so an index serves it.
    calm = Q(status__in=OPEN_NOT_LAGGING, due_on__gte=today)
    if risk == Risk.AMBER:
        return calm & amber
    if risk == Risk.GREEN:
        return calm & ~amber
    raise ValueError(f"unknown risk mark {risk!r}")
