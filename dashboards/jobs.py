"""Celery jobs of the dashboards: the nightly (and after-import) rollup, and export files
(built on request, expired by beat)."""

import datetime

from celery import shared_task
from django.utils import timezone

from dashboards.exports.jobs import build_export, expire_exports
from dashboards.rollup import rollup_day

__all__ = ["build_export", "expire_exports", "rollup_snapshots"]


@shared_task(acks_late=True)
def rollup_snapshots(day: str | None = None, plan_ids: list[int] | None = None) -> int:
    """Write the snapshots of `day` (ISO date; default yesterday, the last full day) for
    every active plan, or only `plan_ids`. Safe to run twice: a day's rows are replaced."""
    when = datetime.date.fromisoformat(day) if day else timezone.localdate() - datetime.timedelta(days=1)
    return rollup_day(when, plan_ids=plan_ids)
