"""Task statuses, owner roles, and the status transitions allowed, written down once."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class TaskStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("未开始")
    IN_PROGRESS = "in_progress", _("进行中")
    DONE = "done", _("已完成")
    LAGGING = "lagging", _("滞后")
    ON_HOLD = "on_hold", _("暂缓")


# From each status, the statuses a progress update may move a task to. Staying put is
# always allowed (a note or a new percent without a status change).
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    TaskStatus.NOT_STARTED: frozenset(
        {TaskStatus.IN_PROGRESS, TaskStatus.DONE, TaskStatus.LAGGING, TaskStatus.ON_HOLD}
    ),
    TaskStatus.IN_PROGRESS: frozenset({TaskStatus.DONE, TaskStatus.LAGGING, TaskStatus.ON_HOLD}),
    TaskStatus.LAGGING: frozenset({TaskStatus.IN_PROGRESS, TaskStatus.DONE, TaskStatus.ON_HOLD}),
    TaskStatus.ON_HOLD: frozenset({TaskStatus.IN_PROGRESS, TaskStatus.LAGGING}),
    # Reopening a finished task is a real event (an inspection finds it incomplete).
    TaskStatus.DONE: frozenset({TaskStatus.IN_PROGRESS}),
}


def can_transition(current: str, new: str) -> bool:
    return new == current or new in ALLOWED_TRANSITIONS.get(current, frozenset())


class OwnerRole(models.TextChoices):
    LEAD = "lead", _("牵头")
    CO_OWNER = "co_owner", _("配合")


class MilestoneEventKind(models.TextChoices):
    DONE = "done", _("完成")
    REOPENED = "reopened", _("撤销完成")
