"""The system admin's list of plans."""

from django.db.models import Count
from django.shortcuts import render
from django.views.decorators.http import require_safe

from core.lists import listing
from core.permissions import role_required
from core.roles import Role
from workplans.filters import PlanListFilterSet
from workplans.models import Plan

PLANS_PER_PAGE = 30


@role_required(Role.ADMIN)
@require_safe
def plan_list(request):
    plans = Plan.objects.select_related("issuer").annotate(task_count=Count("tasks")).order_by("-year", "title")
    found = listing(request, PlanListFilterSet, plans, per_page=PLANS_PER_PAGE)
    context = {"page": found.page, "filters": found.filters}
    return render(request, "workplans/plan_list.html", context, status=400 if found.invalid else 200)
