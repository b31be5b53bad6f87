"""The scoring rules of the assessment (考核), in one place: the building blocks a scheme is
made of, their default points, who of a task's owners each concerns, and the pure
functions that turn the year's events into scored items with a reason a person can read.

Nothing here touches the database: services.py gathers the events in a few queries and
hands them over as plain values, so every rule is table-tested on its own
(tests/assessment/test_rules.py)."""

import dataclasses
import datetime
import decimal
import functools
from collections.abc import Iterable

from django.db import models
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from indicators.units import plain_number
from tasks.choices import FINISHED, OwnerRole

Decimal = decimal.Decimal
CENT = Decimal("0.01")
ZERO = Decimal("0")

# The bounds of one leader evaluation (领导评价), in points: enough to tip a close ranking,
# too little to overturn what the year's record says.
EVALUATION_MIN = Decimal("-5")
EVALUATION_MAX = Decimal("5")
# The weights of a task's lead (牵头) and co-owners (配合) a scheme is created with are
# settings.ASSESSMENT_DEFAULT_WEIGHTS (from the environment); each scheme then has its own.


class Block(models.TextChoices):
    """A building block of a scheme: one kind of event and the points it is worth."""

    REPORT_ON_TIME = "report_on_time", gettext_lazy("按时报送")
    REPORT_LATE = "report_late", gettext_lazy("逾期报送")
    REPORT_MISSING = "report_missing", gettext_lazy("未报送")
    REPORT_RETURNED = "report_returned", gettext_lazy("报送被督查室退回")
    CLOSED_ON_TIME = "closed_on_time", gettext_lazy("按期销号")
    OVERDUE_AT_YEAR_END = "overdue_year_end", gettext_lazy("年底逾期未完成")
    NOTICE_BLUE = "notice_blue", gettext_lazy("蓝色督办单")
    NOTICE_YELLOW = "notice_yellow", gettext_lazy("黄色督办单")
    NOTICE_RED = "notice_red", gettext_lazy("红色督办单")
    DELAY_IN_TIME = "delay_in_time", gettext_lazy("到期前申请延期获批")
    DELAY_LATE = "delay_late", gettext_lazy("逾期申请延期")
    INDICATOR_ATTAINED = "indicator_attained", gettext_lazy("指标达标")
    INDICATOR_MISSED = "indicator_missed", gettext_lazy("指标未达标")
    EVALUATION = "evaluation", gettext_lazy("领导评价")


# What common practice gives each block (a scheme starts from these; the admin edits them).
DEFAULT_POINTS: dict[str, Decimal] = {
    Block.REPORT_ON_TIME: Decimal("1"),
    Block.REPORT_LATE: Decimal("-1"),
    Block.REPORT_MISSING: Decimal("-2"),
    Block.REPORT_RETURNED: Decimal("-1"),
    Block.CLOSED_ON_TIME: Decimal("3"),
    Block.OVERDUE_AT_YEAR_END: Decimal("-3"),
    Block.NOTICE_BLUE: Decimal("0"),
    Block.NOTICE_YELLOW: Decimal("-1"),
    Block.NOTICE_RED: Decimal("-2"),
    Block.DELAY_IN_TIME: Decimal("0"),
    Block.DELAY_LATE: Decimal("-1"),
    Block.INDICATOR_ATTAINED: Decimal("2"),
    Block.INDICATOR_MISSED: Decimal("-2"),
    # A leader's evaluation carries its own points (within EVALUATION_MIN..MAX); the block
    # only switches evaluations on or off.
    Block.EVALUATION: Decimal("1"),
}

# Blocks every owner of the task shares (the lead at the lead weight, each co-owner at the
# co-owner weight): the task's outcome is everybody's. The others are the lead's own duty
# (the cycle's report, asking for a delay) or land on the notice's addressee.
SHARED_BLOCKS = frozenset(
    {Block.CLOSED_ON_TIME, Block.OVERDUE_AT_YEAR_END, Block.INDICATOR_ATTAINED, Block.INDICATOR_MISSED}
)

