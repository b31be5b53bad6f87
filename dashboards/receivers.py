"""What the dashboards do when other apps change plans: roll a freshly written plan's
figures up at once, so its history has today's row before the night's rollup; and after a
burst of reports (progress, readings, 督办单), have the leaders' overviews recomputed once."""

from django.db import transaction
from django.db.models.signals import post_save
from django.utils import timezone

from core.jobs import enqueue
from dashboards.jobs import rollup_snapshots, schedule_refresh
from escalation.models import Notice
from indicators.models import Reading
from tasks.models import ProgressUpdate, Task
from workplans.signals import plan_written


def on_plan_written(sender, plan_id: int, **kwargs) -> None:
    # Not queued (Redis down): the nightly rollup writes the day all the same.
    enqueue(rollup_snapshots, day=timezone.localdate().isoformat(), plan_ids=[plan_id])


def on_figures_written(sender, **kwargs) -> None:
    # Debounced (schedule_refresh queues one job per burst); the page computes figures
    # that are missing or old itself, so a refresh not queued loses nothing but time.
    transaction.on_commit(schedule_refresh)


def connect() -> None:
    plan_written.connect(on_plan_written, dispatch_uid="dashboards_rollup_written_plan")
    for model in (ProgressUpdate, Reading, Task, Notice):
        post_save.connect(on_figures_written, sender=model, dispatch_uid=f"dashboards_refresh_{model.__name__}")
