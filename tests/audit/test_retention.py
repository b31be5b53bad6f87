"""Retention: audit events are kept at least 180 days; AUDIT_RETENTION_DAYS (unset: for
ever) drives a daily purge of only the older rows."""

import datetime

import pytest
from django.conf import settings
from django.utils import timezone

from audit.choices import EventType
from audit.jobs import purge_audit_events
from audit.models import AuditEvent
from tests.test_settings import run_python

pytestmark = pytest.mark.django_db


def _aged(days: int) -> AuditEvent:
    return AuditEvent.objects.create(
        event_type=EventType.LOGIN, username=f"d{days}", occurred_at=timezone.now() - datetime.timedelta(days=days)
    )


def test_a_retention_below_180_days_is_refused_at_start_up(tmp_path):
    result = run_python("import django; django.setup()", tmp_path, AUDIT_RETENTION_DAYS="90")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "at least 180 days" in result.stderr


def test_a_retention_of_180_days_or_more_is_accepted(tmp_path):
    code = "import django; django.setup(); from django.conf import settings; print(settings.AUDIT_RETENTION_DAYS)"
    result = run_python(code, tmp_path, AUDIT_RETENTION_DAYS="400")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "400"


def test_unset_the_purge_removes_nothing(settings):
    settings.AUDIT_RETENTION_DAYS = None
    _aged(2000)
    assert purge_audit_events.apply().get() == 0
    assert AuditEvent.objects.count() == 1


def test_the_purge_removes_only_rows_older_than_the_retention(settings):
    # given rows 200, 365 and 400 days old and a retention of 365 days
    settings.AUDIT_RETENTION_DAYS = 365
    kept = [_aged(200), _aged(364)]
    _aged(400)
    # when the daily job runs (twice: the second finds nothing)
    assert purge_audit_events.apply().get() == 1
    assert purge_audit_events.apply().get() == 0
    # then the rows inside the retention are all still there
    assert sorted(AuditEvent.objects.values_list("pk", flat=True)) == sorted(e.pk for e in kept)


def test_the_beat_runs_the_purge_daily_with_an_expiry():
    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "audit.jobs.purge_audit_events")
    assert entry["options"]["expires"] > 0
