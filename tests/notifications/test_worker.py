"""With Redis: beat's reminder job goes through the broker to a real worker, which writes
the inbox item and sends the email."""

import datetime
import os
import time

import pytest
from django.utils import timezone

from notifications.jobs import scan_reminders
from notifications.models import Notification, Preference
from tests.conftest import make_task

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL and a real Celery worker (runs in CI)"),
]


def test_beats_reminder_job_runs_in_a_worker_and_reaches_inbox_and_mailbox(
    start_worker, tmp_path, plan, section, agency_a, staff_a
):
    mailbox = tmp_path / "mail"
    # Sending from midnight, so the email goes out whatever time CI runs.
    queue = start_worker(EMAIL_URL="filemail://", EMAIL_FILE_PATH=str(mailbox), REMINDER_SEND_FROM="00:00")
    staff_a.email = "staff_a@example.org"
    staff_a.save()
    Preference.objects.create(user=staff_a, quiet_start=datetime.time(0), quiet_end=datetime.time(0))
    # Reported this cycle and due tomorrow, so today's reminders are the due date's only,
    # whatever the date: a deadline tomorrow is announced on a day off too.
    task = make_task(
        plan,
        section,
        "7",
        lead=agency_a,
        due_on=timezone.localdate() + datetime.timedelta(days=1),
        last_progress_at=timezone.now(),
    )

    # The worker scans; the dispatch and send jobs it queues come back to it.
    assert scan_reminders.apply_async(queue=queue).get(timeout=90) == 2

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (Notification.objects.exists() and any(mailbox.glob("*.log"))):
        time.sleep(0.5)
    item = Notification.objects.get(recipient=staff_a)
    assert item.link == f"/tasks/{task.pk}/"
    assert item.title.startswith("任务还有1天到期")
    messages = [path.read_text() for path in mailbox.glob("*.log")]
    assert len(messages) == 1
    assert "To: staff_a@example.org" in messages[0]
