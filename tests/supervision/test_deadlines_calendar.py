"""Time travel over the 2026 National Day holiday: the loop's deadlines count working days
on the calendar in the database — holidays skipped, the make-up Saturday (10-10) and the
make-up Sunday (09-20) counted."""

import datetime

import pytest

from core.roles import Role
from supervision import reports, requests
from supervision.choices import RequestKind
from supervision.deadlines import co_owner_due
from tests.fixtures.accounts import make_user
from workdays.choices import DayKind
from workdays.models import CalendarDay
from workplans.choices import PlanStatus

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture
def national_day_2026(db):
    """Mid-Autumn and National Day 2026 as the calendar has them (written here, not read
    from the package, so the test does not move when the package does)."""
    holidays = [D(2026, 9, 25), D(2026, 9, 26), D(2026, 9, 27)] + [D(2026, 10, d) for d in range(1, 8)]
    for day in holidays:
        CalendarDay.objects.create(date=day, kind=DayKind.HOLIDAY, name="国庆节")
    for day in (D(2026, 9, 20), D(2026, 10, 10)):
        CalendarDay.objects.create(date=day, kind=DayKind.WORKDAY, name="国庆节")


@pytest.fixture
def active_task(task):
    task.plan.status = PlanStatus.ACTIVE
    task.plan.requires_unit_signoff = True
    task.plan.save()
    return task


def _submit(task, staff, today):
    task.refresh_from_db()
    return reports.submit_report(
        task.pk,
        staff,
        version=None,
        task_version=task.version,
        progress="推进中",
        problems="无",
        next_steps="继续推进",
        today=today,
    )


def test_a_review_received_before_the_holiday_is_due_on_the_make_up_saturday(
    national_day_2026, active_task, staff_a, agency_a
):
    head = make_user("head_a", Role.LEADER, agency_a)
    report = _submit(active_task, staff_a, D(2026, 9, 29))
    # Sign-off: 2 working days from Tue 09-29 → Wed 09-30, then the holiday → Thu 10-08.
    assert report.decision_due_on == D(2026, 10, 8)
    reports.sign_off(report.pk, head, version=report.version, approve=True, today=D(2026, 9, 30))
    report.refresh_from_db()
    # Review: 3 working days from Wed 09-30 → 10-08, 10-09, and the make-up Saturday 10-10.
    assert report.decision_due_on == D(2026, 10, 10)


def test_the_make_up_sunday_counts_and_the_mid_autumn_days_do_not(national_day_2026, active_task, staff_a):
    active_task.plan.requires_unit_signoff = False
    active_task.plan.save()
    report = _submit(active_task, staff_a, D(2026, 9, 18))
    # Review from Fri 09-18: Sun 09-20 (make-up) is the first working day, then 09-21, 09-22.
    assert report.decision_due_on == D(2026, 9, 22)
    report2_day = D(2026, 9, 24)
    active_task2 = active_task
    request = requests.file_request(
        active_task2.pk,
        staff_a,
        kind=RequestKind.DELAY,
        reason="设备延迟到货",
        proposed_due_on=D(2027, 3, 31),
        today=report2_day,
    )
    # The unit's step: 2 working days from Thu 09-24 → Mon 09-28 (09-25..27 Mid-Autumn) and Tue 09-29.
    assert request.decision_due_on == D(2026, 9, 29)


def test_co_owners_are_due_working_days_before_the_lead(national_day_2026):
    # The lead's day Mon 10-12: back over Sun 10-11 (off), the make-up Sat 10-10, Fri 10-09, Thu 10-08.
    assert co_owner_due(D(2026, 10, 12)) == D(2026, 10, 8)
    # Without a holiday in the way: Fri 2026-06-26 → Tue 06-23.
    assert co_owner_due(D(2026, 6, 26)) == D(2026, 6, 23)
