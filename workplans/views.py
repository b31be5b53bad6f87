"""The system admin's list of plans."""

from django.db.models import Count
from django.shortcuts import render
from django.views.decorators.http import require_safe

from core.permissions import role_required
from core.roles import Role
from workplans.models import Plan


@role_required(Role.ADMIN)
@require_safe
def plan_list(request):
    plans = Plan.objects.select_related("issuer").annotate(task_count=Count("tasks")).order_by("-year", "title")
    return render(request, "workplans/plan_list.html", {"plans": plans})
