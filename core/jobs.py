"""What every job's front door shares: queueing after the commit without hanging on a
broker that is down, and the progress answer the status pages poll."""

import logging

from celery import current_app
from django.utils.translation import gettext_lazy as _
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# Shown where a job could not be queued and the user has to start it again.
QUEUE_UNAVAILABLE = _("任务队列暂时不可用，未能开始处理，请稍后重试。")


def enqueue(job, *args, **kwargs) -> bool:
    """Queue `job` with these arguments; False (and a log line) when the broker cannot take
    it. For transaction.on_commit callbacks: the change is already committed, so a Redis
    outage must neither turn it into a 500 nor hold the request (the publish retries are
    short, CELERY_TASK_PUBLISH_RETRY_POLICY). Whoever calls it decides what happens to the
    work instead: a beat sweep picks it up later, or the row says 稍后重试."""
    if current_app.conf.task_always_eager:
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


def progress_payload(
    *, status: str, status_label, percent: int, error: str = "", next_url: str | None = None, **extra
) -> dict:
    """The JSON a status page polls (static/js/progress_poll.js): where the job stands, how
    far it is (0–100), why it failed, and where to go once it is done (`next`: the preview
    of a parsed plan, the file of a finished export). `extra` adds figures of the job's own."""
    return {
        "status": status,
        "status_label": str(status_label),
        "percent": max(0, min(100, int(percent))),
        "error": error,
        "next": next_url,
        **extra,
    }
