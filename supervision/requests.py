"""Delay and change requests (延期/调整申请): the lead asks to move a task's or a milestone's
due date, or to change a task's wording or an indicator's target; the request climbs the
plan's chain (unit head → supervision office → the leader in charge, for targets), each
approval naming the exact date or value; the final approval writes it to the task, whose
baseline (the date and target as imported) stays for the year-end assessment."""

import datetime
import decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from indicators.models import Indicator
from supervision import permissions as can
from supervision.choices import Action, RequestKind, RequestState, Step
from supervision.deadlines import Deadline, deadline
from supervision.machine import REQUESTS, STEP_STATES, next_state
from supervision.models import OPEN_REQUEST_STATES, ChangeRequest
from tasks.models import Milestone, Task

MAX_TEXT = 5000


def chain_for(plan, kind: str) -> list[str]:
    """The steps a request of `kind` climbs on `plan` (its settings, read when filed)."""
    steps = [Step.UNIT] if plan.requests_need_unit_signoff else []
    steps.append(Step.SUPERVISOR)
    if kind == RequestKind.TARGET and plan.target_changes_need_leader:
        steps.append(Step.LEADER)
    return [str(step) for step in steps]


def _deadline_for(state: str, today: datetime.date) -> datetime.date | None:
    if state == RequestState.PENDING_UNIT:
        return deadline(Deadline.SIGNOFF, today)
    if state in (RequestState.PENDING_SUPERVISOR, RequestState.PENDING_LEADER):
        return deadline(Deadline.REVIEW, today)
    return None


def _decimal(raw, field: str) -> decimal.Decimal:
    try:
        value = decimal.Decimal(str(raw).strip())
    except (decimal.InvalidOperation, ValueError):
        raise ValidationError({field: [_("请填写数值，如 3.09。")]}) from None
    if not value.is_finite() or abs(value) >= decimal.Decimal("1e10"):
        raise ValidationError({field: [_("数值超出范围。")]})
    return value.quantize(decimal.Decimal("0.0001"))


def file_request(
    task_id: int,
    user,
    *,
    kind: str,
    reason: str,
    progress_so_far: str = "",
    milestone_id: int | None = None,
    indicator_id: int | None = None,
    proposed_due_on: datetime.date | None = None,
    proposed_text: str = "",
    proposed_target=None,
    today: datetime.date | None = None,
) -> ChangeRequest:
    """File a request; it is marked filed late when the date it concerns has passed."""
    today = today or timezone.localdate()
    reason, progress_so_far, proposed_text = (
        (reason or "").strip(),
        (progress_so_far or "").strip(),
        (proposed_text or "").strip(),
    )
    with transaction.atomic():
        task = (
            Task.objects.select_for_update(of=("self",))
            .select_related("plan")
            .prefetch_related("task_owners")
            .get(pk=task_id)
        )
        if not can.is_lead_staff(user, task):
            raise PermissionDenied(_("只有牵头单位的经办人可以提出延期或调整申请。"))
        if kind not in RequestKind.values:
            raise ValidationError({"kind": [_("请选择申请类型。")]})
        errors: dict[str, list[str]] = {}
        if not reason:
            errors["reason"] = [_("请写明申请理由。")]
        request = ChangeRequest(
            task=task, kind=kind, reason=reason[:MAX_TEXT], progress_so_far=progress_so_far[:MAX_TEXT], filed_by=user
        )
        concerned_due = task.due_on
        if kind == RequestKind.DELAY:
            if milestone_id:
                milestone = Milestone.objects.filter(pk=milestone_id, task=task).first()
                if milestone is None:
                    raise ValidationError({"milestone": [_("所选时间节点不属于此任务。")]})
                if milestone.done_on is not None:
                    errors["milestone"] = [_("该时间节点已完成，无需延期。")]
                request.milestone, concerned_due = milestone, milestone.due_on
            request.current_due_on = concerned_due
            if proposed_due_on is None:
                errors["proposed_due_on"] = [_("请填写申请延期至的日期。")]
            elif proposed_due_on <= concerned_due:
                errors["proposed_due_on"] = [_("延期后的日期应晚于现时限（%(due)s）。") % {"due": concerned_due}]
            elif proposed_due_on.year > task.plan.year + 1:
                errors["proposed_due_on"] = [_("延期不能超过下一年度。")]
            request.proposed_due_on = proposed_due_on
        elif kind == RequestKind.WORDING:
            request.current_text = task.text or task.heading
            if not proposed_text:
                errors["proposed_text"] = [_("请填写调整后的任务内容。")]
            elif proposed_text == request.current_text:
                errors["proposed_text"] = [_("调整后的内容与现内容相同。")]
            request.proposed_text = proposed_text[:MAX_TEXT]
        elif kind == RequestKind.TARGET:
            indicator = Indicator.objects.filter(pk=indicator_id, task=task).first() if indicator_id else None
            if indicator is None:
                raise ValidationError({"indicator": [_("请选择本任务的量化指标。")]})
            request.indicator, request.current_target = indicator, indicator.target
            if proposed_target in (None, ""):
                errors["proposed_target"] = [_("请填写调整后的目标值。")]
            else:
                value = _decimal(proposed_target, "proposed_target")
                if value == indicator.target:
                    errors["proposed_target"] = [_("调整后的目标值与现目标值相同。")]
                request.proposed_target = value
            concerned_due = indicator.due_on or task.due_on
        if errors:
            raise ValidationError(errors)
        open_same = ChangeRequest.objects.filter(
            task=task,
            kind=kind,
            milestone=request.milestone,
            indicator=request.indicator,
            state__in=OPEN_REQUEST_STATES,
        )
        if open_same.exists():
            raise ValidationError(_("同一事项已有申请正在审批中，请等待结果或先撤回。"))
        request.steps = chain_for(task.plan, kind)
        request.state = STEP_STATES[request.steps[0]]
        request.filed_late = today > concerned_due
        request.decision_due_on = _deadline_for(request.state, today)
        request.save()
        request.task = task
        REQUESTS.record_creation(request, user, comment=reason)
    return request


