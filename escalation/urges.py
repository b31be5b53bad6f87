"""催办 (urge) and 批示 (a leader's instruction): written here, moved through
escalation.machine. Both are short: one message, one answer."""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from escalation import permissions as can
from escalation.choices import Action
from escalation.machine import INSTRUCTIONS, URGES
from escalation.models import Instruction, Notice, Urge
from tasks.models import Task

MESSAGE_MAX_CHARS = 2000


def load_task(task_id: int) -> Task:
    """The task with what the rules read; an id that is no task is refused (not a 500)."""
    task = Task.objects.select_related("plan").prefetch_related("task_owners").filter(pk=task_id).first()
    if task is None:
        raise ValidationError({"task": [_("任务不存在。")]})
    return task


def _text(value: str, field: str, missing: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: [missing]})
    if len(value) > MESSAGE_MAX_CHARS:
        raise ValidationError({field: [_("内容不能超过%(n)d个字。") % {"n": MESSAGE_MAX_CHARS}]})
    return value


def urge(
    task_id: int,
    user,
    *,
    message: str,
    reply_by: datetime.date | None = None,
    to_co_owners: bool = False,
    today: datetime.date | None = None,
) -> Urge:
    today = today or timezone.localdate()
    with transaction.atomic():
        task = load_task(task_id)
        if not can.may_urge(user, task):
            raise PermissionDenied(_("您无权催办该任务。"))
        message = _text(message, "message", _("请填写催办内容。"))
        if reply_by is not None and reply_by < today:
            raise ValidationError({"reply_by": [_("答复时限不能早于今天。")]})
        item = Urge.objects.create(
            task=task, message=message, reply_by=reply_by, to_co_owners=bool(to_co_owners), issued_by=user
        )
        URGES.record_creation(item, user, comment=message, action=Action.URGE)
    return item


def reply(urge_id: int, user, *, version: int, answer: str) -> Urge:
    with transaction.atomic():
        item = URGES.lock(urge_id)
        URGES.check(item, user, Action.REPLY, version=version)
        answer = _text(answer, "answer", _("请填写答复内容。"))
        URGES.apply(
            item,
            Action.REPLY,
            user,
            version=version,
            locked=True,
            comment=answer,
            changes={"answer": answer, "answered_by": user, "answered_at": timezone.now()},
        )
    return item


def instruct(
    task_id: int,
    user,
    *,
    text: str,
    respond_by: datetime.date,
    notice_id: int | None = None,
    today: datetime.date | None = None,
) -> Instruction:
    today = today or timezone.localdate()
    with transaction.atomic():
        task = load_task(task_id)
        if not can.may_instruct(user, task):
            raise PermissionDenied(_("您无权对该任务作出批示。"))
        text = _text(text, "text", _("请填写批示内容。"))
        if respond_by is None:
            raise ValidationError({"respond_by": [_("请填写反馈时限。")]})
        if respond_by < today:
            raise ValidationError({"respond_by": [_("反馈时限不能早于今天。")]})
        notice = None
        if notice_id is not None:
            notice = Notice.objects.filter(pk=notice_id, task=task).first()
            if notice is None:
                raise ValidationError({"notice": [_("该督办单不属于此任务。")]})
        item = Instruction.objects.create(task=task, notice=notice, text=text, respond_by=respond_by, issued_by=user)
        INSTRUCTIONS.record_creation(item, user, comment=text, action=Action.INSTRUCT)
    return item


def respond(instruction_id: int, user, *, version: int, response: str) -> Instruction:
    with transaction.atomic():
        item = INSTRUCTIONS.lock(instruction_id)
        INSTRUCTIONS.check(item, user, Action.RESPOND, version=version)
        response = _text(response, "response", _("请填写落实情况。"))
        INSTRUCTIONS.apply(
            item,
            Action.RESPOND,
            user,
            version=version,
            locked=True,
            comment=response,
            changes={"response": response, "responded_by": user, "responded_at": timezone.now()},
        )
    return item


def conclude(instruction_id: int, user, action: str, *, version: int, comment: str = "") -> Instruction:
    """The leader settles the instruction (办结) or asks for more (退回)."""
    if action not in (Action.SETTLE, Action.RETURN):
        raise ValidationError(_("不支持的操作。"))
    with transaction.atomic():
        item = INSTRUCTIONS.lock(instruction_id)
        changes = {"settled_at": timezone.now()} if action == Action.SETTLE else {}
        INSTRUCTIONS.apply(item, action, user, version=version, locked=True, comment=comment, changes=changes)
    return item
