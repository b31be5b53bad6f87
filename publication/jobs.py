"""The schedule's job: each morning, a fresh snapshot for every public plan on a daily or
weekly schedule, once per day or ISO week (publication.services.run_scheduled); running
it twice, or twice at once, builds each period once."""

import datetime

from celery import shared_task
from django.utils import timezone

from publication import services


@shared_task(acks_late=True)
def publish_scheduled(day: str | None = None) -> dict:
    today = datetime.date.fromisoformat(day) if day else timezone.localdate()
    outcomes: dict[str, list[int]] = {}
    for plan_id in services.scheduled_plan_ids():
        run = services.run_scheduled(plan_id, today)
        outcomes.setdefault(run.outcome, []).append(plan_id)
    return {"day": today.isoformat(), **outcomes}
