"""Housekeeping jobs, run in-process."""

import datetime

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from accounts.jobs import purge_expired_sessions

pytestmark = pytest.mark.django_db


def test_purging_removes_only_expired_sessions_and_is_safe_to_repeat():
    now = timezone.now()
    Session.objects.create(session_key="a" * 32, session_data="e30:", expire_date=now - datetime.timedelta(minutes=1))
    Session.objects.create(session_key="b" * 32, session_data="e30:", expire_date=now + datetime.timedelta(minutes=29))
    assert purge_expired_sessions.delay().get() == 1
    assert purge_expired_sessions.delay().get() == 0
    assert list(Session.objects.values_list("session_key", flat=True)) == ["b" * 32]


def test_the_nightly_purge_is_scheduled_with_an_expiry():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["purge-expired-sessions"]
    assert entry["task"] == "accounts.jobs.purge_expired_sessions"
    assert entry["options"]["expires"] > 0
