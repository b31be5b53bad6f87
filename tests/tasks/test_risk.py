"""The risk rule at each of its boundaries, and the database filter that must agree with it."""

import datetime
import itertools

import pytest
from django.db.models import Count

from tasks.choices import FINISHED, TaskStatus
from tasks.models import Task
from tasks.risk import Risk, plan_year_bounds, risk_annotation, risk_of, risk_q, risk_reason
from tests.conftest import make_task
from workplans.models import Plan

D = datetime.date
DEFAULT_POLICY = {"pace_gap_points": 20, "due_soon_days": 14, "due_soon_min_percent": 80}

# 2026 is not a leap year: 1 Jan → 31 Dec is 364 days, and 2 July is day 182, exactly 50%.
MID_2026 = D(2026, 7, 2)
EARLY_2026 = D(2026, 1, 10)


def mark(status, percent, due_on, today, year=2026, policy=None):
    year_start, year_end = plan_year_bounds(year)
    args = {"status": status, "percent": percent, "due_on": due_on, "today": today}
    args |= {"year_start": year_start, "year_end": year_end}
    return risk_of(**args, policy=policy), risk_reason(**args, policy=policy)


CASES = [
    # (id, status, percent, due_on, today, plan year, expected)
    ("due_today_is_not_overdue_but_due_soon", TaskStatus.IN_PROGRESS, 50, EARLY_2026, EARLY_2026, 2026, Risk.AMBER),
    ("due_today_at_80_is_green", TaskStatus.IN_PROGRESS, 80, EARLY_2026, EARLY_2026, 2026, Risk.GREEN),
    ("due_yesterday_is_red", TaskStatus.IN_PROGRESS, 99, D(2026, 1, 9), EARLY_2026, 2026, Risk.RED),
    ("due_in_14_days_at_79_is_amber", TaskStatus.IN_PROGRESS, 79, D(2026, 1, 24), EARLY_2026, 2026, Risk.AMBER),
    ("due_in_14_days_at_80_is_green", TaskStatus.IN_PROGRESS, 80, D(2026, 1, 24), EARLY_2026, 2026, Risk.GREEN),
    ("due_in_15_days_at_0_early_is_green", TaskStatus.NOT_STARTED, 0, D(2026, 1, 25), EARLY_2026, 2026, Risk.GREEN),
    ("pace_gap_exactly_20_is_green", TaskStatus.IN_PROGRESS, 30, D(2026, 12, 31), MID_2026, 2026, Risk.GREEN),
    ("pace_gap_21_is_amber", TaskStatus.IN_PROGRESS, 29, D(2026, 12, 31), MID_2026, 2026, Risk.AMBER),
    ("not_started_behind_pace_is_amber", TaskStatus.NOT_STARTED, 0, D(2026, 12, 31), MID_2026, 2026, Risk.AMBER),
    ("lagging_at_99_is_red", TaskStatus.LAGGING, 99, D(2026, 12, 31), EARLY_2026, 2026, Risk.RED),
    ("lagging_at_0_is_red", TaskStatus.LAGGING, 0, D(2026, 12, 31), EARLY_2026, 2026, Risk.RED),
    ("done_overdue_is_done", TaskStatus.DONE, 100, D(2026, 1, 9), EARLY_2026, 2026, Risk.DONE),
    ("done_is_done_whatever_the_percent", TaskStatus.DONE, 0, D(2026, 12, 31), MID_2026, 2026, Risk.DONE),
    ("on_hold_overdue_is_red", TaskStatus.ON_HOLD, 50, D(2026, 1, 9), EARLY_2026, 2026, Risk.RED),
    ("on_hold_behind_pace_is_amber", TaskStatus.ON_HOLD, 10, D(2026, 12, 31), MID_2026, 2026, Risk.AMBER),
    ("on_hold_on_pace_is_green", TaskStatus.ON_HOLD, 40, D(2026, 12, 31), MID_2026, 2026, Risk.GREEN),
    ("at_100_not_done_overdue_is_red", TaskStatus.IN_PROGRESS, 100, D(2026, 1, 9), EARLY_2026, 2026, Risk.RED),
    # The year has not started: 0% is expected, so 0% is on pace.
    ("year_not_started_expects_0", TaskStatus.NOT_STARTED, 0, D(2027, 12, 31), MID_2026, 2027, Risk.GREEN),
    # The year is over (the task's deadline was moved past it): 100% is expected.
    ("year_past_expects_100_at_80", TaskStatus.IN_PROGRESS, 80, D(2026, 6, 30), D(2026, 3, 1), 2025, Risk.GREEN),
    ("year_past_expects_100_at_79", TaskStatus.IN_PROGRESS, 79, D(2026, 6, 30), D(2026, 3, 1), 2025, Risk.AMBER),
    ("first_day_of_year_expects_0", TaskStatus.NOT_STARTED, 0, D(2026, 12, 31), D(2026, 1, 1), 2026, Risk.GREEN),
    ("last_day_of_year_expects_100", TaskStatus.IN_PROGRESS, 79, D(2027, 3, 31), D(2026, 12, 31), 2026, Risk.AMBER),
    # 2024 is a leap year: 2 July is day 183 of 365, 50.14%, so 30% trails by more than 20 points.
    ("leap_year_2_july_at_30_is_amber", TaskStatus.IN_PROGRESS, 30, D(2024, 12, 31), D(2024, 7, 2), 2024, Risk.AMBER),
    ("leap_year_2_july_at_31_is_green", TaskStatus.IN_PROGRESS, 31, D(2024, 12, 31), D(2024, 7, 2), 2024, Risk.GREEN),
    # 29 Feb 2024 is day 59 of 365: 16.2% expected, below the gap, so nothing trails yet.
    ("leap_day_at_0_is_green", TaskStatus.NOT_STARTED, 0, D(2024, 12, 31), D(2024, 2, 29), 2024, Risk.GREEN),
    ("leap_day_due_today_is_amber", TaskStatus.IN_PROGRESS, 10, D(2024, 2, 29), D(2024, 2, 29), 2024, Risk.AMBER),
]


