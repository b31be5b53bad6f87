"""Leader pages: the overview of the agencies a leader oversees (admins: everything), with
rollups by plan, section and agency that drill down to the tasks behind each figure, and
the open 督办单 per addressee and level that drill down to the 督办 page."""

from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from accounts.services import scope_agency_ids
from core.permissions import role_required
from core.roles import OVERSIGHT_ROLES
from dashboards.models import Export
from dashboards.services import cached_overview, cached_reporting, scoped_years
from tasks.choices import TaskStatus

RECENT_EXPORTS = 5
PLAN_ROWS = 30  # the plans most in need of attention; the task list has the rest


def _chart_data(data, task_list_url: str) -> dict:
    """What static/js/dashboard.js draws; every label is translated here."""
    return {
        "labels": {
            "status": _("任务状态"),
            "agencies": _("各单位平均进度"),
            "trend": _("全年完成进度"),
            "indicators": _("指标达标情况"),
            "mean_percent": _("平均进度"),
            "done_share": _("已完成占比"),
            "tasks": _("任务数"),
            "done": _("已完成"),
            "met": _("达标"),
            "missed": _("未达标"),
            "unreported": _("未填报"),
            "percent_axis": "%",
            "empty": _("暂无历史数据"),
            "no_data": _("暂无数据"),
        },
        "status": [
            {"key": value, "name": str(label), "value": getattr(data.total, value)}
            for value, label in TaskStatus.choices
        ],
        "agencies": [
            {
                "id": row.key,
                "name": row.label,
                "tasks": row.tasks,
                "done": row.done,
                "mean_percent": row.mean_percent,
                "url": task_list_url + row.link,
            }
            for row in data.agencies
        ],
        "trend": {
            "days": [point["day"].isoformat() for point in data.trend],
            "mean_percent": [point["mean_percent"] for point in data.trend],
            "done_share": [point["done_share"] for point in data.trend],
        },
        "indicators": {
            "met": data.indicators_met,
            "missed": data.indicators_missed,
            "unreported": data.indicators_unreported,
        },
    }


@role_required(*OVERSIGHT_ROLES)
@require_safe
def overview_page(request):
    scope = scope_agency_ids(request.user)
    today = timezone.localdate()
    years = scoped_years(scope)
    try:
        year = int(request.GET.get("year") or today.year)
    except ValueError:
        year = today.year
    if year not in years:
        years = sorted({*years, year}, reverse=True)
    try:
        plan_id = int(request.GET["plan"]) if request.GET.get("plan") else None
    except ValueError:
        plan_id = None
    # Tasks outside the scope never enter the figures, so a plan id of someone else's
    # plan shows nothing rather than anything of theirs.
    data = cached_overview(scope, year, today, plan_id)
    reporting = cached_reporting(request.user, year, today, plan_id)
    task_list_url = reverse("tasks:my_tasks")
    attention = sorted(data.plans, key=lambda row: (-(row.overdue + row.at_risk), row.label))
    return render(
        request,
        "dashboards/overview.html",
        {
            "data": data,
            "reporting": reporting,
            "plan_id": plan_id,
            "chosen_plan": next((row for row in data.plans if row.key == plan_id), None),
            "plan_rows": attention[:PLAN_ROWS],
            "more_plans": max(len(data.plans) - PLAN_ROWS, 0),
            "year": year,
            "years": years,
            "task_list_url": task_list_url,
            "board_url": reverse("escalation:board"),
            "chart_data": _chart_data(data, task_list_url),
            "scope_size": None if scope is None else len(scope),
            "exports": Export.objects.filter(requested_by=request.user)[:RECENT_EXPORTS],
        },
    )
