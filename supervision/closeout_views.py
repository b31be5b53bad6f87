"""The close-out (销号) pages: the lead's completion report, the supervision office's
checklist decision, the lead's withdrawal, a leader's reopening of a closed task, and the
panel the task page shows (baseline, current and actual dates; close-outs and requests).
Thin: each page calls supervision.closeout and maps its errors (StaleDecision → 409,
PermissionDenied → 403, ValidationError → the form's errors, nothing changed)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.permissions import role_required
from core.roles import WORK_ROLES, Role
from core.scope import get_visible_or_404
from indicators.models import Indicator
from indicators.services import attained, with_latest_reading
from supervision import permissions as can
from supervision.choices import Action, CloseOutState
from supervision.closeout import (
    checklist,
    decide_close_out,
    reopen_task,
    request_close_out,
    withdraw_close_out,
)
from supervision.closeout_forms import CloseOutDecisionForm, CloseOutRequestForm, ReasonForm
from supervision.machine import CLOSE_OUTS, StaleDecision
from supervision.models import OPEN_REQUEST_STATES, CloseOut, Transition
from supervision.progress import StaleVersion, missed_indicators
from tasks.choices import TaskStatus
from tasks.models import Attachment, Task
from tasks.quotas import QuotaExceeded

ATTACHMENTS_ON_PAGE = 50
CLOSE_OUTS_ON_TASK = 10
REQUESTS_ON_TASK = 20


def load_task(request, pk) -> Task:
    """A task the user may see (else the scoped 404), with what the rules read."""
    visible = Task.objects.visible_to(request.user).select_related("plan", "section").prefetch_related("task_owners")
    return get_visible_or_404(request, visible, pk=pk)


def form_errors_from(form, error: ValidationError, rename: dict | None = None) -> None:
    """A service's ValidationError shown on `form`: by field where the form has it."""
    rename = rename or {}
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for field, field_errors in error.message_dict.items():
        field = rename.get(field, field)
        form.add_error(field if field in form.fields else None, field_errors)


def _quota_refused(refused: QuotaExceeded) -> HttpResponse:
    body = loader.get_template("429.html").render({"message": refused.message})
    response = HttpResponse(body, status=429)
    response["Retry-After"] = str(refused.retry_after)
    return response


def _with_attainment(indicators):
    for indicator in indicators:
        indicator.met = attained(indicator.comparator, indicator.target, indicator.latest_value)
    return indicators


# --- The completion report (申请销号) ------------------------------------------------------


@role_required(Role.STAFF)
@require_http_methods(["GET", "HEAD", "POST"])
def closeout_new(request, pk):
    task = load_task(request, pk)
    if not can.is_lead_staff(request.user, task):
        raise PermissionDenied(_("只有牵头单位的经办人可以申请销号。"))
    pending = task.close_outs.filter(state=CloseOutState.PENDING).first()
    milestones = list(task.milestones.order_by("due_on", "order", "id"))
    indicators = _with_attainment(
        list(with_latest_reading(Indicator.objects.filter(task=task)).order_by("order", "id"))
    )
    form, status, stale = None, 200, None
    if pending is None:
        kwargs = {"task": task, "milestones": milestones, "indicators": indicators}
        if request.method == "POST":
            form = CloseOutRequestForm(request.POST, request.FILES, **kwargs)
            status = 400
            if form.is_valid():
                try:
                    close_out = request_close_out(task.pk, request.user, **form.service_kwargs())
                except StaleVersion as error:
                    stale, status = error, 409
                    task = load_task(request, pk)
                    data = request.POST.copy()
                    data["version"] = task.version
                    form = CloseOutRequestForm(data, **kwargs)
                    form.is_valid()
                except QuotaExceeded as refused:
                    return _quota_refused(refused)
                except ValidationError as error:
                    form_errors_from(form, error, {"note": "summary"})
                else:
                    messages.success(request, _("销号申请已提交，等待督查室审核。"))
                    return redirect("supervision:closeout_detail", pk=close_out.pk)
        else:
            form = CloseOutRequestForm(**kwargs)
    context = {
        "task": task,
        "form": form,
        "pending": pending,
        "stale": stale,
        "milestones": milestones,
        "indicators": indicators,
        "missed": {i.pk for i in missed_indicators(task)} if indicators else set(),
    }
    return render(request, "supervision/closeout_new.html", context, status=status)


