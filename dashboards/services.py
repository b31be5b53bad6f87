"""Figures for leaders' dashboards, over the agencies a leader oversees."""

from django.db.models import Avg, Count, Q
from django.utils import timezone

from tasks.choices import TaskStatus
from tasks.services import tasks_owned_by


def overview_figures(agency_ids, today=None) -> dict:
    """Counts by status, overdue count and mean percent of the active tasks in scope."""
    today = today or timezone.localdate()
    tasks = tasks_owned_by(agency_ids)
    by_status = {row["status"]: row["n"] for row in tasks.values("status").annotate(n=Count("id")).order_by()}
    totals = tasks.aggregate(
        total=Count("id"),
        mean_percent=Avg("percent"),
        overdue=Count("id", filter=Q(due_on__lt=today) & ~Q(status=TaskStatus.DONE)),
    )
    return {
        "status_rows": [(label, by_status.get(value, 0)) for value, label in TaskStatus.choices],
        "total": totals["total"],
        "overdue": totals["overdue"],
        "mean_percent": round(totals["mean_percent"] or 0, 1),
    }
