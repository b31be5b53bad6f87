"""Closing out a finished task (销号). The lead files it by reporting the task 已完成
(supervision.progress.report_progress files the CloseOut); the supervision office checks
the completion report against a short checklist and approves — the task becomes 已销号,
read-only — or rejects with requirements — the task returns to 进行中. The lead may
withdraw a pending request; a leader may reopen a closed task with a reason."""

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from supervision.choices import Action, CloseOutState
from supervision.machine import CLOSE_OUTS
from supervision.models import CloseOut
from supervision.progress import EvidenceInput, ReadingInput, missed_indicators, report_progress
from tasks.choices import TaskStatus
from tasks.models import ProgressUpdate, Task


def request_close_out(
    task_id: int,
    user,
    *,
    task_version: int,
    summary: str,
    explanation: str = "",
    evidence: Iterable[EvidenceInput] = (),
    milestone_ids: Iterable[int] = (),
    readings: Iterable[ReadingInput] = (),
    submission_key: str = "",
) -> CloseOut:
    """The completion report: the task marked 已完成 with its summary, evidence, last
    milestones and final readings, and the close-out request it files."""
    if not (summary or "").strip():
        raise ValidationError({"summary": [_("请填写完成情况。")]})
    with transaction.atomic():
        update = report_progress(
            task_id,
            user,
            based_on_version=task_version,
            status=TaskStatus.DONE,
            note=summary,
            evidence=evidence,
            milestone_ids=milestone_ids,
            readings=readings,
            submission_key=submission_key,
            explanation=explanation,
        )
        close_out = CloseOut.objects.filter(progress_update=update).first()
        if close_out is None:
            raise ValidationError(_("该任务已申请销号，正在审核中。"))
    return close_out


def checklist(close_out: CloseOut) -> dict[str, bool]:
    """What the platform can see for the supervisor's checklist: evidence on the task,
    every milestone done, every indicator attained (or the miss explained)."""
    task = close_out.task
    return {
        "evidence": task.attachments.exists(),
        "milestones": not task.milestones.filter(done_on__isnull=True).exists(),
        "indicators": not missed_indicators(task) or bool(close_out.explanation.strip()),
    }


def _move_task(task_id: int, user, status: str, percent: int, note: str, completed_on=None) -> ProgressUpdate:
    """The task's status moved by a decision, as a progress record in its log (who, why),
    and its actual completion date set (closed out) or cleared (back in progress)."""
    task = Task.objects.select_for_update().get(pk=task_id)
    update = ProgressUpdate(task=task, author=user, status=status, percent=percent, note=note)
    update.save()
    task = update.task
    if task.completed_on != completed_on:
        task.completed_on = completed_on
        task.save(update_fields=["completed_on", "updated_at"])
    return update


def decide_close_out(
    close_out_id: int,
    user,
    *,
    version: int,
    approve: bool,
    evidence_checked: bool = False,
    milestones_checked: bool = False,
    indicators_checked: bool = False,
    requirements: str = "",
) -> CloseOut:
    """Approve (every checklist item ticked) or reject with requirements."""
    requirements = (requirements or "").strip()
    with transaction.atomic():
        close_out = CLOSE_OUTS.lock(close_out_id)
        now = timezone.now()
        if approve:
            if not (evidence_checked and milestones_checked and indicators_checked):
                raise ValidationError({"checklist": [_("请逐项核对佐证材料、时间节点和指标后再批准销号。")]})
            CLOSE_OUTS.apply(
                close_out,
                Action.APPROVE,
                user,
                version=version,
                comment=requirements,
                locked=True,
                changes={
                    "evidence_checked": True,
                    "milestones_checked": True,
                    "indicators_checked": True,
                    "decided_by": user,
                    "decided_at": now,
                },
            )
            _move_task(
                close_out.task_id,
                user,
                TaskStatus.CLOSED,
                100,
                _("销号：%(note)s") % {"note": requirements or _("审核通过")},
            )
            Task.objects.filter(pk=close_out.task_id).update(completed_on=timezone.localdate(close_out.submitted_at))
        else:
            CLOSE_OUTS.apply(
                close_out,
                Action.REJECT,
                user,
                version=version,
                comment=requirements,
                locked=True,
                changes={
                    "evidence_checked": evidence_checked,
                    "milestones_checked": milestones_checked,
                    "indicators_checked": indicators_checked,
                    "decided_by": user,
                    "decided_at": now,
                    "requirements": requirements,
                },
            )
            _back_in_progress(close_out, user, _("销号退回：%(why)s") % {"why": requirements})
    return close_out


def _back_in_progress(close_out: CloseOut, user, note: str) -> None:
    before = close_out.progress_update.percent_before if close_out.progress_update else None
    # Back to the percent the task had before it was reported done.
    percent = before if before is not None else 100
    _move_task(close_out.task_id, user, TaskStatus.IN_PROGRESS, percent, note)


def withdraw_close_out(close_out_id: int, user, *, version: int, reason: str = "") -> CloseOut:
    """The lead takes back a pending request: the task is 进行中 again."""
    with transaction.atomic():
        close_out = CLOSE_OUTS.lock(close_out_id)
        CLOSE_OUTS.apply(close_out, Action.WITHDRAW, user, version=version, comment=reason, locked=True)
        _back_in_progress(close_out, user, _("撤回销号申请：%(why)s") % {"why": reason or "-"})
    return close_out


def reopen_task(task_id: int, user, *, reason: str) -> CloseOut:
    """A leader reopens a closed-out task with a reason: it is 进行中 again, and its
    close-out is marked reopened (the approval stays in its thread)."""
    reason = (reason or "").strip()
    with transaction.atomic():
        latest = (
            CloseOut.objects.filter(task_id=task_id, state=CloseOutState.APPROVED)
            .order_by("-decided_at", "-id")
            .first()
        )
        if latest is None:
            raise ValidationError(_("该任务尚未销号，无需重新打开。"))
        close_out = CLOSE_OUTS.lock(latest.pk)
        if not CLOSE_OUTS.may(close_out, user, Action.REOPEN):
            raise PermissionDenied(_("只有领导可以重新打开已销号的任务。"))
        CLOSE_OUTS.apply(
            close_out,
            Action.REOPEN,
            user,
            version=close_out.version,
            comment=reason,
            locked=True,
            changes={"reopen_reason": reason},
        )
        _back_in_progress(close_out, user, _("重新打开：%(why)s") % {"why": reason})
    return close_out