# --- One close-out: the check, the decision, withdrawal -----------------------------------


def _load_close_out(request, pk) -> CloseOut:
    visible = (
        CloseOut.objects.visible_to(request.user)
        .select_related("task__plan", "task__section", "submitted_by", "decided_by", "progress_update")
        .prefetch_related("task__task_owners")
    )
    return get_visible_or_404(request, visible, pk=pk)


def _detail(request, close_out, *, decision_form=None, withdraw_form=None, reopen_form=None, notice="", status=200):
    task = close_out.task
    user = request.user
    allowed = CLOSE_OUTS.allowed(close_out, user)
    indicators = _with_attainment(
        list(with_latest_reading(Indicator.objects.filter(task=task)).order_by("order", "id"))
    )
    if decision_form is None and Action.APPROVE in allowed:
        decision_form = CloseOutDecisionForm(initial={"version": close_out.version})
    if withdraw_form is None and Action.WITHDRAW in allowed:
        withdraw_form = ReasonForm(initial={"version": close_out.version}, required=False)
    reopenable = close_out.state == CloseOutState.APPROVED and can.may_reopen(user, task)
    if reopen_form is None and reopenable:
        reopen_form = ReasonForm()
    report_files = set()
    if close_out.progress_update_id:
        report_files = set(close_out.progress_update.attachments.values_list("pk", flat=True))
    context = {
        "close_out": close_out,
        "task": task,
        "checklist": checklist(close_out) if close_out.state == CloseOutState.PENDING else None,
        "milestones": list(task.milestones.order_by("due_on", "order", "id")),
        "indicators": indicators,
        "attachments": list(
            Attachment.objects.filter(task=task)
            .select_related("uploaded_by")
            .order_by("-created_at", "-id")[:ATTACHMENTS_ON_PAGE]
        ),
        "report_files": report_files,
        "thread": list(Transition.objects.filter(close_out=close_out).select_related("actor")),
        "decision_form": decision_form,
        "withdraw_form": withdraw_form,
        "reopen_form": reopen_form,
        "notice": notice,
    }
    return render(request, "supervision/closeout_detail.html", context, status=status)


@role_required(*WORK_ROLES)
@require_safe
def closeout_detail(request, pk):
    return _detail(request, _load_close_out(request, pk))


@role_required(Role.SUPERVISOR)
@require_POST
def closeout_decide(request, pk):
    close_out = _load_close_out(request, pk)
    form = CloseOutDecisionForm(request.POST)
    if not form.is_valid():
        if not CLOSE_OUTS.may(close_out, request.user, Action.APPROVE):
            raise PermissionDenied(_("您无权审核该销号申请。"))
        return _detail(request, close_out, decision_form=form, status=400)
    data = form.cleaned_data
    try:
        decide_close_out(
            close_out.pk,
            request.user,
            version=data["version"],
            approve=data["decision"] == "approve",
            evidence_checked=data["evidence_checked"],
            milestones_checked=data["milestones_checked"],
            indicators_checked=data["indicators_checked"],
            requirements=data["requirements"],
        )
    except StaleDecision as stale:
        return _detail(request, _load_close_out(request, pk), notice=str(stale), status=409)
    except ValidationError as error:
        form_errors_from(form, error, {"comment": "requirements", "checklist": None})
        return _detail(request, _load_close_out(request, pk), decision_form=form, status=400)
    if data["decision"] == "approve":
        messages.success(request, _("已批准销号，任务已销号。"))
    else:
        messages.success(request, _("已退回，任务恢复为进行中。"))
    return redirect("supervision:closeout_detail", pk=close_out.pk)


