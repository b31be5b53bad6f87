"""The Celery app. Jobs live in each app's `jobs.py` (the app `tasks` owns the word)."""

import logging
import os

from celery import Celery
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(related_name="jobs")

logger = logging.getLogger(__name__)

# Shown where a job could not be queued and the user has to start it again.
QUEUE_UNAVAILABLE = "任务队列暂时不可用，未能开始处理，请稍后重试。"


def enqueue(job, *args, **kwargs) -> bool:
    """Queue `job` with these arguments; False (and a log line) when the broker cannot take
    it. For transaction.on_commit callbacks: the change is already committed, so a Redis
    outage must neither turn it into a 500 nor hold the request (the publish retries are
    short, CELERY_TASK_PUBLISH_RETRY_POLICY). Whoever calls it decides what happens to the
    work instead: a beat sweep picks it up later, or the row says 稍后重试."""
    if app.conf.task_always_eager:
        # No broker (the embedded default, most tests): runs here, its errors are real errors.
        job.delay(*args, **kwargs)
        return True
    try:
        # Nobody waits for these results: no result subscription per request either.
        job.apply_async(args=args, kwargs=kwargs, ignore_result=True)
    except (OperationalError, RedisError, OSError) as error:
        logger.warning("job %s not queued, the broker is unavailable: %r", job.name, error)
        return False
    return True
