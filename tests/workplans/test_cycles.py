"""Reporting cycles: their windows, due days and labels, and which updates count as a report."""

import datetime

import pytest
from django.utils import timezone

from workplans.choices import ReportingCycle
from workplans.cycles import Cycle, current_cycle, cycle_for, is_reported, previous_cycle
from workplans.models import Plan

D = datetime.date
MONTHLY, QUARTERLY = ReportingCycle.MONTHLY, ReportingCycle.QUARTERLY


@pytest.mark.parametrize(
    "cycle, due_day, day, expected",
    [
        pytest.param(MONTHLY, 25, D(2026, 1, 31), (D(2026, 1, 1), D(2026, 1, 31), D(2026, 1, 25)), id="jan_31"),
        pytest.param(MONTHLY, 25, D(2026, 1, 1), (D(2026, 1, 1), D(2026, 1, 31), D(2026, 1, 25)), id="jan_1"),
        pytest.param(MONTHLY, 28, D(2026, 2, 28), (D(2026, 2, 1), D(2026, 2, 28), D(2026, 2, 28)), id="feb_28"),
        pytest.param(MONTHLY, 28, D(2024, 2, 29), (D(2024, 2, 1), D(2024, 2, 29), D(2024, 2, 28)), id="feb_29_leap"),
        pytest.param(MONTHLY, 1, D(2026, 3, 1), (D(2026, 3, 1), D(2026, 3, 31), D(2026, 3, 1)), id="due_day_1"),
        pytest.param(MONTHLY, 10, D(2026, 4, 30), (D(2026, 4, 1), D(2026, 4, 30), D(2026, 4, 10)), id="april_30"),
        pytest.param(MONTHLY, 25, D(2026, 12, 31), (D(2026, 12, 1), D(2026, 12, 31), D(2026, 12, 25)), id="dec_31"),
        pytest.param(QUARTERLY, 25, D(2026, 1, 1), (D(2026, 1, 1), D(2026, 3, 31), D(2026, 3, 25)), id="q1_first_day"),
        pytest.param(QUARTERLY, 25, D(2026, 3, 31), (D(2026, 1, 1), D(2026, 3, 31), D(2026, 3, 25)), id="q1_last_day"),
        pytest.param(QUARTERLY, 25, D(2026, 4, 1), (D(2026, 4, 1), D(2026, 6, 30), D(2026, 6, 25)), id="q2_first_day"),
        pytest.param(QUARTERLY, 28, D(2026, 9, 30), (D(2026, 7, 1), D(2026, 9, 30), D(2026, 9, 28)), id="q3_due_28"),
        pytest.param(QUARTERLY, 1, D(2026, 10, 1), (D(2026, 10, 1), D(2026, 12, 31), D(2026, 12, 1)), id="q4_due_1"),
        pytest.param(QUARTERLY, 25, D(2026, 12, 31), (D(2026, 10, 1), D(2026, 12, 31), D(2026, 12, 25)), id="q4_end"),
    ],
)
def test_it_finds_the_cycle_containing_a_day(cycle, due_day, day, expected):
    # when
    found = cycle_for(cycle, due_day, day)
    # then
    assert (found.start, found.end, found.due_on) == expected
    assert found.contains(day)
    assert found.contains(found.due_on)
    assert not found.contains(found.start - datetime.timedelta(days=1))
    assert not found.contains(found.end + datetime.timedelta(days=1))


@pytest.mark.parametrize(
    "cycle, day, label",
    [
        pytest.param(MONTHLY, D(2026, 11, 5), "2026年11月", id="monthly"),
        pytest.param(MONTHLY, D(2026, 1, 5), "2026年1月", id="monthly_no_leading_zero"),
        pytest.param(QUARTERLY, D(2026, 11, 5), "2026年第4季度", id="quarterly"),
        pytest.param(QUARTERLY, D(2026, 2, 5), "2026年第1季度", id="quarterly_q1"),
    ],
)
def test_it_labels_cycles_in_chinese(cycle, day, label):
    assert cycle_for(cycle, 25, day).label == label


