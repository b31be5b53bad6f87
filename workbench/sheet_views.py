"""The pages of the Excel fill-in sheets (填报表), under /tasks/sheets/: the sheet page
(download a sheet per plan, upload a filled one, the latest imports), the download, an
import's preview and result, its confirmation and its discarding. Thin: reading and
applying are workbench.sheet_services'; a refused file comes back on the form with the
reason and nothing stored."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.models import Agency
from core.permissions import role_required
from core.roles import Role
from core.scope import get_visible_or_404, mark_denied_by_scope
from workbench import sheet_services as services
from workbench.models import SheetImport, SheetImportState
from workbench.sheet_forms import AgencyChoiceForm, SheetUploadForm
from workbench.sheets import SheetRefused
from workplans.choices import PlanStatus
from workplans.cycles import current_cycle
from workplans.models import Plan

RECENT_IMPORTS = 10
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@role_required(Role.STAFF, Role.SUPERVISOR)
@require_http_methods(["GET", "HEAD", "POST"])
def fill_sheets(request):
    """Staff: their agency's sheets and the upload. The supervision office: choose an
    agency, then download its sheets."""
    today = timezone.localdate()
    user = request.user
    form = SheetUploadForm()
    status = 200
    if request.method == "POST":
        # The policy lets only staff post here.
        form = SheetUploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                sheet_import = services.receive(form.cleaned_data["file"], user, today=today)
            except SheetRefused as refused:
                form.add_error("file", refused.message)
            else:
                return redirect("tasks:fill_sheet_import", pk=sheet_import.pk)
        status = 400
    chooser, agency = None, None
    if user.role == Role.SUPERVISOR:
        chooser = AgencyChoiceForm(request.GET or None, agencies=services.sheet_agencies(user))
        if chooser.is_valid():
            agency = chooser.cleaned_data["agency"]
    else:
        agency = user.agency
    plans = services.sheet_plans(user, agency.pk) if agency is not None else []
    for plan in plans:
        plan.cycle = current_cycle(plan, today)
    imports = (
        SheetImport.objects.filter(uploaded_by=user).select_related("plan")[:RECENT_IMPORTS]
        if user.role == Role.STAFF
        else []
    )
    return render(
        request,
        "workbench/sheet_index.html",
        {"agency": agency, "plans": plans, "form": form, "chooser": chooser, "imports": imports},
        status=status,
    )


@role_required(Role.STAFF, Role.SUPERVISOR)
@require_safe
def fill_sheet_download(request):
    """?plan=&agency=: the sheet of that agency for that plan's current cycle (staff: their
    own agency only; anything else is the same 404 as a plan that does not exist)."""
    user = request.user
    plan_id, agency_id = _int(request.GET.get("plan")), _int(request.GET.get("agency"))
    if user.role == Role.STAFF and agency_id is None:
        agency_id = user.agency_id
    if plan_id is None or agency_id is None:
        raise Http404
    plan = get_visible_or_404(request, Plan.objects.visible_to(user).filter(status=PlanStatus.ACTIVE), pk=plan_id)
    agency = Agency.objects.filter(pk=agency_id).first()
    if agency is None or not services.may_make_sheet(user, plan, agency.pk):
        mark_denied_by_scope(request)
        raise Http404
    content, rows, cycle = services.make_sheet(plan, agency, today=timezone.localdate())
    name = _("%(agency)s-%(cycle)s-填报表.xlsx") % {"agency": agency.short_name or agency.name, "cycle": cycle.label}
    services.record_download(plan, agency, cycle, rows, name)
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, name)
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _load_import(request, pk) -> SheetImport:
    """The user's own import; anyone else's is a 404."""
    visible = SheetImport.objects.filter(uploaded_by=request.user).select_related("plan", "agency")
    return get_visible_or_404(request, visible, pk=pk)


@role_required(Role.STAFF)
@require_safe
def fill_sheet_import(request, pk):
    """A previewed import: every row, old → new, its problems; or what its confirmation did."""
    sheet_import = _load_import(request, pk)
    rows = []
    if sheet_import.state == SheetImportState.PREVIEWED:
        rows = services.preview(sheet_import, request.user, today=timezone.localdate())
    counts = {
        outcome: sum(1 for row in rows if row.outcome == outcome)
        for outcome in (services.Outcome.APPLY, services.Outcome.UNCHANGED, services.Outcome.PROBLEM)
    }
    return render(
        request,
        "workbench/sheet_import.html",
        {"sheet_import": sheet_import, "rows": rows, "counts": counts, "Outcome": services.Outcome},
    )


@role_required(Role.STAFF)
@require_POST
def fill_sheet_confirm(request, pk):
    sheet_import = _load_import(request, pk)
    try:
        sheet_import = services.confirm(sheet_import.pk, request.user, today=timezone.localdate())
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("tasks:fill_sheet_import", pk=pk)
    results = sheet_import.results
    if results.get("stopped"):
        messages.warning(request, results["stopped"])
    messages.success(
        request,
        _("已提交 %(applied)d 项任务的本期报送，%(failed)d 项未能提交。")
        % {"applied": len(results.get("applied", [])), "failed": len(results.get("failed", []))},
    )
    return redirect("tasks:fill_sheet_import", pk=pk)


@role_required(Role.STAFF)
@require_POST
def fill_sheet_discard(request, pk):
    sheet_import = _load_import(request, pk)
    try:
        services.discard(sheet_import.pk, request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("tasks:fill_sheet_import", pk=pk)
    messages.success(request, _("已放弃这次导入，没有提交任何内容。"))
    return redirect("tasks:fill_sheets")
