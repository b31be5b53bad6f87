"""Celery jobs of the API: purging the Idempotency-Key answers past their time."""

import logging

from celery import shared_task
from django.utils import timezone

from api.idempotency import KEEP_FOR
from api.models import IdempotencyKey

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def purge_idempotency_keys() -> int:
    """Delete the kept answers older than KEEP_FOR; returns how many went. Safe to run twice
    or side by side (a delete by age: the second run finds nothing). A request that meets
    an expired row before this runs takes the row over (api.idempotency.begin)."""
    cutoff = timezone.now() - KEEP_FOR
    deleted, _by_model = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    logger.info("idempotency purge: %d answers older than %s removed", deleted, cutoff.isoformat())
    return deleted
