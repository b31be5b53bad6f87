"""The 督办单 in the ledger and the bulletin: every notice on an export's tasks, read in one
query as plain values (never per task), and the words the two files print about them."""

import dataclasses
import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from escalation.choices import OPEN_NOTICE_STATES, RANK, Level, NoticeState
from escalation.models import Notice, is_overdue
from tasks.models import Task


@dataclasses.dataclass
class NoticeLine:
    """One notice as the exports print it."""

    pk: int
    task_id: int
    number: str
    level: str
    state: str
    issued_on: datetime.date
    reply_due_on: datetime.date
    answered_at: datetime.datetime | None
    answered_late: bool
    agency_id: int
    agency_name: str
    agency_order: int
    plan_title: str
    task_number: str
    task_heading: str

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_NOTICE_STATES

    @property
    def level_label(self) -> str:
        return str(Level(self.level).label)

    @property
    def state_label(self) -> str:
        return str(NoticeState(self.state).label)

    @property
    def task_label(self) -> str:
        # As Task.__str__ prints it.
        return f"{self.task_number}. {self.task_heading}" if self.task_number else self.task_heading

    def unanswered_late(self, today: datetime.date) -> bool:
        """Still waiting for the addressee's answer, past the reply deadline."""
        return is_overdue(self.state, self.reply_due_on, today)

    def lateness(self, today: datetime.date) -> str:
        """逾期反馈 / 逾期未反馈N天 / empty."""
        if self.answered_late:
            return _("逾期反馈")
        if self.unanswered_late(today):
            return _("逾期未反馈%(days)d天") % {"days": (today - self.reply_due_on).days}
        return ""

    def answered_at_local(self) -> datetime.datetime | None:
        """The answer's time, local and naive (what a spreadsheet cell holds)."""
        if self.answered_at is None:
            return None
        return timezone.localtime(self.answered_at).replace(tzinfo=None, microsecond=0)


_FIELDS = (
    "pk",
    "task_id",
    "number",
    "level",
    "state",
    "issued_on",
    "reply_due_on",
    "answered_at",
    "answered_late",
    "agency_id",
    "agency__name",
    "agency__order",
    "task__plan__title",
    "task__number",
    "task__heading",
)


def export_notices(tasks: QuerySet[Task], condition: Q | None = None) -> list[NoticeLine]:
    """The notices on `tasks` (the export's scope: scoped_tasks), oldest first, in one
    query; `condition` narrows them in the database."""
    notices = Notice.objects.filter(task__in=tasks.values("pk"))
    if condition is not None:
        notices = notices.filter(condition)
    rows = notices.order_by("issued_at", "id").values_list(*_FIELDS)
    return [NoticeLine(*row) for row in rows]


@dataclasses.dataclass
class TaskNotices:
    """What the ledger's row of a task says about its notices."""

    count: int = 0  # every notice issued on it, but those cancelled
    highest_open: str = ""  # the highest level among its open notices
    latest: NoticeLine | None = None

    @property
    def highest_open_label(self) -> str:
        return str(Level(self.highest_open).label) if self.highest_open else ""

    @property
    def latest_text(self) -> str:
        if self.latest is None:
            return ""
        return _("%(number)s（%(level)s，%(state)s）") % {
            "number": self.latest.number,
            "level": self.latest.level_label,
            "state": self.latest.state_label,
        }


def per_task(lines: list[NoticeLine]) -> dict[int, TaskNotices]:
    """Each task's notice figures, from the export's notices (oldest first)."""
    found: dict[int, TaskNotices] = {}
    for line in lines:
        summary = found.setdefault(line.task_id, TaskNotices())
        if line.state != NoticeState.CANCELLED:
            summary.count += 1
        if line.is_open and (not summary.highest_open or RANK[Level(line.level)] > RANK[Level(summary.highest_open)]):
            summary.highest_open = line.level
        summary.latest = line
    return found
