"""The pages of the period reports (周期报送) and the co-owners' input (配合单位反馈): the
panels on the task page, their forms' posts, a report's own page with its revisions, thread
and decision (单位审核, 督查审核). Every change goes through supervision.reports; these
views only map its answers (ValidationError → the form, StaleDecision/StaleVersion → 409,
PermissionDenied → 403)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.scope import get_visible_or_404
from indicators.models import Indicator, Reading
from indicators.services import with_latest_reading
from supervision import permissions as can
from supervision import reports
from supervision.choices import Action, InputState
from supervision.deadlines import co_owner_due
from supervision.machine import REPORTS, StaleDecision
from supervision.models import CoOwnerInput, PeriodReport, ReportRevision, Transition
from supervision.progress import StaleVersion
from supervision.report_forms import CoOwnerInputForm, DecisionForm, PeriodReportForm
from tasks.choices import TaskStatus
from tasks.models import Attachment, Milestone, Task, TaskOwner
from tasks.quotas import QuotaExceeded

# How many of a task's reports its page shows in the thread, latest first.
THREAD_REPORTS = 6
SUBMIT, DRAFT = "submit", "draft"


# --- Loading -----------------------------------------------------------------------------


def _load_task(request, pk) -> Task:
    """The task, if the user may see it (else the scoped 404), with what the rules read."""
    visible = (
        Task.objects.visible_to(request.user)
        .select_related("plan", "section")
        .prefetch_related(
            Prefetch("task_owners", queryset=TaskOwner.objects.select_related("agency").order_by("role", "order")),
            Prefetch("milestones", queryset=Milestone.objects.order_by("due_on", "order", "id")),
        )
    )
    return get_visible_or_404(request, visible, pk=pk)


def _indicators(task) -> list[Indicator]:
    return list(with_latest_reading(Indicator.objects.filter(task=task)).order_by("order", "id"))


def _with_evidence(prefix: str) -> list[Prefetch]:
    """The files and readings of the progress records under `prefix`."""
    return [
        Prefetch(f"{prefix}__attachments", queryset=Attachment.objects.order_by("id")),
        Prefetch(f"{prefix}__readings", queryset=Reading.objects.select_related("indicator").order_by("id")),
    ]


def cycle_inputs(task, period_start) -> list[CoOwnerInput]:
    """The co-owners' submitted input for one cycle, with their files and readings."""
    return list(
        CoOwnerInput.objects.filter(task=task, period_start=period_start, state=InputState.SUBMITTED)
        .select_related("agency", "author", "progress_update")
        .prefetch_related(*_with_evidence("progress_update"))
        .order_by("agency__name", "id")
    )


def thread(task, *, limit=THREAD_REPORTS) -> list[PeriodReport]:
    """The task's reports that were sent at least once, latest cycle first, each with its
    revisions and its steps (who, what, when, the comment)."""
    return list(
        PeriodReport.objects.filter(task=task, revision__gte=1)
        .order_by("-period_start")
        .prefetch_related(
            Prefetch("revisions", queryset=ReportRevision.objects.select_related("submitted_by").order_by("-number")),
            Prefetch("transitions", queryset=Transition.objects.select_related("actor").order_by("created_at", "id")),
        )[:limit]
    )


# --- The task page's panels --------------------------------------------------------------


def _report_panel(task, today, *, indicators, form=None) -> dict:
    cycle = reports.cycle_of(task, today)
    report = reports.current_report(task, today)
    if form is None:
        form = PeriodReportForm(task=task, report=report, indicators=indicators)
    return {
        "cycle": cycle,
        "report": report,
        "form": form,
        "editable": report is None or report.state in reports.EDITABLE,
        "late": today > cycle.due_on,
        "co_inputs": cycle_inputs(task, cycle.start),
    }


def _input_panel(task, agency_id, today, *, indicators, form=None) -> dict:
    cycle = reports.cycle_of(task, today)
    co_input = reports.current_input(task, agency_id, today)
    due_on = co_input.due_on if co_input is not None else co_owner_due(cycle.due_on)
    if form is None:
        form = CoOwnerInputForm(co_input=co_input, indicators=indicators)
    return {
        "cycle": cycle,
        "co_input": co_input,
        "due_on": due_on,
        "late": (co_input is not None and co_input.late) or today > due_on,
        "form": form,
    }


