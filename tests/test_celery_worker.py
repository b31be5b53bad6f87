"""With Redis: a job queued through the broker runs in a real worker process and writes
its result to the database the test reads."""

import datetime
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.utils import timezone

from accounts.jobs import purge_expired_sessions

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL and a real Celery worker (runs in CI)"),
]


def database_url_for_this_test() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker(transactional_db, tmp_path):
    """A `celery worker` process on a queue of its own, pointed at the test database."""
    queue = f"test-{uuid.uuid4().hex[:12]}"
    env = dict(os.environ, DATABASE_URL=database_url_for_this_test(), VAR_DIR=str(tmp_path))
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--concurrency=1",
         "-Q", queue, "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel=INFO"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        yield queue
    finally:
        process.terminate()
        try:
            output, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        print(output[-4000:])


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