NOTICE_BLOCKS = {"blue": Block.NOTICE_BLUE, "yellow": Block.NOTICE_YELLOW, "red": Block.NOTICE_RED}
NOTICE_LEVEL_NAMES = {
    "blue": gettext_lazy("蓝色督办单"),
    "yellow": gettext_lazy("黄色督办单"),
    "red": gettext_lazy("红色督办单"),
}


class ItemRole(models.TextChoices):
    """Whose contribution an item is: the task's lead, a co-owner, or the agency as a whole
    (a leader's evaluation is not about one task)."""

    LEAD = "lead", gettext_lazy("牵头")
    CO_OWNER = "co_owner", gettext_lazy("配合")
    AGENCY = "agency", gettext_lazy("单位")


class EventKind(models.TextChoices):
    """What an item's event is, so its page can be linked."""

    REPORT = "report", gettext_lazy("周期报送")
    CYCLE = "cycle", gettext_lazy("报送周期")
    RETURN = "return", gettext_lazy("督查退回")
    CLOSE_OUT = "close_out", gettext_lazy("销号")
    TASK = "task", gettext_lazy("任务")
    NOTICE = "notice", gettext_lazy("督办单")
    REQUEST = "request", gettext_lazy("延期申请")
    INDICATOR = "indicator", gettext_lazy("量化指标")
    EVALUATION = "evaluation", gettext_lazy("领导评价")


@dataclasses.dataclass(frozen=True)
class Setting:
    """One block as a scheme sets it."""

    enabled: bool = True
    points: Decimal = ZERO
    cap: Decimal | None = None  # most points (in absolute value) an agency gets from the block in a year


def default_settings() -> dict[str, Setting]:
    return {block: Setting(True, DEFAULT_POINTS[block], None) for block in Block.values}


@dataclasses.dataclass(frozen=True)
class Fact:
    """A scorable event before it meets a scheme: which block, about which task, when, and
    why (the reason as a person reads it). `points` is set for an evaluation only (its own)."""

    block: str
    day: datetime.date
    reason: str
    task_id: int | None = None
    event_kind: str = EventKind.TASK
    event_id: int | None = None
    agency_id: int | None = None  # the one agency it concerns (an addressee, an evaluated unit)
    points: Decimal | None = None
    # The first day of the reporting cycle the event belongs to when that is not the cycle
    # of its day (a late report sent in June belongs to May's cycle).
    period_start: datetime.date | None = None


@dataclasses.dataclass(frozen=True)
class Item:
    """A point an agency earned or lost, with everything behind it."""

    agency_id: int
    role: str
    block: str
    day: datetime.date
    points: Decimal
    weighted: Decimal
    reason: str
    task_id: int | None = None
    event_kind: str = EventKind.TASK
    event_id: int | None = None
    period_start: datetime.date | None = None


# --- The events, one function each -----------------------------------------------------


def cycle_name(number: int, label: str) -> str:
    """ "第3期（2026年5月）"."""
    return _cycle_name(number, label, get_language())


@functools.lru_cache(maxsize=1024)
def _cycle_name(number: int, label: str, language: str | None) -> str:
    # A year's reports name a dozen cycles ~100k times: translated once per language.
    return _("第%(number)d期（%(label)s）") % {"number": number, "label": label}


def report_fact(
    *,
    cycle_number: int,
    cycle_label: str,
    due_on: datetime.date,
    first_sent_on: datetime.date | None,
    late: bool,
    days_late: int,
    today: datetime.date,
    task_id: int | None = None,
    report_id: int | None = None,
    period_start: datetime.date | None = None,
) -> Fact | None:
    """The cycle's report: sent on time, sent late (by so many working days), or missing
    once its due day has passed with nothing sent. None while it is not yet due."""
    name = cycle_name(cycle_number, cycle_label)
    if first_sent_on is not None and first_sent_on <= today:
        if late or first_sent_on > due_on:
            days = max(days_late, 1)
            reason = _("%(cycle)s报告逾期%(days)d个工作日报送") % {"cycle": name, "days": days}
            block = Block.REPORT_LATE
        else:
            reason = _("%(cycle)s报告按时报送") % {"cycle": name}
            block = Block.REPORT_ON_TIME
        return Fact(block, first_sent_on, reason, task_id, EventKind.REPORT, report_id, period_start=period_start)
    if today > due_on:
        reason = _("%(cycle)s报告截至%(due)s未报送") % {"cycle": name, "due": f"{due_on:%Y-%m-%d}"}
        kind = EventKind.REPORT if report_id else EventKind.CYCLE
        return Fact(Block.REPORT_MISSING, due_on, reason, task_id, kind, report_id, period_start=period_start)
    return None


