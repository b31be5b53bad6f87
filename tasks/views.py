"""Staff pages: 我的任务."""

from django.core.paginator import Paginator
from django.shortcuts import render

from accounts.choices import Role
from accounts.permissions import role_required
from tasks.services import tasks_owned_by


@role_required(Role.STAFF)
def my_tasks(request):
    tasks = (
        tasks_owned_by([request.user.agency_id])
        .select_related("plan", "section")
        .order_by("due_on", "plan_id", "order", "id")
    )
    page = Paginator(tasks, 50).get_page(request.GET.get("page"))
    return render(request, "tasks/my_tasks.html", {"page": page})
