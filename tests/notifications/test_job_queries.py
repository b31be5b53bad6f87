"""The reminder job's cost in queries follows the people it writes to, not the reminders:
a day with four times the tasks and three times the recipients runs the same statements
(the scan, the dispatch and the sending of every batch), so a year-end peak costs what an
ordinary day costs in round trips."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.roles import Role
from notifications.choices import Channel, DeliveryState
from notifications.delivery import send_batch, sendable_batches
from notifications.models import Delivery, Notification, Preference, Robot
from notifications.rules import scan
from tests.conftest import make_task, make_user
from workdays.services import is_working_day

SHANGHAI = ZoneInfo("Asia/Shanghai")
DUE = datetime.date(2026, 6, 30)
SCAN_AT = datetime.datetime(2026, 6, 23, 0, 5, tzinfo=SHANGHAI)  # seven days before
SEND_AT = datetime.datetime(2026, 6, 23, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture
def big_batches(settings):
    # One batch for the whole day, whatever its size: the count compared is the job's,
    # not a number of batches.
    settings.REMINDERS = {**settings.REMINDERS, "batch_size": 10_000}


def run_the_job() -> int:
    """Scan, dispatch and send every batch at their times; the queries all of it ran."""
    with CaptureQueriesContext(connection) as queries:
        with time_machine.travel(SCAN_AT, tick=False):
            scan(now=SCAN_AT)
        with time_machine.travel(SEND_AT, tick=False):
            for ids in sendable_batches(SEND_AT):
                send_batch(ids, SEND_AT)
    return len(queries.captured_queries)


def test_it_runs_the_same_queries_for_four_times_the_tasks_and_three_times_the_people(
    big_batches, plan, section, agency_a, agency_b, webhook_server
):
    # given: one person who wants email and a group robot, the rest read the inbox only
    reader = make_user("reader", Role.STAFF, agency_a, email="reader@example.org", phone="13800000001")
    Preference.objects.create(user=reader, wecom=True)
    Robot.objects.create(agency=agency_a, kind=Channel.WECOM, name="工作群", webhook_url=webhook_server.wecom_url)
    is_working_day(SCAN_AT.date())  # the calendar's year is read once per process

    def day_with(tasks: int, people: int, start: int) -> tuple[int, int]:
        for i in range(people):
            make_user(f"inbox_{start}_{i}", Role.STAFF, agency_a if i % 2 else agency_b)
        for n in range(tasks):
            make_task(plan, section, str(start + n), lead=agency_a if n % 2 else agency_b, due_on=DUE)
        Notification.objects.all().delete()
        Delivery.objects.all().delete()
        mail.outbox = []
        webhook_server.reset()
        # when
        queries = run_the_job()
        # then: everything went out
        assert set(Delivery.objects.values_list("state", flat=True)) == {DeliveryState.SENT}
        assert len(mail.outbox) == 1 and len(webhook_server.requests_for("wecom")) == 1
        return queries, Delivery.objects.count()

    few, few_rows = day_with(10, 2, 100)
    many, many_rows = day_with(40, 6, 200)

    # four times the tasks, and their reminders to three times the people: many more rows…
    assert many_rows > 4 * few_rows
    # …the same statements
    assert few == many
