"""Task statuses, owner roles, and the status transitions allowed, written down once."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class TaskStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("未开始")
    IN_PROGRESS = "in_progress", _("进行中")
    DONE = "done", _("已完成")
    LAGGING = "lagging", _("滞后")
    ON_HOLD = "on_hold", _("暂缓")
    # Closed out (销号) by the supervision office after checking the completion report:
    # the one final state. 已完成 is the lead's claim, waiting for that check.
    CLOSED = "closed", _("已销号")


# Work that is finished as far as the unit is concerned: not overdue, not owed a report.
# Only CLOSED is final; DONE waits for the close-out decision (supervision.closeout).
FINISHED = (TaskStatus.DONE, TaskStatus.CLOSED)


# From each status, the statuses a progress update may move a task to. Staying put is
# always allowed (a note or a new percent without a status change).
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    TaskStatus.NOT_STARTED: frozenset(
        {TaskStatus.IN_PROGRESS, TaskStatus.DONE, TaskStatus.LAGGING, TaskStatus.ON_HOLD}
    ),
    TaskStatus.IN_PROGRESS: frozenset({TaskStatus.DONE, TaskStatus.LAGGING, TaskStatus.ON_HOLD}),
    TaskStatus.LAGGING: frozenset({TaskStatus.IN_PROGRESS, TaskStatus.DONE, TaskStatus.ON_HOLD}),
    TaskStatus.ON_HOLD: frozenset({TaskStatus.IN_PROGRESS, TaskStatus.LAGGING}),
    # A report marking the task 已完成 files its close-out request; from there the task
    # moves only by the close-out's decision (rejected → 进行中, approved → 已销号) or
    # its withdrawal, and a closed task only by a leader's reopening (supervision.closeout).
    TaskStatus.DONE: frozenset(),
    TaskStatus.CLOSED: frozenset(),
}


def can_transition(current: str, new: str) -> bool:
    return new == current or new in ALLOWED_TRANSITIONS.get(current, frozenset())


class OwnerRole(models.TextChoices):
    LEAD = "lead", _("牵头")
    CO_OWNER = "co_owner", _("配合")


class MilestoneEventKind(models.TextChoices):
    DONE = "done", _("完成")
    REOPENED = "reopened", _("撤销完成")
