"""Task rules shared by pages, jobs and the API: which tasks a user's agency owns."""

from django.db.models import Exists, OuterRef, QuerySet

from tasks.choices import OwnerRole
from tasks.models import Task, TaskOwner
from workplans.choices import PlanStatus


def tasks_owned_by(agency_ids, *, active_only: bool = True) -> QuerySet[Task]:
    """Tasks any of `agency_ids` owns as lead or co-owner, each once, with the agency's role."""
    ownership = TaskOwner.objects.filter(task=OuterRef("pk"), agency_id__in=agency_ids)
    tasks = Task.objects.filter(Exists(ownership)).annotate(
        is_lead=Exists(ownership.filter(role=OwnerRole.LEAD))
    )
    if active_only:
        tasks = tasks.filter(plan__status=PlanStatus.ACTIVE)
    return tasks