def decide_request(
    request_id: int,
    user,
    *,
    version: int,
    approve: bool,
    comment: str = "",
    approved_due_on: datetime.date | None = None,
    approved_text: str = "",
    approved_target=None,
    today: datetime.date | None = None,
) -> ChangeRequest:
    """Decide the current step. An approval names the exact date, text or target (the
    proposed one when none is given); the last approval writes it to the task."""
    today = today or timezone.localdate()
    with transaction.atomic():
        request = REQUESTS.lock(request_id)
        if not approve:
            REQUESTS.apply(
                request,
                Action.REJECT,
                user,
                version=version,
                comment=comment,
                locked=True,
                changes={"decided_at": timezone.now(), "decision_due_on": None},
            )
            return request
        changes: dict = {}
        if request.kind == RequestKind.DELAY:
            value = approved_due_on or request.approved_due_on or request.proposed_due_on
            if value <= request.current_due_on:
                raise ValidationError({"approved_due_on": [_("批准的日期应晚于现时限。")]})
            changes["approved_due_on"] = value
        elif request.kind == RequestKind.WORDING:
            value = (approved_text or "").strip() or request.approved_text or request.proposed_text
            changes["approved_text"] = value[:MAX_TEXT]
        else:
            raw = approved_target if approved_target not in (None, "") else None
            value = (
                _decimal(raw, "approved_target")
                if raw is not None
                else (request.approved_target if request.approved_target is not None else request.proposed_target)
            )
            changes["approved_target"] = value
        final = next_state(request) == RequestState.APPROVED
        if final:
            changes["decided_at"] = timezone.now()
        changes["decision_due_on"] = None if final else _deadline_for(next_state(request), today)
        REQUESTS.apply(request, Action.APPROVE, user, version=version, comment=comment, locked=True, changes=changes)
        if final:
            _apply_to_task(request)
    return request


def _apply_to_task(request: ChangeRequest) -> None:
    """Write the approved value: the current date or target moves, the baseline stays."""
    # The approval wrote the value its kind needs (decide_request).
    assert request.approved_due_on is not None or request.kind != RequestKind.DELAY
    assert request.approved_target is not None or request.kind != RequestKind.TARGET
    if request.kind == RequestKind.DELAY and request.milestone_id:
        milestone = Milestone.objects.select_for_update().get(pk=request.milestone_id)
        milestone.due_on = request.approved_due_on  # type: ignore[assignment]
        milestone.save(update_fields=["due_on"])
    elif request.kind == RequestKind.DELAY:
        task = Task.objects.select_for_update().get(pk=request.task_id)
        task.due_on = request.approved_due_on  # type: ignore[assignment]
        task.save(update_fields=["due_on", "updated_at"])
    elif request.kind == RequestKind.WORDING:
        task = Task.objects.select_for_update().get(pk=request.task_id)
        task.text = request.approved_text
        task.save(update_fields=["text", "updated_at"])
    else:
        indicator = Indicator.objects.select_for_update().get(pk=request.indicator_id or 0)
        indicator.target = request.approved_target  # type: ignore[assignment]
        indicator.save(update_fields=["target"])


def withdraw_request(request_id: int, user, *, version: int, reason: str = "") -> ChangeRequest:
    with transaction.atomic():
        request = REQUESTS.lock(request_id)
        REQUESTS.apply(
            request,
            Action.WITHDRAW,
            user,
            version=version,
            comment=reason,
            locked=True,
            changes={"decided_at": timezone.now(), "decision_due_on": None},
        )
    return request
