"""What the dashboards do when other apps change plans: roll a freshly written plan's
figures up at once, so its history has today's row before the night's rollup."""

from django.utils import timezone

from core.jobs import enqueue
from dashboards.jobs import rollup_snapshots
from workplans.signals import plan_written


def on_plan_written(sender, plan_id: int, **kwargs) -> None:
    # Not queued (Redis down): the nightly rollup writes the day all the same.
    enqueue(rollup_snapshots, day=timezone.localdate().isoformat(), plan_ids=[plan_id])


def connect() -> None:
    plan_written.connect(on_plan_written, dispatch_uid="dashboards_rollup_written_plan")
