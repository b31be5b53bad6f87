"""Celery jobs of the reminders. Beat runs `scan_reminders` every few minutes and
`dispatch_deliveries` every minute (config/settings.py); both are cheap when there is
nothing new, and both may run twice or at once (two beats, a redelivered message): the delivery rows'
unique keys and the claim make every reminder go out once. What they queue goes through
core.jobs.enqueue: with Redis down nothing is lost, the next sweep finds the rows."""

import datetime
from functools import partial

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from core.jobs import enqueue
from notifications import steps as told
from notifications.delivery import recover_stale_claims, send_batch, sendable_batches
from notifications.rules import digests_due, scan
from notifications.rules import write_digest as write


@shared_task(acks_late=True)
def scan_reminders(day: str | None = None) -> int:
    """Write the delivery rows for `day` (ISO date; default today in Asia/Shanghai), then
    queue what is due to go out. Returns how many rows were new."""
    when = datetime.date.fromisoformat(day) if day else timezone.localdate()
    created = scan(when)
    for leader_id in digests_due(when):
        transaction.on_commit(partial(enqueue, write_digest, leader_id, when.isoformat()))
    transaction.on_commit(lambda: enqueue(dispatch_deliveries))
    return created


@shared_task(acks_late=True)
def write_digest(leader_id: int, day: str) -> int:
    """One leader's weekly digest for `day`; queues its sending."""
    created = write(leader_id, datetime.date.fromisoformat(day))
    if created:
        transaction.on_commit(lambda: enqueue(dispatch_deliveries))
    return created


@shared_task(acks_late=True)
def dispatch_deliveries() -> int:
    """Queue a send job per batch of due deliveries, after putting back rows abandoned by
    a dead worker. Returns the number of batches queued."""
    now = timezone.now()
    recover_stale_claims(now)
    batches = sendable_batches(now)
    for ids in batches:
        transaction.on_commit(partial(enqueue, send_deliveries, ids))
    return len(batches)


@shared_task(acks_late=True)
def announce_notices(step_ids: list[int]) -> int:
    """Tell the people of notices issued together (escalation's ladder, a supervisor):
    their delivery rows written (once, however often this runs), then queued for sending.
    Returns how many rows wait to go out."""
    ids = told.tell_issued(step_ids)
    if ids:
        transaction.on_commit(partial(enqueue, send_deliveries, ids))
    return len(ids)


@shared_task(acks_late=True)
def send_deliveries(ids: list[int]) -> dict[str, int]:
    return send_batch(ids)
