"""The escalation job: the 督办单 ladder, each working-day morning (config/settings.py's
beat). On a day off it does nothing. Running it twice, or twice at once, issues each
notice once (escalation.ladder) and tells each person once (notifications: the steps'
unique delivery keys)."""

import datetime

from celery import shared_task
from django.utils import timezone

from escalation import ladder
from workdays.services import is_working_day


@shared_task(acks_late=True)
def escalate(day: str | None = None) -> dict:
    when = datetime.date.fromisoformat(day) if day else timezone.localdate()
    if not is_working_day(when):
        return {"day": when.isoformat(), "skipped": True}
    result = ladder.run(when)
    return {"day": when.isoformat(), "issued": result.issued, "closed": result.closed}
