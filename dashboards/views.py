"""Leader pages: the overview of the agencies a leader oversees."""

from django.shortcuts import render

from accounts.choices import Role
from accounts.permissions import role_required
from dashboards.services import overview_figures


@role_required(Role.LEADER)
def overview(request):
    scope = request.user.agency.descendant_ids()
    return render(request, "dashboards/overview.html", {"figures": overview_figures(scope), "scope_size": len(scope)})
