"""Time travel: one task walked through its plan year, day by day, with the reminder scan
run every morning as beat would; each day's reminders are checked against the rules."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from core.roles import Role
from notifications.choices import Channel, Rule
from notifications.jobs import scan_reminders
from notifications.models import Delivery
from notifications.rules import CO_OWNER_WORKING_DAYS_BEFORE
from supervision.deadlines import co_owner_due
from supervision.progress import report_progress
from tasks.choices import TaskStatus
from tasks.models import Milestone, Task
from tests.conftest import make_task, make_user
from workdays.services import add_working_days

SHANGHAI = ZoneInfo("Asia/Shanghai")
D = datetime.date


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=SHANGHAI)


def report(task_id, user, **kwargs):
    task = Task.objects.get(pk=task_id)
    report_progress(task_id, user, based_on_version=task.version, note="本月进展", **kwargs)


@pytest.fixture
def year_task(plan, section, agency_a, agency_b, staff_a, staff_b):
    task = make_task(plan, section, "1", lead=agency_a, co_owners=[agency_b], due_on=D(2026, 6, 30))
    Milestone.objects.create(task=task, due_on=D(2026, 3, 31), text="完成实施方案")
    return task


def inbox_rows_made_on(day):
    """(rule, day offset, username) of the inbox reminders the scan on `day` wrote."""
    rows = Delivery.objects.filter(channel=Channel.INBOX, created_at__date=day)
    return {(r.rule, r.day_offset, r.recipient.username) for r in rows.select_related("recipient")}


def test_a_task_through_its_year(year_task, plan, staff_a, staff_b, agency_a, django_capture_on_commit_callbacks):
    staff_a2 = make_user("staff_a2", Role.STAFF, agency_a)
    milestone = year_task.milestones.get()
    # What staff do, at 10:00 on these days (after the morning scan).
    actions = {
        D(2026, 1, 10): lambda: report(year_task.pk, staff_a, status=TaskStatus.IN_PROGRESS, percent=10),
        D(2026, 3, 23): lambda: report(year_task.pk, staff_a, percent=20),
        D(2026, 4, 2): lambda: report(year_task.pk, staff_a, percent=35, milestone_ids=[milestone.pk]),
        D(2026, 5, 5): lambda: report(year_task.pk, staff_a, percent=50),
        D(2026, 5, 10): lambda: Task.objects.get(pk=year_task.pk).responsible_users.set([staff_a2]),
        D(2026, 7, 1): lambda: report(year_task.pk, staff_a2, percent=90),
        D(2026, 7, 25): lambda: report(year_task.pk, staff_a2, status=TaskStatus.DONE, percent=100),
    }
    # Until a 责任人 is named, every staff member of the agencies concerned hears.
    lead, both, named = {"staff_a", "staff_a2"}, {"staff_a", "staff_a2", "staff_b"}, {"staff_a2"}
    expected = {
        # February: nobody reported; reminders 1 day before the 25th and on the day, to the
        # lead and the co-owner (both owe the report). The 3-day one fell on Sunday the 22nd:
        # a day off (workdays), when reminders that can wait are not sent.
        D(2026, 2, 24): {(Rule.REPORT_DUE, -1, u) for u in both},
        D(2026, 2, 25): {(Rule.REPORT_DUE, 0, u) for u in both},
        # March: reported on the 23rd, before any reminder (the 3-day one, on Sunday the 22nd,
        # was not sent).
        # The milestone, to the lead: 7 and 1 days before, then daily once late, until done.
        D(2026, 3, 24): {(Rule.MILESTONE_DUE, -7, u) for u in lead},
        D(2026, 3, 30): {(Rule.MILESTONE_DUE, -1, u) for u in lead},
        D(2026, 4, 1): {(Rule.MILESTONE_OVERDUE, 1, u) for u in lead},
        D(2026, 4, 2): {(Rule.MILESTONE_OVERDUE, 2, u) for u in lead},
        # From 10 May a 责任人 is named: from then on only they are reminded.
        D(2026, 6, 22): {(Rule.REPORT_DUE, -3, u) for u in named},
        D(2026, 6, 23): {(Rule.TASK_DUE, -7, u) for u in named},
        D(2026, 6, 24): {(Rule.REPORT_DUE, -1, u) for u in named},
        D(2026, 6, 25): {(Rule.REPORT_DUE, 0, u) for u in named},
        D(2026, 6, 29): {(Rule.TASK_DUE, -1, u) for u in named},
        # Overdue: daily for a week, then weekly, until the task is done on 25 July.
        **{D(2026, 7, n): {(Rule.TASK_OVERDUE, n, u) for u in named} for n in range(1, 8)},
        D(2026, 7, 14): {(Rule.TASK_OVERDUE, 14, u) for u in named},
        D(2026, 7, 21): {(Rule.TASK_OVERDUE, 21, u) for u in named},
    }

    # The co-owner never gives its input (配合单位反馈): its staff are reminded some working
    # days before the co-owners' due day, every month until the task is done.
    for month in range(1, 8):
        due = co_owner_due(D(2026, month, 25))
        chased = add_working_days(due, -CO_OWNER_WORKING_DAYS_BEFORE)
        expected.setdefault(chased, set()).add((Rule.CO_OWNER_DUE, (chased - due).days, "staff_b"))

    day = D(2026, 1, 1)
    seen = {}
    while day <= D(2026, 12, 31):
        with time_machine.travel(at(day, 9), tick=False), django_capture_on_commit_callbacks(execute=True):
            scan_reminders.delay()
            # A second run the same day (beat runs every ten minutes) adds nothing.
            scan_reminders.delay()
        made = inbox_rows_made_on(day)
        if made:
            seen[day] = made
        if day in actions:
            with time_machine.travel(at(day, 10), tick=False):
                actions[day]()
        day += datetime.timedelta(days=1)

    assert seen == expected
    # Every inbox row became exactly one inbox item.
    assert Delivery.objects.filter(channel=Channel.INBOX).count() == sum(len(v) for v in expected.values())
    assert staff_a.notifications.count() == sum(1 for rows in expected.values() for r in rows if r[2] == "staff_a")


def test_due_in_one_day_means_the_calendar_day_in_shanghai(year_task):
    # 23:59 on 22 June in Shanghai is 15:59 UTC: still the 22nd, seven days and a bit before.
    with time_machine.travel(at(D(2026, 6, 22), 23, 59), tick=False):
        scan_reminders.delay()
    assert not Delivery.objects.filter(rule=Rule.TASK_DUE).exists()
    # One minute past midnight on the 23rd in Shanghai (still the 22nd in UTC): due in 7 days.
    with time_machine.travel(at(D(2026, 6, 23), 0, 1), tick=False):
        scan_reminders.delay()
    rows = Delivery.objects.filter(rule=Rule.TASK_DUE)
    assert {(r.due_on, r.day_offset) for r in rows} == {(D(2026, 6, 30), -7)}


def test_overdue_reminders_thin_out_to_weekly(year_task):
    days = []
    day = D(2026, 7, 1)
    while day <= D(2026, 9, 30):
        with time_machine.travel(at(day, 9), tick=False):
            scan_reminders.delay()
        day += datetime.timedelta(days=1)
    for row in Delivery.objects.filter(rule=Rule.TASK_OVERDUE, channel=Channel.INBOX).order_by("due_on", "day_offset"):
        days.append(row.day_offset)
    assert days == [1, 2, 3, 4, 5, 6, 7, 14, 21, 28, 35, 42, 49, 56, 63, 70, 77, 84, 91]
