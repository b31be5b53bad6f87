"""Non-urgent reminders wait for a working day; urgent and overdue ones do not."""

import datetime

import pytest

from core.roles import Role
from notifications.choices import Channel, Rule
from notifications.models import Delivery
from notifications.rules import digests_due, scan
from tests.conftest import make_task, make_user

D = datetime.date
SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))

pytestmark = pytest.mark.django_db


def reminders_written_on(day):
    scan(day, datetime.datetime.combine(day, datetime.time(9), tzinfo=SHANGHAI))
    rows = Delivery.objects.filter(channel=Channel.INBOX, created_at__date=day)
    return {(row.rule, row.due_on, row.day_offset) for row in rows}


@pytest.fixture
def tasks(plan, section, agency_a, staff_a):
    due = [D(2026, 10, 8), D(2026, 10, 2), D(2026, 9, 30), D(2026, 10, 17), D(2026, 10, 18)]
    return [make_task(plan, section, str(n), lead=agency_a, due_on=day) for n, day in enumerate(due, start=1)]


def test_on_national_day_only_the_urgent_and_the_overdue_are_written(national_day, tasks):
    assert reminders_written_on(D(2026, 10, 1)) == {
        (Rule.TASK_DUE, D(2026, 10, 2), -1),  # due tomorrow: urgent
        (Rule.TASK_OVERDUE, D(2026, 9, 30), 1),  # already late
        # not the 7-day heads-up for the task due on 8 October
    }


def test_on_the_make_up_saturday_reminders_go_out_as_on_any_working_day(national_day, tasks):
    assert reminders_written_on(D(2026, 10, 10)) == {
        (Rule.TASK_DUE, D(2026, 10, 17), -7),  # the heads-up, on a Saturday worked
        (Rule.TASK_OVERDUE, D(2026, 10, 8), 2),
    }


def test_on_an_ordinary_sunday_the_heads_up_waits(national_day, tasks):
    # Sunday 11 October: the 7-day reminder of the task due on the 18th is not written.
    assert (Rule.TASK_DUE, D(2026, 10, 18), -7) not in reminders_written_on(D(2026, 10, 11))


def test_the_digest_moves_to_the_first_working_day_of_its_week(national_day, commission):
    leader = make_user("leader_digest", Role.LEADER, commission)
    # Monday 5 October is a holiday, as are Tuesday and Wednesday: the digest comes on Thursday.
    assert digests_due(D(2026, 10, 5)) == []
    assert digests_due(D(2026, 10, 8)) == [leader.pk]
    assert digests_due(D(2026, 10, 9)) == []
    # An ordinary Monday keeps it.
    assert digests_due(D(2026, 10, 12)) == [leader.pk]
