"""Assessment's pages, under /assessment/ (namespace `assessment`): the plans and their
schemes, the scheme editor (the system admin), the ranking and each agency's items for the
oversight roles within their scope, leaders' evaluations, the freeze and the export. Thin:
assessment.services decides and checks; a refused step comes back on its page with the
reason, changing nothing."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from accounts.models import Agency
from accounts.services import scope_agency_ids
from assessment import services
from assessment.choices import SchemeState
from assessment.exports import result_xlsx
from assessment.forms import CycleForm, EvaluationForm, FreezeForm, SchemeForm
from assessment.rules import Block, EventKind
from audit.choices import EventType
from audit.services import record
from core.permissions import role_required
from core.roles import OVERSIGHT_ROLES, Role
from core.scope import get_visible_or_404
from workplans.models import Plan, supervised_plan_ids

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _plan(request, pk) -> Plan:
    return get_visible_or_404(request, Plan.objects.visible_to(request.user), pk=pk)


def agency_scope(user, plan) -> set[int] | None:
    """The agencies whose scores `user` sees in `plan`: every one for the admin and for a
    supervisor named on the plan; the agencies of their tree for the others."""
    if user.role == Role.SUPERVISOR and plan.pk in supervised_plan_ids(user):
        return None
    return scope_agency_ids(user)


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


@role_required(*OVERSIGHT_ROLES)
@require_safe
def index(request):
    plans = Plan.objects.visible_to(request.user).select_related("assessment_scheme").order_by("-year", "title")
    return render(request, "assessment/index.html", {"plans": plans, "is_admin": request.user.role == Role.ADMIN})


# --- The scheme (system admin) ------------------------------------------------------------


@role_required(Role.ADMIN)
@require_http_methods(["GET", "HEAD", "POST"])
def scheme(request, pk):
    plan = _plan(request, pk)
    current = services.scheme_of(plan)
    form, status = None, 200
    if request.method == "POST":
        action = request.POST.get("action", "save")
        if current is None:
            if action != "create":
                raise Http404
            services.create_scheme(plan, request.user)
            messages.success(request, _("已按默认分值创建考核方案草稿，请核对后启用。"))
            return redirect("assessment:scheme", plan.pk)
        if action in (SchemeState.ACTIVE, SchemeState.DRAFT):
            try:
                services.set_state(current.pk, request.user, version=_version(request), state=action)
            except ValidationError as error:
                messages.error(request, _error_text(error))
                status = 409 if current.is_frozen else 400
            else:
                done = _("考核方案已启用。") if action == SchemeState.ACTIVE else _("考核方案已退回草稿。")
                messages.success(request, done)
                return redirect("assessment:scheme", plan.pk)
        else:
            form = SchemeForm(request.POST)
            if form.is_valid():
                try:
                    services.save_scheme(
                        current.pk,
                        request.user,
                        version=form.cleaned_data["version"],
                        lead_weight=form.cleaned_data["lead_weight"],
                        co_weight=form.cleaned_data["co_weight"],
                        blocks=form.blocks(),
                    )
                except ValidationError as error:
                    form.add_error(None, _error_text(error))
                    status = 409
                else:
                    messages.success(request, _("考核方案已保存。"))
                    return redirect("assessment:scheme", plan.pk)
            else:
                status = 400
        current.refresh_from_db()
    if current is not None and form is None:
        form = SchemeForm(initial=SchemeForm.initial_for(current))
    context = {"plan": plan, "scheme": current, "form": form, "evaluation_block": Block.EVALUATION}
    return render(request, "assessment/scheme.html", context, status=status)


def _version(request) -> int | None:
    try:
        return int(request.POST.get("version", ""))
    except ValueError:
        return None


# --- The ranking and the items (oversight roles, within their scope) ------------------------


def _cycle(request, cycles):
    form = CycleForm(request.GET or None, cycles=cycles)
    if form.is_bound and form.is_valid():
        return form, form.cleaned_data["cycle"]
    return form, None


@role_required(*OVERSIGHT_ROLES)
@require_safe
def ranking(request, pk):
    plan = _plan(request, pk)
    scope = agency_scope(request.user, plan)
    scheme = services.scheme_of(plan)
    cycles = services.year_cycles(plan)
    form, cycle_start = _cycle(request, cycles)
    outcome = None
    if scheme is not None and scheme.state != SchemeState.DRAFT:
        outcome = services.result(plan, agency_ids=scope, cycle_start=cycle_start, scheme=scheme)
    context = {
        "plan": plan,
        "scheme": scheme,
        "outcome": outcome,
        "form": form,
        "cycle_start": cycle_start,
        "can_evaluate": request.user.role == Role.LEADER and scheme is not None and scheme.state == SchemeState.ACTIVE,
        "can_freeze": request.user.role == Role.ADMIN and scheme is not None and scheme.state == SchemeState.ACTIVE,
    }
    return render(request, "assessment/ranking.html", context, status=400 if form.errors else 200)


@role_required(*OVERSIGHT_ROLES)
@require_safe
def agency_items(request, pk, agency_pk):
    plan = _plan(request, pk)
    scope = agency_scope(request.user, plan)
    if scope is not None and agency_pk not in scope:
        raise Http404
    agency = get_visible_or_404(request, Agency.objects.all(), pk=agency_pk)
    scheme = services.scheme_of(plan)
    if scheme is None or scheme.state == SchemeState.DRAFT:
        raise Http404
    cycles = services.year_cycles(plan)
    form, cycle_start = _cycle(request, cycles)
    outcome = services.result(plan, agency_ids={agency.pk}, cycle_start=cycle_start, scheme=scheme)
    rows = [(item, _event_url(item)) for item in outcome.items]
    context = {
        "plan": plan,
        "scheme": scheme,
        "agency": agency,
        "standing": outcome.standings[0] if outcome.standings else None,
        "rows": rows,
        "form": form,
        "cycle_start": cycle_start,
    }
    return render(request, "assessment/agency.html", context)


# The page of each kind of event an item links to (the task page is linked beside it).
EVENT_PAGES = {
    EventKind.NOTICE: "escalation:notice_detail",
    EventKind.REPORT: "supervision:report_detail",
    EventKind.CLOSE_OUT: "supervision:closeout_detail",
    EventKind.REQUEST: "supervision:request_detail",
}


def _event_url(scored) -> str:
    item = scored.item
    page = EVENT_PAGES.get(item.event_kind)
    return reverse(page, args=[item.event_id]) if page and item.event_id else ""


# --- A leader's evaluation -------------------------------------------------------------------


def _is_conflict(error: ValidationError) -> bool:
    """A refusal because the scheme moved on (frozen, or changed by someone else): 409."""
    return any(getattr(e, "code", None) in ("frozen", "stale") for e in getattr(error, "error_list", [error]))


@role_required(Role.LEADER)
@require_http_methods(["GET", "HEAD", "POST"])
def evaluate(request, pk):
    plan = _plan(request, pk)
    scheme = services.scheme_of(plan)
    if scheme is None or scheme.state == SchemeState.DRAFT:
        raise Http404
    scope = agency_scope(request.user, plan)
    participants = services.participant_ids(plan)
    agencies = Agency.objects.filter(pk__in=participants if scope is None else participants & scope).order_by("name")
    status = 200
    form = EvaluationForm(request.POST or None, agencies=agencies)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.add_evaluation(
                    scheme.pk,
                    request.user,
                    agency_id=form.cleaned_data["agency"],
                    points=form.cleaned_data["points"],
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as error:
                if hasattr(error, "error_dict"):
                    for field, errors in error.message_dict.items():
                        form.add_error(field if field in form.fields else None, errors)
                else:
                    form.add_error(None, _error_text(error))
                status = 409 if _is_conflict(error) else 400
            else:
                messages.success(request, _("领导评价已记录。"))
                return redirect("assessment:ranking", plan.pk)
        else:
            status = 400
    evaluations = scheme.evaluations.select_related("agency", "given_by").filter(agency__in=[a.pk for a in agencies])
    context = {"plan": plan, "scheme": scheme, "form": form, "evaluations": evaluations}
    return render(request, "assessment/evaluate.html", context, status=status)


# --- The freeze and the export ---------------------------------------------------------------


@role_required(Role.ADMIN)
@require_http_methods(["GET", "HEAD", "POST"])
def freeze(request, pk):
    plan = _plan(request, pk)
    scheme = services.scheme_of(plan)
    if scheme is None:
        raise Http404
    status = 200
    form = FreezeForm(request.POST or None, initial={"version": scheme.version})
    if request.method == "POST":
        if form.is_valid():
            try:
                services.freeze(scheme.pk, request.user, version=form.cleaned_data["version"])
            except ValidationError as error:
                form.add_error(None, _error_text(error))
                status = 409
            else:
                messages.success(request, _("本年度考核结果已冻结，可导出。"))
                return redirect("assessment:ranking", plan.pk)
        else:
            status = 400
    outcome = services.result(plan, scheme=scheme) if scheme.state != SchemeState.DRAFT else None
    context = {"plan": plan, "scheme": scheme, "form": form, "outcome": outcome}
    return render(request, "assessment/freeze.html", context, status=status)


@role_required(*OVERSIGHT_ROLES)
@require_safe
def export(request, pk):
    plan = _plan(request, pk)
    scheme = services.scheme_of(plan)
    if scheme is None or not scheme.is_frozen:
        messages.error(request, _("考核结果冻结后才能导出。"))
        return redirect("assessment:ranking", plan.pk)
    scope = agency_scope(request.user, plan)
    outcome = services.result(plan, agency_ids=scope, scheme=scheme)
    content = result_xlsx(plan, outcome)
    record(
        EventType.EXPORT,
        user=request.user,
        request=request,
        obj=scheme,
        detail={"kind": "assessment", "plan": plan.pk, "agencies": len(outcome.standings), "items": len(outcome.items)},
    )
    response = HttpResponse(content, content_type=XLSX)
    name = _("%(year)s年度考核结果.xlsx") % {"year": plan.year}
    response["Content-Disposition"] = content_disposition_header(True, name)
    response["X-Content-Type-Options"] = "nosniff"
    return response
