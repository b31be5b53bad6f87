"""The delay and change request pages (延期/调整申请): the lead files one; its page shows the
current, proposed and approved values, the chain with the step deciding now and the
thread, with the decision form for whoever decides now and withdrawal for the lead.
Thin: supervision.requests decides; errors map as on the close-out pages."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.permissions import role_required
from core.roles import WORK_ROLES, Role
from core.scope import get_visible_or_404
from indicators.models import Indicator
from supervision import permissions as can
from supervision.choices import Action, Step
from supervision.closeout_forms import ReasonForm
from supervision.closeout_views import form_errors_from, load_task
from supervision.machine import REQUESTS, StaleDecision
from supervision.models import ChangeRequest, Transition
from supervision.request_forms import RequestDecisionForm, RequestForm
from supervision.requests import decide_request, file_request, withdraw_request

# Who decides each step, as the chain on the page names it.
STEP_DECIDERS = {
    Step.UNIT: Step.UNIT.label,
    Step.SUPERVISOR: Step.SUPERVISOR.label,
    Step.LEADER: Step.LEADER.label,
}


@role_required(Role.STAFF)
@require_http_methods(["GET", "HEAD", "POST"])
def request_new(request, pk):
    task = load_task(request, pk)
    if not can.is_lead_staff(request.user, task):
        raise PermissionDenied(_("只有牵头单位的经办人可以提出延期或调整申请。"))
    milestones = list(task.milestones.order_by("due_on", "order", "id"))
    indicators = list(Indicator.objects.filter(task=task).order_by("order", "id"))
    kwargs = {"task": task, "milestones": milestones, "indicators": indicators}
    status = 200
    if request.method == "POST":
        form = RequestForm(request.POST, **kwargs)
        status = 400
        if form.is_valid():
            try:
                change_request = file_request(task.pk, request.user, **form.service_kwargs())
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                messages.success(request, _("申请已提交，等待审批。"))
                return redirect("supervision:request_detail", pk=change_request.pk)
    else:
        form = RequestForm(initial={"kind": request.GET.get("kind") or None}, **kwargs)
    context = {"task": task, "form": form, "milestones": milestones, "indicators": indicators}
    return render(request, "supervision/request_new.html", context, status=status)


def _load_request(request, pk) -> ChangeRequest:
    visible = (
        ChangeRequest.objects.visible_to(request.user)
        .select_related("task__plan", "task__section", "milestone", "indicator", "filed_by")
        .prefetch_related("task__task_owners")
    )
    return get_visible_or_404(request, visible, pk=pk)


def _chain(change_request):
    """The steps, each done, deciding now or to come (or all "closed" once decided)."""
    here = change_request.step
    index = change_request.steps.index(here) if here in change_request.steps else None
    chain = []
    for i, value in enumerate(change_request.steps):
        if index is None:
            state = "closed"
        elif i == index:
            state = "now"
        else:
            state = "done" if i < index else "todo"
        chain.append({"label": STEP_DECIDERS[Step(value)], "state": state})
    return chain


def _detail(request, change_request, *, decision_form=None, withdraw_form=None, notice="", status=200):
    allowed = REQUESTS.allowed(change_request, request.user)
    if decision_form is None and Action.APPROVE in allowed:
        decision_form = RequestDecisionForm(initial={"version": change_request.version}, change_request=change_request)
    if withdraw_form is None and Action.WITHDRAW in allowed:
        withdraw_form = ReasonForm(initial={"version": change_request.version}, required=False)
    context = {
        "req": change_request,
        "task": change_request.task,
        "chain": _chain(change_request),
        "thread": list(Transition.objects.filter(request=change_request).select_related("actor")),
        "decision_form": decision_form,
        "withdraw_form": withdraw_form,
        "notice": notice,
    }
    return render(request, "supervision/request_detail.html", context, status=status)


@role_required(*WORK_ROLES)
@require_safe
def request_detail(request, pk):
    return _detail(request, _load_request(request, pk))


@role_required(Role.STAFF, Role.LEADER, Role.SUPERVISOR)
@require_POST
def request_decide(request, pk):
    change_request = _load_request(request, pk)
    form = RequestDecisionForm(request.POST, change_request=change_request)
    if not form.is_valid():
        if not REQUESTS.may(change_request, request.user, Action.APPROVE):
            raise PermissionDenied(_("当前环节不由您审批。"))
        return _detail(request, change_request, decision_form=form, status=400)
    try:
        decide_request(change_request.pk, request.user, **form.service_kwargs())
    except StaleDecision as stale:
        return _detail(request, _load_request(request, pk), notice=str(stale), status=409)
    except ValidationError as error:
        form_errors_from(form, error)
        return _detail(request, _load_request(request, pk), decision_form=form, status=400)
    messages.success(request, _("审批意见已提交。"))
    return redirect("supervision:request_detail", pk=change_request.pk)


@role_required(Role.STAFF)
@require_POST
def request_withdraw(request, pk):
    change_request = _load_request(request, pk)
    form = ReasonForm(request.POST, required=False)
    if not form.is_valid() or form.cleaned_data["version"] is None:
        return _detail(request, change_request, notice=_("请刷新页面后重试。"), status=400)
    try:
        withdraw_request(
            change_request.pk, request.user, version=form.cleaned_data["version"], reason=form.cleaned_data["reason"]
        )
    except StaleDecision as stale:
        return _detail(request, _load_request(request, pk), notice=str(stale), status=409)
    except ValidationError as error:
        form_errors_from(form, error)
        return _detail(request, _load_request(request, pk), withdraw_form=form, status=400)
    messages.success(request, _("申请已撤回。"))
    return redirect("supervision:request_detail", pk=change_request.pk)


urlpatterns = [
    path("tasks/<int:pk>/requests/new/", request_new, name="request_new"),
    path("requests/<int:pk>/", request_detail, name="request_detail"),
    path("requests/<int:pk>/decide/", request_decide, name="request_decide"),
    path("requests/<int:pk>/withdraw/", request_withdraw, name="request_withdraw"),
]