def return_fact(
    *,
    cycle_number: int,
    cycle_label: str,
    day: datetime.date,
    comment: str,
    task_id=None,
    report_id=None,
    period_start: datetime.date | None = None,
) -> Fact:
    """The supervision office returned the cycle's report for its substance (督查退回; the
    unit head's own return before sending it on is the unit's business and scores nothing)."""
    said = " ".join(comment.split())
    said = said if len(said) <= 40 else said[:39] + "…"
    name = cycle_name(cycle_number, cycle_label)
    reason = (
        _("%(cycle)s报告被督查室退回：%(comment)s") % {"cycle": name, "comment": said}
        if said
        else _("%(cycle)s报告被督查室退回") % {"cycle": name}
    )
    return Fact(Block.REPORT_RETURNED, day, reason, task_id, EventKind.REPORT, report_id, period_start=period_start)


def close_out_fact(*, sent_on: datetime.date, due_on: datetime.date, task_id=None, close_out_id=None) -> Fact | None:
    """An approved close-out (销号) whose completion report was filed by the task's due date
    (the date as approved delays left it). The unit's filing date counts, not the office's
    decision: the unit does not choose how long the review takes. A late one scores nothing
    here; the overdue task is scored at year end if it is still open then."""
    if sent_on > due_on:
        return None
    reason = _("按期完成并销号（完成时限%(due)s，%(sent)s报送完成）") % {
        "due": f"{due_on:%Y-%m-%d}",
        "sent": f"{sent_on:%Y-%m-%d}",
    }
    return Fact(Block.CLOSED_ON_TIME, sent_on, reason, task_id, EventKind.CLOSE_OUT, close_out_id)


def finished_by(day: datetime.date, *, status: str, completed_on: datetime.date | None) -> bool:
    """Whether a task was finished on `day`: by its completion date when it has one, else by
    its status (已完成 waiting for its close-out counts as finished, as everywhere else)."""
    if completed_on is not None:
        return completed_on <= day
    return status in FINISHED


def overdue_fact(
    *, year_end: datetime.date, today: datetime.date, due_on: datetime.date, status: str, completed_on, task_id=None
) -> Fact | None:
    """A task due within the year and still not finished when the year ended. Judged once
    the year is over (`today` past the year's last day), never before."""
    if today < year_end or due_on > year_end:
        return None
    if finished_by(year_end, status=status, completed_on=completed_on):
        return None
    reason = _("完成时限%(due)s，至年底仍未完成") % {"due": f"{due_on:%Y-%m-%d}"}
    return Fact(Block.OVERDUE_AT_YEAR_END, year_end, reason, task_id, EventKind.TASK, task_id)


def notice_fact(
    *, level: str, number: str, issued_on: datetime.date, agency_id: int, task_id=None, notice_id=None
) -> Fact:
    """A 督办单 (not cancelled) to its addressee: "红色督办单 督办〔2026〕7号"."""
    reason = f"{NOTICE_LEVEL_NAMES[level]} {number}"
    return Fact(NOTICE_BLOCKS[level], issued_on, reason, task_id, EventKind.NOTICE, notice_id, agency_id)