def panels(request, task, *, indicators, today=None) -> dict:
    """The task page's supervision panels for this user: the lead's report panel, or a
    co-owner's input panel, and the reports' thread (anyone who sees the task)."""
    today = today or timezone.localdate()
    sent = thread(task)
    start = reports.cycle_of(task, today).start
    # This cycle's report, once sent: the page's header says where it stands (待督查审核,
    # 督查退回, 审核通过…) rather than only that something was reported.
    context = {"report_thread": sent, "cycle_report": next((r for r in sent if r.period_start == start), None)}
    user = request.user
    if can.is_lead_staff(user, task):
        context["report_panel"] = _report_panel(task, today, indicators=indicators)
    else:
        agency_id = can.co_owner_agency_id(user, task)
        if agency_id is not None:
            context["coinput_panel"] = _input_panel(task, agency_id, today, indicators=indicators)
    return context


# --- Writing the report and the input ----------------------------------------------------


def _quota_refused(refused: QuotaExceeded) -> HttpResponse:
    body = loader.get_template("429.html").render({"message": refused.message})
    response = HttpResponse(body, status=429)
    response["Retry-After"] = str(refused.retry_after)
    return response


def _stale_message(stale) -> str:
    if isinstance(stale, StaleVersion):
        return _(
            "任务已被他人更新：当前状态“%(status)s”，进度 %(percent)d%%。您填写的内容已保留，请核对后再次提交。"
        ) % {
            "status": stale.task.get_status_display(),
            "percent": stale.task.percent,
        }
    return _("该事项已被他人处理，当前状态：%(state)s。您填写的内容已保留，请核对后再次提交。") % {
        "state": stale.obj.get_state_display()
    }


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def report_edit(request, pk):
    """This cycle's report of the task, by the lead agency's staff: 保存草稿 or 提交."""
    task = _load_task(request, pk)
    if not can.is_lead_staff(request.user, task):
        raise PermissionDenied(_("只有牵头单位的经办人可以填写本期报送。"))
    today = timezone.localdate()
    indicators = _indicators(task)
    if request.method != "POST":
        return _render_report_edit(request, task, today, indicators=indicators)
    report = reports.current_report(task, today)
    form = PeriodReportForm(request.POST, request.FILES, task=task, report=report, indicators=indicators)
    conflict, status = None, 400
    if form.is_valid():
        submitting = request.POST.get("action") == SUBMIT
        try:
            if submitting:
                reports.submit_report(task.pk, request.user, **form.submit_kwargs(), today=today)
            else:
                reports.save_draft(task.pk, request.user, **form.draft_kwargs(), today=today)
        except (StaleDecision, StaleVersion) as stale:
            conflict, status = _stale_message(stale), 409
            # What the user typed, on top of the versions now current, ready to send again.
            task = _load_task(request, pk)
            report = reports.current_report(task, today)
            data = request.POST.copy()
            data["task_version"] = task.version
            data["report_version"] = report.version if report is not None else ""
            form = PeriodReportForm(data, task=task, report=report, indicators=indicators)
            form.is_valid()
        except QuotaExceeded as refused:
            return _quota_refused(refused)
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("本期报送已提交。") if submitting else _("草稿已保存。"))
            return redirect(reverse("tasks:task_detail", args=[task.pk]) + "#report")
    return _render_report_edit(request, task, today, indicators=indicators, form=form, conflict=conflict, status=status)


