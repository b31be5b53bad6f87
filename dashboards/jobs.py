"""Celery jobs of the dashboards: the nightly (and after-import) rollup, the leaders'
overviews computed ahead of their looks, and export files (built on request, expired by beat)."""

import datetime
import logging

from celery import current_app, shared_task
from django.core.cache import cache
from django.utils import timezone
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

from dashboards.exports.jobs import build_export, expire_exports
from dashboards.pages import precompute_overviews
from dashboards.rollup import rollup_day
from workdays.services import is_working_day

__all__ = ["build_export", "expire_exports", "refresh_overviews", "rollup_snapshots", "schedule_refresh"]

logger = logging.getLogger(__name__)

# In working hours beat recomputes the overviews this often (the "keep-overviews-warm"
# entry of config.settings' CELERY_BEAT_SCHEDULE; tests/dashboards/test_overview.py holds
# the two together), so that none has aged past DASHBOARD_CACHE_SECONDS (300 s by default)
# when a leader looks.
KEEP_WARM_SECONDS = 120
WORKING_HOURS = (7, 19)  # local hours, on working days
PENDING_KEY = "dashboard:refresh:pending"  # set while one refresh is queued
RUNNING_KEY = "dashboard:refresh:running"  # set while one refresh runs
REFRESHED_KEY = "dashboard:refresh:last"  # when the last refresh started
MIN_INTERVAL_SECONDS = 30
RUNNING_FOR_AT_MOST = 30 * 60  # a worker that died mid-refresh frees the claim after this


def schedule_refresh() -> bool:
    """Queue refresh_overviews unless one is queued already: however many reports a burst
    brings, one refresh follows, and refresh_overviews computes at most once per
    MIN_INTERVAL_SECONDS. Queued for now, never with a countdown: a worker holds a delayed
    message unacknowledged, and kombu's Redis transport loses the worker when the broker
    goes away while it holds one (tests/faults/test_redis_outage.py). Without a worker (no
    broker: the embedded run, the tests) nothing is queued and each page computes its own
    figures when they are missing or old. True when a job was queued by this call."""
    if not has_worker():
        return False
    if not cache.add(PENDING_KEY, timezone.now().isoformat(), RUNNING_FOR_AT_MOST):
        return False
    try:
        refresh_overviews.apply_async(ignore_result=True)
    except (OperationalError, RedisError, OSError) as error:
        cache.delete(PENDING_KEY)
        logger.warning("refresh_overviews not queued, the broker is unavailable: %r", error)
        return False
    return True


def has_worker() -> bool:
    """Whether jobs go to a worker (a broker is configured) rather than run in place."""
    return not current_app.conf.task_always_eager


def in_working_hours(now: datetime.datetime) -> bool:
    local = timezone.localtime(now)
    return is_working_day(local.date()) and WORKING_HOURS[0] <= local.hour < WORKING_HOURS[1]


@shared_task(acks_late=True)
def refresh_overviews(scheduled: bool = False) -> int:
    """Recompute this year's overview of every leader's scope (pages.precompute_overviews)
    and keep it in the cache. One runs at a time (a second, redelivered or queued by a burst
    meanwhile, finds the claim and leaves: the running one's figures are as new). Beat runs
    it every KEEP_WARM_SECONDS (scheduled=True), which does nothing outside working hours, so
    that in working hours no overview ages out while leaders look, reports or not.
    Returns the scopes computed (0: another refresh was running, or out of hours)."""
    now = timezone.now()
    if scheduled and not in_working_hours(now):
        return 0
    if not scheduled:
        cache.delete(PENDING_KEY)  # reports from now on queue the next refresh
    # However often it is asked (beat, rollups, bursts), it computes at most once per
    # MIN_INTERVAL, and beat's run only when nothing else has within KEEP_WARM_SECONDS: a
    # refresh must never crowd the reminders and exports off the workers.
    last = cache.get(REFRESHED_KEY)
    since = (now - datetime.datetime.fromisoformat(last)).total_seconds() if last else None
    if since is not None and since < (KEEP_WARM_SECONDS if scheduled else MIN_INTERVAL_SECONDS):
        return 0
    if not cache.add(RUNNING_KEY, now.isoformat(), RUNNING_FOR_AT_MOST):
        return 0
    try:
        computed = precompute_overviews(timezone.localdate())
    finally:
        cache.delete(RUNNING_KEY)
    cache.set(REFRESHED_KEY, now.isoformat(), KEEP_WARM_SECONDS * 10)
    return computed


@shared_task(acks_late=True)
def rollup_snapshots(day: str | None = None, plan_ids: list[int] | None = None) -> int:
    """Write the snapshots of `day` (ISO date; default yesterday, the last full day) for
    every active plan, or only `plan_ids`, then have the overviews recomputed (their trend
    reads the new rows). Safe to run twice: a day's rows are replaced."""
    when = datetime.date.fromisoformat(day) if day else timezone.localdate() - datetime.timedelta(days=1)
    written = rollup_day(when, plan_ids=plan_ids)
    schedule_refresh()
    return written