def delay_fact(
    *,
    approved: bool,
    filed_late: bool,
    filed_on: datetime.date,
    current_due_on: datetime.date | None,
    approved_due_on: datetime.date | None,
    task_id=None,
    request_id=None,
) -> Fact | None:
    """A delay request (延期): approved and asked before the date it moves (no penalty by
    default), or asked after that date had passed (a penalty, whatever its outcome)."""
    due = f"{current_due_on:%Y-%m-%d}" if current_due_on else "—"
    if filed_late:
        reason = _("%(filed)s申请延期，原时限%(due)s已过") % {"filed": f"{filed_on:%Y-%m-%d}", "due": due}
        return Fact(Block.DELAY_LATE, filed_on, reason, task_id, EventKind.REQUEST, request_id)
    if approved:
        reason = _("到期前申请延期获批（原时限%(due)s，批准至%(approved)s）") % {
            "due": due,
            "approved": f"{approved_due_on:%Y-%m-%d}" if approved_due_on else "—",
        }
        return Fact(Block.DELAY_IN_TIME, filed_on, reason, task_id, EventKind.REQUEST, request_id)
    return None


def indicator_fact(
    *,
    name: str,
    target_text: str,
    value_text: str | None,
    is_attained: bool | None,
    due_on: datetime.date,
    today: datetime.date,
    task_id=None,
    indicator_id=None,
) -> Fact | None:
    """An indicator judged on its due day (its own, else the plan's year end) by its latest
    reading: attained, or missed (no reading counts as missed). None before the due day."""
    if today < due_on:
        return None
    if is_attained:
        reason = _("指标“%(name)s”达标：%(value)s（目标%(target)s）") % {
            "name": name,
            "value": value_text,
            "target": target_text,
        }
        return Fact(Block.INDICATOR_ATTAINED, due_on, reason, task_id, EventKind.INDICATOR, indicator_id)
    if value_text is None:
        reason = _("指标“%(name)s”未报送数值（目标%(target)s）") % {"name": name, "target": target_text}
    else:
        reason = _("指标“%(name)s”未达标：%(value)s（目标%(target)s）") % {
            "name": name,
            "value": value_text,
            "target": target_text,
        }
    return Fact(Block.INDICATOR_MISSED, due_on, reason, task_id, EventKind.INDICATOR, indicator_id)


def evaluation_fact(
    *, agency_id: int, points: Decimal, reason: str, leader: str, day: datetime.date, evaluation_id=None
) -> Fact:
    """A leader's evaluation of an agency, with its own points and written reason."""
    text = _("%(leader)s评价：%(reason)s") % {"leader": leader, "reason": " ".join(reason.split())}
    return Fact(Block.EVALUATION, day, text, None, EventKind.EVALUATION, evaluation_id, agency_id, points)


def check_evaluation_points(points: Decimal) -> str | None:
    """Why `points` cannot be an evaluation, or None when it can."""
    if not points.is_finite() or not EVALUATION_MIN <= points <= EVALUATION_MAX:
        return _("领导评价分值须在%(low)s至%(high)s分之间。") % {"low": EVALUATION_MIN, "high": EVALUATION_MAX}
    if points != points.quantize(CENT):
        return _("领导评价分值最多保留两位小数。")
    return None


# --- Facts to items ----------------------------------------------------------------------


def score(
    facts: Iterable[Fact],
    owners: dict[int, list[tuple[int, str]]],
    settings: dict[str, Setting],
    weights: dict[str, Decimal],
) -> list[Item]:
    """Score each fact under the scheme's `settings`: a shared block goes to every owner of
    the task (`owners`: task id → [(agency id, OwnerRole)]), a lead-only block to its lead,
    a notice or an evaluation to its own agency. Points are weighted by the owner's role
    (`weights` by OwnerRole; an evaluation is the agency's own, at 1). Disabled blocks
    score nothing; caps are applied afterwards (apply_caps)."""
    items: list[Item] = []
    for fact in facts:
        setting = settings.get(fact.block)
        if setting is None or not setting.enabled:
            continue
        if fact.block == Block.EVALUATION:
            points = fact.points if fact.points is not None else ZERO
            items.append(_item(fact, fact.agency_id, ItemRole.AGENCY, points, points))
            continue
        task_owners = owners.get(fact.task_id, []) if fact.task_id is not None else []
        if fact.agency_id is not None:
            role = next((r for a, r in task_owners if a == fact.agency_id), OwnerRole.LEAD)
            targets = [(fact.agency_id, role)]
        elif fact.block in SHARED_BLOCKS:
            targets = task_owners
        else:
            targets = [(a, r) for a, r in task_owners if r == OwnerRole.LEAD]
        for agency_id, role in targets:
            weight = weights.get(role, Decimal("1"))
            items.append(_item(fact, agency_id, role, setting.points, (setting.points * weight).quantize(CENT)))
    return apply_caps(items, {block: s.cap for block, s in settings.items() if s.cap is not None})


