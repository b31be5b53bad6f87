"""The export jobs: build one requested ledger or bulletin, and expire old files
(registered with Celery through dashboards.jobs, which the worker autodiscovers)."""

from celery import shared_task

from dashboards.exports import expiry
from dashboards.exports.runner import run_export


@shared_task(acks_late=True, name="dashboards.jobs.build_export")
def build_export(export_id: int) -> None:
    """Generate one requested ledger or bulletin; the page polls its progress."""
    run_export(export_id)


@shared_task(acks_late=True, name="dashboards.jobs.expire_exports")
def expire_exports() -> int:
    """Delete the files of exports older than EXPORT_RETENTION_DAYS and mark them 已过期;
    returns how many were expired. Safe to run twice (the second run finds nothing)."""
    return expiry.expire_exports()
