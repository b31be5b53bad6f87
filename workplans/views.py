"""Admin pages: the list of plans."""

from django.db.models import Count
from django.shortcuts import render

from accounts.choices import Role
from accounts.permissions import role_required
from workplans.models import Plan


@role_required(Role.ADMIN)
def plan_list(request):
    plans = Plan.objects.select_related("issuer").annotate(task_count=Count("tasks")).order_by("-year", "title")
    return render(request, "workplans/plan_list.html", {"plans": plans})
