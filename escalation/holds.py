"""Holding the automatic ladder for a task (暂停自动督办), with a reason, until a day or
until released; by-hand notices, urges and instructions still go. Logged in the thread and
the audit trail like every step."""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.choices import EventType
from audit.services import record
from escalation import permissions as can
from escalation.choices import Action
from escalation.models import Hold, Step
from escalation.urges import load_task


def active_hold(task_id: int, today: datetime.date | None = None) -> Hold | None:
    today = today or timezone.localdate()
    hold = Hold.objects.filter(task_id=task_id, released_at__isnull=True).select_related("held_by").first()
    return hold if hold is not None and hold.holds_on(today) else None


def _log(hold: Hold, user, action: str, comment: str) -> None:
    Step.objects.create(task_id=hold.task_id, hold=hold, action=action, actor=user, comment=comment)
    record(
        EventType.TRANSITION,
        user=user,
        obj=hold,
        detail={"action": action, "comment": comment[:500], "until": hold.until.isoformat() if hold.until else None},
    )


def hold(task_id: int, user, *, reason: str, until: datetime.date | None = None, today=None) -> Hold:
    today = today or timezone.localdate()
    with transaction.atomic():
        task = load_task(task_id)
        if not can.may_hold(user, task):
            raise PermissionDenied(_("您无权暂停该任务的自动督办。"))
        reason = (reason or "").strip()
        if not reason:
            raise ValidationError({"reason": [_("请写明暂停原因。")]})
        if until is not None and until < today:
            raise ValidationError({"until": [_("暂停至的日期不能早于今天。")]})
        # A hold whose day has passed is released before a new one is taken.
        Hold.objects.filter(task=task, released_at__isnull=True, until__lt=today).update(released_at=timezone.now())
        try:
            with transaction.atomic():
                item = Hold.objects.create(task=task, reason=reason, until=until, held_by=user)
        except IntegrityError:
            raise ValidationError(_("该任务的自动督办已暂停。")) from None
        _log(item, user, Action.HOLD, reason)
    return item


def release(task_id: int, user, *, comment: str = "") -> Hold:
    with transaction.atomic():
        task = load_task(task_id)
        if not can.may_hold(user, task):
            raise PermissionDenied(_("您无权恢复该任务的自动督办。"))
        item = Hold.objects.select_for_update().filter(task=task, released_at__isnull=True).first()
        if item is None:
            raise ValidationError(_("该任务的自动督办没有暂停。"))
        item.released_at, item.released_by = timezone.now(), user
        item.save(update_fields=["released_at", "released_by"])
        _log(item, user, Action.RELEASE, (comment or "").strip())
    return item
