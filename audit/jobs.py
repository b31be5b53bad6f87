"""Celery jobs of the audit trail: the retention purge."""

import datetime
import logging

from celery import shared_task
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from audit.models import MIN_RETENTION_DAYS, AuditEvent

logger = logging.getLogger(__name__)


def retention_days() -> int | None:
    """AUDIT_RETENTION_DAYS, checked again here (settings checks it at start-up): None
    keeps everything; fewer than 180 days is refused."""
    days = getattr(settings, "AUDIT_RETENTION_DAYS", None)
    if days is None:
        return None
    if days < MIN_RETENTION_DAYS:
        raise ImproperlyConfigured(
            f"AUDIT_RETENTION_DAYS={days}: audit events must be kept at least {MIN_RETENTION_DAYS} days"
        )
    return days


@shared_task(acks_late=True)
def purge_audit_events() -> int:
    """Remove the audit events older than the retention; nothing when it is unset. Safe to
    run twice (the second run finds nothing)."""
    days = retention_days()
    if days is None:
        return 0
    cutoff = timezone.now() - datetime.timedelta(days=days)
    removed = AuditEvent.objects.purge_older_than(cutoff)
    logger.info("audit purge: %d events older than %s removed", removed, cutoff.isoformat())
    return removed
