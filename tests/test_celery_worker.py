"""With Redis: a job queued through the broker runs in a real worker process and writes
its result to the database the test reads."""

import datetime
import os

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from accounts.jobs import purge_expired_sessions

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL and a real Celery worker (runs in CI)"),
]


@pytest.fixture
def worker(start_worker):
    return start_worker()


def make_session(key, expires):
    return Session.objects.create(session_key=key, session_data="e30:", expire_date=expires)


def test_a_job_queued_through_redis_runs_in_a_worker_and_writes_its_result(worker):
    # given: not eager, a real broker
    assert settings.CELERY_TASK_ALWAYS_EAGER is False
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    now = timezone.now()
    make_session("expired" + "0" * 25, now - datetime.timedelta(hours=1))
    make_session("current" + "0" * 25, now + datetime.timedelta(hours=1))
    # when
    result = purge_expired_sessions.apply_async(queue=worker)
    # then: the worker ran it, the result came back through Redis, the row is gone
    assert result.get(timeout=90) == 1
    assert list(Session.objects.values_list("session_key", flat=True)) == ["current" + "0" * 25]
