"""The export job: build one requested ledger or bulletin (registered with Celery through
dashboards.jobs, which the worker autodiscovers)."""

from celery import shared_task

from dashboards.exports.runner import run_export


@shared_task(acks_late=True, name="dashboards.jobs.build_export")
def build_export(export_id: int) -> None:
    """Generate one requested ledger or bulletin; the page polls its progress."""
    run_export(export_id)