@pytest.mark.parametrize(
    "status, percent, due_on, today, year, expected",
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_it_marks_each_boundary(status, percent, due_on, today, year, expected, settings):
    # given
    settings.RISK_POLICY = DEFAULT_POLICY
    # when
    risk, reason = mark(status, percent, due_on, today, year)
    # then
    assert risk == expected
    assert (reason == "") == (risk in (Risk.GREEN, Risk.DONE))


@pytest.mark.parametrize(
    "status, percent, due_on, today, expected",
    [
        pytest.param(TaskStatus.IN_PROGRESS, 50, D(2026, 6, 20), MID_2026, "已逾期 12 天", id="overdue"),
        pytest.param(TaskStatus.LAGGING, 50, D(2026, 12, 31), MID_2026, "标记为滞后", id="lagging"),
        pytest.param(TaskStatus.LAGGING, 50, D(2026, 7, 1), MID_2026, "已逾期 1 天", id="overdue_wins_over_lagging"),
        pytest.param(TaskStatus.IN_PROGRESS, 60, MID_2026, MID_2026, "今天到期，进度 60%", id="due_today"),
        pytest.param(TaskStatus.IN_PROGRESS, 60, D(2026, 7, 5), MID_2026, "3 天后到期，进度 60%", id="due_soon"),
        pytest.param(
            TaskStatus.IN_PROGRESS, 25, D(2026, 12, 31), MID_2026, "进度 25%，落后时间进度 25 个百分点", id="pace"
        ),
        pytest.param(
            TaskStatus.IN_PROGRESS, 10, D(2026, 7, 10), MID_2026, "8 天后到期，进度 10%", id="due_soon_wins_over_pace"
        ),
        # 2024-07-02 is 50.14% of the year: the gap is rounded up, so it never reads as the allowed 20.
        pytest.param(
            TaskStatus.IN_PROGRESS,
            30,
            D(2024, 12, 31),
            D(2024, 7, 2),
            "进度 30%，落后时间进度 21 个百分点",
            id="pace_gap_rounded_up",
        ),
        pytest.param(TaskStatus.IN_PROGRESS, 60, D(2026, 12, 31), MID_2026, "", id="green"),
        pytest.param(TaskStatus.DONE, 100, D(2026, 1, 1), MID_2026, "", id="done"),
    ],
)
def test_it_gives_a_short_reason(status, percent, due_on, today, expected, settings):
    settings.RISK_POLICY = DEFAULT_POLICY
    assert mark(status, percent, due_on, today, year=today.year)[1] == expected


def test_it_reads_the_policy_from_settings_at_call_time(settings):
    # given: 35% at mid-year trails by 15 points, within the default 20
    args = (TaskStatus.IN_PROGRESS, 35, D(2026, 12, 31), MID_2026)
    settings.RISK_POLICY = DEFAULT_POLICY
    assert mark(*args)[0] == Risk.GREEN
    # when
    settings.RISK_POLICY = {**DEFAULT_POLICY, "pace_gap_points": 10}
    # then
    assert mark(*args)[0] == Risk.AMBER


def test_it_prefers_an_explicit_policy(settings):
    settings.RISK_POLICY = DEFAULT_POLICY
    wide = {"pace_gap_points": 20, "due_soon_days": 30, "due_soon_min_percent": 90}
    assert mark(TaskStatus.IN_PROGRESS, 85, D(2026, 7, 30), MID_2026)[0] == Risk.GREEN
    assert mark(TaskStatus.IN_PROGRESS, 85, D(2026, 7, 30), MID_2026, policy=wide)[0] == Risk.AMBER


# --- risk_annotation must agree with risk_of, row by row ----------------------------------

# Days on each side of every boundary: year ends, the leap day, mid-year pace, and the
# due dates below (due today, yesterday, in 14 and in 15 days).
TODAYS = sorted(
    {
        D(2024, 2, 29),
        D(2024, 7, 2),
        D(2024, 12, 17),
        D(2024, 12, 31),
        D(2025, 1, 1),
        D(2025, 1, 15),
        D(2025, 1, 16),
        D(2025, 6, 16),
        D(2025, 6, 17),
        D(2025, 7, 1),
        D(2025, 7, 2),
        D(2025, 12, 17),
        D(2025, 12, 18),
        D(2025, 12, 31),
        D(2026, 1, 1),
        D(2026, 1, 14),
        D(2026, 1, 15),
        D(2026, 1, 16),
        D(2026, 7, 1),
        D(2026, 7, 2),
        D(2026, 12, 16),
        D(2026, 12, 17),
        D(2026, 12, 31),
        D(2027, 1, 1),
        D(2027, 7, 2),
        D(2028, 1, 1),
    }
    | {D(2024, 1, 1) + datetime.timedelta(days=n) for n in range(0, 4 * 366, 37)}
)


@pytest.fixture
def tasks_across_years(plan, other_plan, commission):
    """Tasks in the 2024 (leap) to 2027 plans, at percents around every threshold."""
    plans = [other_plan, plan] + [
        Plan.objects.create(title=f"{year}年工作要点", year=year, issuer=commission) for year in (2024, 2027)
    ]
    open_statuses = [s for s in TaskStatus.values if s not in FINISHED]
    number = itertools.count(1)
    for p in plans:
        dues = [D(p.year, 1, 15), D(p.year, 7, 1), D(p.year, 12, 31), D(p.year + 1, 3, 31)]
        for due_on in dues:
            make_task(p, number=str(next(number)), status=TaskStatus.DONE, percent=100, due_on=due_on)
            make_task(p, number=str(next(number)), status=TaskStatus.CLOSED, percent=100, due_on=due_on)
            for status, percent in itertools.product(open_statuses, (0, 10, 29, 30, 31, 79, 80, 100)):
                if status == TaskStatus.NOT_STARTED and percent:
                    continue  # cannot exist: 未开始 is at 0 % (task_not_started_is_0_percent)
                make_task(p, number=str(next(number)), status=status, percent=percent, due_on=due_on)
    return Task.objects.select_related("plan")


@pytest.mark.django_db
@pytest.mark.parametrize("policy", [None, {"pace_gap_points": 0, "due_soon_days": 0, "due_soon_min_percent": 79.5}])
def test_it_gives_the_same_answer_in_the_database_as_in_python(tasks_across_years, policy, settings):
    settings.RISK_POLICY = DEFAULT_POLICY
    tasks = list(tasks_across_years)
    mismatches = []
    for today in TODAYS:
        # when
        in_db = dict(tasks_across_years.annotate(risk=risk_annotation(today, policy)).values_list("pk", "risk"))
        # then
        for task in tasks:
            in_python = risk_of(
                status=task.status,
                percent=task.percent,
                due_on=task.due_on,
                year_start=D(task.plan.year, 1, 1),
                year_end=task.plan.year_end,
                today=today,
                policy=policy,
            )
            if in_db[task.pk] != in_python:
                mismatches.append((today, task.plan.year, task.status, task.percent, task.due_on, in_db[task.pk]))
    assert len(in_db) == len(tasks) > 400
    assert mismatches == []
    # and every mark turns up somewhere, so the comparison is not vacuous
    marks = {
        risk
        for today in (D(2026, 1, 15), D(2026, 7, 2))
        for risk in tasks_across_years.annotate(risk=risk_annotation(today, policy)).values_list("risk", flat=True)
    }
    assert marks == set(Risk.values)


@pytest.mark.django_db
@pytest.mark.parametrize("policy", [None, {"pace_gap_points": 0, "due_soon_days": 0, "due_soon_min_percent": 79.5}])
def test_the_indexable_filter_picks_the_tasks_the_annotation_marks(tasks_across_years, policy, settings):
    """risk_q (what the list and API filters use, without CASE so an index serves it) is the
    same partition of the tasks as risk_annotation, mark by mark, on every boundary day."""
    settings.RISK_POLICY = DEFAULT_POLICY
    for today in TODAYS:
        # when
        marked = dict(tasks_across_years.annotate(risk=risk_annotation(today, policy)).values_list("pk", "risk"))
        picked = {
            risk: set(tasks_across_years.filter(risk_q(risk, today, policy)).values_list("pk", flat=True))
            for risk in Risk.values
        }
        # then
        for risk in Risk.values:
            assert picked[risk] == {pk for pk, mark in marked.items() if mark == risk}, (today, risk)
        assert sum(len(pks) for pks in picked.values()) == len(marked)


@pytest.mark.django_db
def test_it_filters_and_counts_by_risk_in_the_database(plan, settings):
    # given
    settings.RISK_POLICY = DEFAULT_POLICY
    make_task(plan, number="1", status=TaskStatus.IN_PROGRESS, percent=50, due_on=D(2026, 6, 1))
    make_task(plan, number="2", status=TaskStatus.LAGGING, percent=90, due_on=D(2026, 12, 31))
    make_task(plan, number="3", status=TaskStatus.IN_PROGRESS, percent=10, due_on=D(2026, 12, 31))
    make_task(plan, number="4", status=TaskStatus.IN_PROGRESS, percent=60, due_on=D(2026, 12, 31))
    make_task(plan, number="5", status=TaskStatus.DONE, percent=100, due_on=D(2026, 3, 1))
    # when
    annotated = Task.objects.annotate(risk=risk_annotation(MID_2026))
    # then
    assert sorted(annotated.filter(risk=Risk.RED).values_list("number", flat=True)) == ["1", "2"]
    counts = dict(annotated.order_by().values_list("risk").annotate(n=Count("pk")))
    assert counts == {Risk.RED: 2, Risk.AMBER: 1, Risk.GREEN: 1, Risk.DONE: 1}
