"""Account housekeeping jobs: expired sessions and stale lockout records."""

from celery import shared_task
from django.contrib.sessions.models import Session
from django.utils import timezone


@shared_task(acks_late=True)
def purge_expired_sessions() -> int:
    """Delete sessions past their expiry; returns how many went. Safe to run twice."""
    deleted, _by_model = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted
