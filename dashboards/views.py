"""Leader pages: the overview of the agencies a leader oversees (admins: everything), with
rollups by plan, section and agency that drill down to the tasks behind each figure, and
the open 督办单 per addressee and level that drill down to the 督办 page."""

from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from accounts.services import scope_agency_ids
from core.permissions import role_required
from core.roles import OVERSIGHT_ROLES
from dashboards.models import Export
from dashboards.pages import cached_page, reporting_rows_html
from dashboards.services import cached_reporting, cached_years

RECENT_EXPORTS = 5


@role_required(*OVERSIGHT_ROLES)
@require_safe
def overview_page(request):
    scope = scope_agency_ids(request.user)
    today = timezone.localdate()
    years = cached_years(scope)
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
    page = cached_page(scope, year, today, plan_id)
    reporting = cached_reporting(request.user, year, today, plan_id)
    return render(
        request,
        "dashboards/overview.html",
        {
            "data": page.data,
            "figures_html": page.figures_html,
            "chart_data": page.chart_data,
            "plan_rows": page.plan_rows,
            "more_plans": page.more_plans,
            "chosen_plan": page.chosen_plan,
            "reporting": reporting,
            "reporting_rows_html": reporting_rows_html(reporting),
            "plan_id": plan_id,
            "year": year,
            "years": years,
            "scope_size": None if scope is None else len(scope),
            "exports": Export.objects.filter(requested_by=request.user)[:RECENT_EXPORTS],
        },
    )