@pytest.mark.parametrize(
    "cycle, day, expected_start, expected_end, expected_label",
    [
        pytest.param(MONTHLY, D(2026, 1, 15), D(2025, 12, 1), D(2025, 12, 31), "2025年12月", id="monthly_year"),
        pytest.param(MONTHLY, D(2024, 3, 15), D(2024, 2, 1), D(2024, 2, 29), "2024年2月", id="monthly_leap_feb"),
        pytest.param(QUARTERLY, D(2026, 2, 15), D(2025, 10, 1), D(2025, 12, 31), "2025年第4季度", id="quarterly_year"),
        pytest.param(QUARTERLY, D(2026, 7, 1), D(2026, 4, 1), D(2026, 6, 30), "2026年第2季度", id="quarterly_mid"),
    ],
)
def test_it_finds_the_previous_cycle(cycle, day, expected_start, expected_end, expected_label):
    # given
    current = cycle_for(cycle, 20, day)
    # when
    previous = previous_cycle(current, cycle, 20)
    # then
    assert (previous.start, previous.end, previous.label) == (expected_start, expected_end, expected_label)
    assert previous.end + datetime.timedelta(days=1) == current.start
    assert previous.due_on.day == 20


def test_it_uses_the_plans_cycle_and_due_day():
    plan = Plan(year=2026, reporting_cycle=QUARTERLY, report_due_day=15)
    assert current_cycle(plan, D(2026, 5, 20)) == cycle_for(QUARTERLY, 15, D(2026, 5, 20))
    assert current_cycle(plan, D(2026, 5, 20)).due_on == D(2026, 6, 15)


def test_it_defaults_to_the_local_date(monkeypatch):
    # given
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: D(2026, 11, 30))
    plan = Plan(year=2026, reporting_cycle=MONTHLY, report_due_day=25)
    # then
    assert current_cycle(plan).label == "2026年11月"


@pytest.mark.parametrize(
    "cycle, due_day",
    [
        pytest.param(MONTHLY, 0, id="due_day_0"),
        pytest.param(MONTHLY, 29, id="due_day_29"),
        pytest.param("weekly", 25, id="unknown_cycle"),
    ],
)
def test_it_rejects_what_the_plan_does_not_allow(cycle, due_day):
    with pytest.raises(ValueError, match=r"report_due_day must be 1–28|unknown reporting cycle"):
        cycle_for(cycle, due_day, D(2026, 1, 1))


UTC = datetime.UTC
MARCH = cycle_for(MONTHLY, 25, D(2026, 3, 1))
APRIL = cycle_for(MONTHLY, 25, D(2026, 4, 1))
Q1 = cycle_for(QUARTERLY, 25, D(2026, 1, 1))
Q2 = cycle_for(QUARTERLY, 25, D(2026, 4, 1))


@pytest.mark.parametrize(
    "last_progress_at, cycle, expected",
    [
        pytest.param(None, MARCH, False, id="never_updated"),
        pytest.param(datetime.datetime(2026, 3, 10, 2, 0, tzinfo=UTC), MARCH, True, id="within"),
        pytest.param(datetime.datetime(2026, 2, 28, 12, 0, tzinfo=UTC), MARCH, False, id="before"),
        # 16:30 UTC on 28 Feb is 00:30 on 1 March in Shanghai: the first minutes of March count.
        pytest.param(datetime.datetime(2026, 2, 28, 16, 30, tzinfo=UTC), MARCH, True, id="first_local_minutes"),
        # 23:30 UTC on 31 March is 07:30 on 1 April in Shanghai: it is April's report, not March's.
        pytest.param(datetime.datetime(2026, 3, 31, 23, 30, tzinfo=UTC), MARCH, False, id="late_utc_not_last_month"),
        pytest.param(datetime.datetime(2026, 3, 31, 23, 30, tzinfo=UTC), APRIL, True, id="late_utc_is_next_month"),
        pytest.param(datetime.datetime(2026, 3, 31, 23, 30, tzinfo=UTC), Q1, False, id="late_utc_not_last_quarter"),
        pytest.param(datetime.datetime(2026, 3, 31, 23, 30, tzinfo=UTC), Q2, True, id="late_utc_is_next_quarter"),
        pytest.param(datetime.datetime(2026, 3, 31, 15, 59, tzinfo=UTC), MARCH, True, id="last_local_minute"),
    ],
)
def test_it_counts_an_update_made_within_the_cycle_as_reported(last_progress_at, cycle, expected):
    assert is_reported(last_progress_at, cycle) is expected


def test_it_is_a_frozen_value():
    cycle = Cycle(start=D(2026, 1, 1), end=D(2026, 1, 31), due_on=D(2026, 1, 25), label="2026年1月")
    assert cycle == cycle_for(MONTHLY, 25, D(2026, 1, 9))
    with pytest.raises(AttributeError):
        cycle.label = "x"