def _item(fact: Fact, agency_id, role, points, weighted) -> Item:
    return Item(
        agency_id=agency_id,
        role=role,
        block=fact.block,
        day=fact.day,
        points=points,
        weighted=weighted,
        reason=fact.reason,
        task_id=fact.task_id,
        event_kind=fact.event_kind,
        event_id=fact.event_id,
        period_start=fact.period_start,
    )


def apply_caps(items: list[Item], caps: dict[str, Decimal]) -> list[Item]:
    """Hold each agency's points from a block within its cap (in absolute value), in the
    order the events happened: what goes past the cap is kept as an item worth what was
    left (often 0), its reason saying so, so the drill-down still shows every event."""
    if not caps:
        return items
    used: dict[tuple[int, str], Decimal] = {}
    capped: list[Item] = []
    for item in sorted(items, key=lambda i: (i.day, i.block, i.task_id or 0, i.event_id or 0)):
        cap = caps.get(item.block)
        if cap is None:
            capped.append(item)
            continue
        key = (item.agency_id, item.block)
        left = max(abs(cap) - used.get(key, ZERO), ZERO)
        size = abs(item.weighted)
        if size <= left:
            used[key] = used.get(key, ZERO) + size
            capped.append(item)
            continue
        kept = (left.copy_sign(item.weighted) if left else ZERO).quantize(CENT)
        used[key] = abs(cap)
        reason = item.reason + _("（本项已达上限%(cap)s分）") % {"cap": f"{abs(cap).normalize():f}"}
        capped.append(dataclasses.replace(item, weighted=kept, reason=reason))
    return capped


@dataclasses.dataclass(frozen=True)
class Total:
    agency_id: int
    points: Decimal
    lead_points: Decimal
    co_points: Decimal
    evaluation_points: Decimal


# Which of an agency's sums (lead, co-owner, evaluation) an item's role adds to; any other
# role (the agency's own: an evaluation) goes to the last.
_TOTAL_COLUMNS: dict[str, int] = {ItemRole.LEAD: 0, ItemRole.CO_OWNER: 1}


def totals(items: Iterable[Item], agency_ids: Iterable[int]) -> list[Total]:
    """Each agency's points: all, from the tasks it leads, from those it helps with, and
    from leaders' evaluations (points = the three together)."""
    sums = {agency_id: [ZERO, ZERO, ZERO] for agency_id in agency_ids}
    for item in items:
        row = sums.setdefault(item.agency_id, [ZERO, ZERO, ZERO])
        index = _TOTAL_COLUMNS.get(item.role, 2)
        row[index] += item.weighted
    return [Total(agency_id, lead + co + ev, lead, co, ev) for agency_id, (lead, co, ev) in sums.items()]


def ranks(points: list[Decimal]) -> list[int]:
    """Competition ranks for points sorted from most to fewest: ties share a rank and the
    next rank skips (100, 90, 90, 80 → 1, 2, 2, 4)."""
    result: list[int] = []
    for position, value in enumerate(points, start=1):
        result.append(result[-1] if result and points[position - 2] == value else position)
    return result


def points_text(value) -> str:
    """Points as people write them on pages and in the bulletin: "3", "-22", "0.5", never
    "-22.00" or "-0" (a spreadsheet keeps the number itself)."""
    if value is None or value == "":
        return ""
    number = decimal.Decimal(value)
    return "0" if number == 0 else plain_number(number)