def _render_report_edit(request, task, today, *, indicators, form=None, conflict=None, status=200):
    context = {
        "task": task,
        "report_panel": _report_panel(task, today, indicators=indicators, form=form),
        "conflict": conflict,
    }
    return render(request, "supervision/report_edit.html", context, status=status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def coinput_edit(request, pk):
    """This cycle's input of the user's co-owner agency: 保存草稿 or 提交."""
    task = _load_task(request, pk)
    agency_id = can.co_owner_agency_id(request.user, task)
    if agency_id is None:
        raise PermissionDenied(_("只有配合单位的经办人可以填写配合单位反馈。"))
    today = timezone.localdate()
    indicators = _indicators(task)
    form, conflict, status = None, None, 200
    if request.method == "POST":
        co_input = reports.current_input(task, agency_id, today)
        form = CoOwnerInputForm(request.POST, request.FILES, co_input=co_input, indicators=indicators)
        status = 400
        if form.is_valid():
            submitting = request.POST.get("action") == SUBMIT
            try:
                if submitting:
                    reports.submit_input(task.pk, request.user, **form.submit_kwargs(), today=today)
                else:
                    reports.save_input_draft(task.pk, request.user, **form.draft_kwargs(), today=today)
            except StaleDecision as stale:
                conflict, status = _stale_message(stale), 409
                data = request.POST.copy()
                data["version"] = stale.obj.version
                form = CoOwnerInputForm(data, co_input=stale.obj, indicators=indicators)
                form.is_valid()
            except QuotaExceeded as refused:
                return _quota_refused(refused)
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                messages.success(request, _("配合单位反馈已提交。") if submitting else _("草稿已保存。"))
                return redirect(reverse("tasks:task_detail", args=[task.pk]) + "#coinput")
    context = {
        "task": task,
        "coinput_panel": _input_panel(task, agency_id, today, indicators=indicators, form=form),
        "conflict": conflict,
    }
    return render(request, "supervision/report_coinput.html", context, status=status)


# --- A report's page and the decisions on it ---------------------------------------------


def _load_report(request, pk) -> PeriodReport:
    visible = (
        PeriodReport.objects.visible_to(request.user)
        .select_related("task__plan", "task__section", "author")
        .prefetch_related(
            Prefetch("task__task_owners", queryset=TaskOwner.objects.select_related("agency").order_by("role", "order"))
        )
    )
    report = get_visible_or_404(request, visible, pk=pk)
    # A draft never sent is its writers' business until it is.
    if report.revision == 0 and not can.is_lead_staff(request.user, report.task):
        raise Http404
    return report


def _render_report(request, report, *, form=None, conflict=None, status=200):
    actions = REPORTS.allowed(report, request.user)
    decisions = [Action(a) for a in actions if a != Action.SUBMIT]
    if form is None and decisions:
        form = DecisionForm(initial={"version": report.version})
    revisions = list(
        report.revisions.select_related("submitted_by", "progress_update")
        .prefetch_related(*_with_evidence("progress_update"), "progress_update__milestones_done")
        .order_by("-number")
    )
    for revision in revisions:
        revision.status_label = (
            TaskStatus(revision.status).label if revision.status in TaskStatus.values else revision.status
        )
    steps = list(report.transitions.select_related("actor").order_by("created_at", "id"))
    context = {
        "report": report,
        "task": report.task,
        "revisions": revisions,
        "steps": steps,
        "co_inputs": cycle_inputs(report.task, report.period_start),
        "decisions": decisions,
        "may_edit": Action.SUBMIT in actions,
        "form": form if decisions else None,
        # A refused decision by someone who may take none now (not their turn, or done).
        "refusals": form.non_field_errors() if form is not None and form.is_bound and not decisions else [],
        "conflict": conflict,
    }
    return render(request, "supervision/report_detail.html", context, status=status)


@login_required
@require_safe
def report_detail(request, pk):
    return _render_report(request, _load_report(request, pk))


@login_required
@require_POST
def report_decide(request, pk):
    """单位审核 (通过 / 退回) or 督查审核 (审核通过 / 退回并提出要求), as the machine allows."""
    report = _load_report(request, pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _render_report(request, report, form=form, status=400)
    data = form.cleaned_data
    action, version, comment = data["action"], data["version"], data.get("comment", "")
    try:
        if action in (Action.SIGN_OFF, Action.UNIT_RETURN):
            reports.sign_off(
                report.pk, request.user, version=version, approve=action == Action.SIGN_OFF, comment=comment
            )
        else:
            reports.review(
                report.pk, request.user, version=version, accept=action == Action.ACCEPT, requirements=comment
            )
    except StaleDecision as stale:
        report = _load_report(request, pk)
        return _render_report(request, report, conflict=_stale_message_decision(stale), status=409)
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            for field, field_errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, field_errors)
        else:
            form.add_error(None, error.messages)
        return _render_report(request, report, form=form, status=400)
    messages.success(request, _("已%(action)s。") % {"action": Action(action).label})
    return redirect("supervision:report_detail", pk=report.pk)


def _stale_message_decision(stale: StaleDecision) -> str:
    return _("该事项已被他人处理，当前状态：%(state)s。") % {"state": stale.obj.get_state_display()}


urlpatterns = [
    path("tasks/<int:pk>/report/", report_edit, name="report_edit"),
    path("tasks/<int:pk>/input/", coinput_edit, name="coinput_edit"),
    path("reports/<int:pk>/", report_detail, name="report_detail"),
    path("reports/<int:pk>/decide/", report_decide, name="report_decide"),
]
