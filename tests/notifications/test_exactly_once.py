"""The reminder jobs run twice, concurrently, on PostgreSQL: every reminder is written
once and delivered once."""

import datetime
import threading
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import connection

from core.roles import Role
from notifications.choices import Channel, DeliveryState
from notifications.delivery import send_batch, sendable_batches
from notifications.models import Delivery, Notification
from notifications.rules import scan
from tests.conftest import make_task, make_user

SHANGHAI = ZoneInfo("Asia/Shanghai")
MOMENT = datetime.datetime(2026, 6, 23, 9, 0, tzinfo=SHANGHAI)  # seven days before 30 June

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's row locks to race for real"),
    pytest.mark.django_db(transaction=True),
]


def run_together(work, n=2):
    barrier = threading.Barrier(n)
    errors = []

    def one():
        try:
            barrier.wait(timeout=10)
            work()
        except Exception as error:
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=one) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []


def test_two_scans_and_two_senders_at_once_deliver_each_reminder_once(plan, section, agency_a, agency_b):
    people = [
        make_user(f"staff_{i}", Role.STAFF, agency_a if i % 2 else agency_b, email=f"staff_{i}@example.org")
        for i in range(6)
    ]
    for n in range(40):
        make_task(plan, section, str(n + 1), lead=agency_a if n % 2 else agency_b, due_on=datetime.date(2026, 6, 30))

    with time_machine.travel(MOMENT, tick=False):
        run_together(lambda: scan(now=MOMENT))
        # 40 tasks, each to the 3 staff of its lead agency, on two channels.
        assert Delivery.objects.filter(channel=Channel.INBOX).count() == 120
        assert Delivery.objects.filter(channel=Channel.EMAIL).count() == 120

        def send_everything():
            # Both senders see the same batches (as two dispatch runs would) and race for them.
            for ids in sendable_batches(MOMENT):
                send_batch(ids, MOMENT)

        run_together(send_everything)

    assert set(Delivery.objects.values_list("state", flat=True)) == {DeliveryState.SENT}
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {1}
    assert Notification.objects.count() == 120
    assert Notification.objects.values("delivery").distinct().count() == 120
    # Each of the 120 email reminders is in exactly one email; each person got theirs.
    assert sum(message.body.count("任务还有7天到期") for message in mail.outbox) == 120
    assert {address for message in mail.outbox for address in message.to} == {p.email for p in people}