@role_required(Role.STAFF)
@require_POST
def closeout_withdraw(request, pk):
    close_out = _load_close_out(request, pk)
    form = ReasonForm(request.POST, required=False)
    if not form.is_valid() or form.cleaned_data["version"] is None:
        return _detail(request, close_out, notice=_("请刷新页面后重试。"), status=400)
    try:
        withdraw_close_out(
            close_out.pk, request.user, version=form.cleaned_data["version"], reason=form.cleaned_data["reason"]
        )
    except StaleDecision as stale:
        return _detail(request, _load_close_out(request, pk), notice=str(stale), status=409)
    except ValidationError as error:
        form_errors_from(form, error)
        return _detail(request, _load_close_out(request, pk), withdraw_form=form, status=400)
    messages.success(request, _("销号申请已撤回，任务恢复为进行中。"))
    return redirect("supervision:closeout_detail", pk=close_out.pk)


# --- A leader reopens a closed task -----------------------------------------------------


@role_required(Role.LEADER)
@require_http_methods(["GET", "HEAD", "POST"])
def task_reopen(request, pk):
    task = load_task(request, pk)
    if not can.may_reopen(request.user, task):
        raise PermissionDenied(_("只有领导可以重新打开已销号的任务。"))
    status = 200
    if request.method == "POST":
        form = ReasonForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                reopen_task(task.pk, request.user, reason=form.cleaned_data["reason"])
            except ValidationError as error:
                form_errors_from(form, error, {"comment": "reason"})
            else:
                messages.success(request, _("任务已重新打开，恢复为进行中。"))
                return redirect("tasks:task_detail", pk=task.pk)
    else:
        form = ReasonForm()
    return render(request, "supervision/closeout_reopen.html", {"task": task, "form": form}, status=status)


# --- The task page's panel ----------------------------------------------------------------


def task_panel(request, task) -> dict:
    """What templates/supervision/_task_closeout_requests.html needs, for a task with its
    plan and owners loaded: the three dates (baseline, current, actual), milestones' and
    indicators' baselines, the close-outs and requests, and the buttons the user may use.
    Four queries (milestones come from the task's prefetch when the page made one)."""
    user = request.user
    milestones = sorted(task.milestones.all(), key=lambda m: (m.due_on, m.order, m.pk))
    indicators = list(
        Indicator.objects.filter(task=task)
        .only("pk", "name", "comparator", "unit", "target", "baseline_target", "order")
        .order_by("order", "id")
    )
    close_outs = list(
        task.close_outs.select_related("submitted_by").order_by("-submitted_at", "-id")[:CLOSE_OUTS_ON_TASK]
    )
    change_requests = list(
        task.change_requests.select_related("milestone", "indicator", "filed_by").order_by("-filed_at", "-id")[
            :REQUESTS_ON_TASK
        ]
    )
    lead = can.is_lead_staff(user, task)
    pending = any(c.state == CloseOutState.PENDING for c in close_outs)
    return {
        "closeout_panel": {
            "task": task,
            "milestones": milestones,
            "indicators": indicators,
            "close_outs": close_outs,
            "requests": change_requests,
            "open_requests": sum(r.state in OPEN_REQUEST_STATES for r in change_requests),
            "can_request_close_out": lead and not pending and task.status not in (TaskStatus.DONE, TaskStatus.CLOSED),
            "can_file_request": lead,
            "can_reopen": can.may_reopen(user, task),
        }
    }


urlpatterns = [
    path("tasks/<int:pk>/close-out/", closeout_new, name="closeout_new"),
    path("tasks/<int:pk>/reopen/", task_reopen, name="task_reopen"),
    path("close-outs/<int:pk>/", closeout_detail, name="closeout_detail"),
    path("close-outs/<int:pk>/decide/", closeout_decide, name="closeout_decide"),
    path("close-outs/<int:pk>/withdraw/", closeout_withdraw, name="closeout_withdraw"),
]
