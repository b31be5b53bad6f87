"""The 督办单 ladder by rule (escalation.policy's thresholds), run by the escalation job on
working days:

- blue (提醒): a task due within `blue_due_within_working_days` working days below
  RISK_POLICY's due_soon_min_percent; a milestone due as soon, not done; or this cycle's
  report (supervision.PeriodReport) not sent by the cycle's due day;
- yellow (警示): the task overdue; `yellow_points_behind` points or more behind the plan
  year's pace (tasks.risk.points_behind); or a blue notice past its reply deadline
  unanswered;
- red (严重): overdue by more than `red_overdue_working_days` working days;
  `red_points_behind` points or more behind; or a yellow notice past its reply deadline
  unanswered.

A task gets at most one notice a day, of the highest level with a cause it has not had a
notice for (RuleCause: each (task, level, cause) once, ever), and only when no open notice
of that level or higher is on it; a notice records its level's causes and the lower ones
true that day, so a closed red is never followed by a yellow for the same slip. A higher
notice supersedes the lower open one. Held tasks (escalation.models.Hold) and finished
ones are left alone; notices of closed-out tasks are closed.

Everything is read in a few queries whatever the number of tasks; what is issued is
written in batches, each under the year's counter lock after a second look at what is
already there, so two runs at once issue each notice once (escalation.notices.write).
"""

import dataclasses
import datetime
from collections import defaultdict

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from escalation import facts as fact_text
from escalation import notices as service
from escalation import policy
from escalation.choices import RANK, Cause, Level, Origin
from escalation.models import Hold, Notice, RuleCause
from indicators.models import Indicator
from indicators.services import with_latest_reading
from supervision.models import SENT_REPORT_STATES, PeriodReport
from tasks.choices import FINISHED, TaskStatus
from tasks.models import Milestone, Task
from tasks.risk import due_soon_below_percent, points_behind
from tasks.services import owes_reports_q
from workdays.services import add_working_days, working_days_between
from workplans.choices import PlanStatus
from workplans.cycles import cycle_for

BATCH = 200
LEVELS_DOWN = (Level.RED, Level.YELLOW, Level.BLUE)


@dataclasses.dataclass
class Found:
    """A cause true on the day: its kind, its key (unique per task and level) and a line
    for the facts."""

    cause: str
    key: str
    line: str = ""


@dataclasses.dataclass
class Result:
    issued: dict[str, int] = dataclasses.field(default_factory=lambda: dict.fromkeys(Level.values, 0))
    closed: int = 0
    skipped: bool = False

    @property
    def total(self) -> int:
        return sum(self.issued.values())


def held_q(today: datetime.date) -> Q:
    """Tasks whose automatic ladder is held on `today` (the SQL form of Hold.holds_on)."""
    holds = Hold.objects.filter(task=OuterRef("pk"), released_at__isnull=True).filter(
        Q(until__isnull=True) | Q(until__gte=today)
    )
    return Q(Exists(holds))


def _watched(today: datetime.date, task_ids: list[int] | None = None):
    # A task marked 无需填报 owes no report and has no one to answer a notice.
    tasks = Task.objects.filter(owes_reports_q()).exclude(held_q(today))
    return tasks if task_ids is None else tasks.filter(pk__in=task_ids)


def causes_on(today: datetime.date, task_ids: list[int] | None = None) -> dict[int, dict[str, list[Found]]]:
    """Every cause true on `today`, per task and level (of `task_ids` only, when given)."""
    rules = policy.policy()
    horizon = add_working_days(today, int(rules["blue_due_within_working_days"]))
    below = due_soon_below_percent()
    yellow_points, red_points = int(rules["yellow_points_behind"]), int(rules["red_points_behind"])
    long_late = int(rules["red_overdue_working_days"])
    found: dict[int, dict[str, list[Found]]] = defaultdict(lambda: defaultdict(list))

    late_days: dict[datetime.date, int] = {}
    cycles: dict[tuple[str, int], object] = {}
    report_due: dict[int, object] = {}
    rows = _watched(today, task_ids).values_list(
        "pk", "due_on", "percent", "plan__year", "plan__reporting_cycle", "plan__report_due_day"
    )
    for task_id, due_on, percent, year, kind, due_day in rows.iterator(chunk_size=5000):
        if due_on < today:
            found[task_id][Level.YELLOW].append(Found(Cause.OVERDUE, f"overdue:{due_on}"))
            if due_on not in late_days:
                late_days[due_on] = working_days_between(due_on, today)
            if late_days[due_on] > long_late:
                found[task_id][Level.RED].append(Found(Cause.OVERDUE_LONG, f"overdue_long:{due_on}"))
        elif due_on <= horizon and percent < below:
            found[task_id][Level.BLUE].append(Found(Cause.DUE_SOON, f"due:{due_on}"))
        behind = points_behind(year, percent, today)
        if behind >= red_points:
            found[task_id][Level.RED].append(Found(Cause.BEHIND, f"behind:{year}"))
        if behind >= yellow_points:
            found[task_id][Level.YELLOW].append(Found(Cause.BEHIND, f"behind:{year}"))
        if (kind, due_day) not in cycles:
            cycles[(kind, due_day)] = cycle_for(kind, due_day, today)
        cycle = cycles[(kind, due_day)]
        if cycle.due_on < today:  # type: ignore[attr-defined]
            report_due[task_id] = cycle

    # This cycle's report not sent by its due day.
    if report_due:
        starts = {cycle.start for cycle in report_due.values()}  # type: ignore[attr-defined]
        sent = set(
            PeriodReport.objects.filter(period_start__in=starts, state__in=SENT_REPORT_STATES)
            .filter(task__plan__status=PlanStatus.ACTIVE)
            .values_list("task_id", "period_start")
        )
        for task_id, cycle in report_due.items():
            if (task_id, cycle.start) not in sent:  # type: ignore[attr-defined]
                found[task_id][Level.BLUE].append(
                    Found(
                        Cause.REPORT_LATE,
                        f"report:{cycle.start}",  # type: ignore[attr-defined]
                        fact_text.report_line(cycle.label, cycle.due_on),  # type: ignore[attr-defined]
                    )
                )

    # Milestones due within the horizon, not done.
    milestones = (
        Milestone.objects.filter(done_on__isnull=True, due_on__gte=today, due_on__lte=horizon)
        .filter(task__in=_watched(today, task_ids).values("pk"))
        .values_list("task_id", "pk", "due_on", "text")
    )
    for task_id, pk, due_on, text in milestones:
        found[task_id][Level.BLUE].append(
            Found(Cause.MILESTONE_DUE_SOON, f"milestone:{pk}:{due_on}", fact_text.milestone_line(text, due_on))
        )

    # Notices past their reply deadline unanswered: the next level up.
    ignored = (
        Notice.objects.overdue(today)
        .filter(level__in=(Level.BLUE, Level.YELLOW))
        .filter(task__in=_watched(today, task_ids).values("pk"))
        .values_list("task_id", "pk", "level", "number", "reply_due_on")
    )
    for task_id, pk, level, number, reply_due_on in ignored:
        up = Level.YELLOW if level == Level.BLUE else Level.RED
        found[task_id][up].append(Found(Cause.IGNORED, f"ignored:{pk}", fact_text.ignored_line(number, reply_due_on)))
    return found


def keys_up_to(task_id: int, level: str, today: datetime.date) -> list[tuple[str, str]]:
    """The causes of `task_id` at `level` and below true on `today` and not yet recorded: a
    notice issued by hand records them, so the ladder does not repeat it."""
    levels = causes_on(today, [task_id]).get(task_id, {})
    return _unrecorded(task_id, levels, level, _issued_keys([task_id]))


def _unrecorded(
    task_id: int, levels: dict[str, list[Found]], level: str, issued: set[tuple[int, str, str]]
) -> list[tuple[str, str]]:
    """The (level, key) causes at `level` and below not yet recorded for the task."""
    keys: list[tuple[str, str]] = []
    for lower in LEVELS_DOWN[LEVELS_DOWN.index(Level(level)) :]:
        for f in levels.get(lower, []):
            if (task_id, lower, f.key) not in issued and (lower.value, f.key) not in keys:
                keys.append((lower.value, f.key))
    return keys


def _issued_keys(task_ids: list[int]) -> set[tuple[int, str, str]]:
    keys: set[tuple[int, str, str]] = set()
    for start in range(0, len(task_ids), 2000):
        chunk = task_ids[start : start + 2000]
        keys.update(RuleCause.objects.filter(task_id__in=chunk).values_list("task_id", "level", "key"))
    return keys


def _open_ranks(task_ids: list[int]) -> dict[int, int]:
    ranks: dict[int, int] = {}
    for start in range(0, len(task_ids), 2000):
        chunk = task_ids[start : start + 2000]
        for task_id, level in Notice.objects.open().filter(task_id__in=chunk).values_list("task_id", "level"):
            ranks[task_id] = max(ranks.get(task_id, 0), RANK[Level(level)])
    return ranks


@dataclasses.dataclass
class Decision:
    task_id: int
    level: str
    found: list[Found]
    # (level, key) recorded with the notice: its own level's causes and the lower ones.
    keys: list[tuple[str, str]]


def decide(
    found: dict[int, dict[str, list[Found]]], issued: set[tuple[int, str, str]], open_rank: dict[int, int]
) -> list[Decision]:
    """Per task, the one notice the day calls for, if any."""
    decisions = []
    for task_id in sorted(found):
        levels = found[task_id]
        for level in LEVELS_DOWN:
            new = [f for f in levels.get(level, []) if (task_id, level, f.key) not in issued]
            if not new:
                continue
            if RANK[level] <= open_rank.get(task_id, 0):
                break  # an open notice of this level or higher covers it
            decisions.append(Decision(task_id, level, new, _unrecorded(task_id, levels, level, issued)))
            break
    return decisions


def _drafts(decisions: list[Decision], today: datetime.date) -> list[service.Draft]:
    """The notices of a batch, their facts read in a few queries for the whole batch."""
    ids = [d.task_id for d in decisions]
    tasks = Task.objects.select_related("plan").prefetch_related("task_owners").in_bulk(ids)
    indicators: dict[int | None, list] = defaultdict(list)
    for indicator in with_latest_reading(Indicator.objects.filter(task_id__in=ids), today).order_by(
        "task_id", "order", "id"
    ):
        indicators[indicator.task_id].append(indicator)
    late_memo: dict = {}
    reply_due = {level: policy.default_reply_due(level, today) for level in Level.values}
    drafts = []
    for decision in decisions:
        task = tasks.get(decision.task_id)
        if task is None or task.status in FINISHED:
            continue
        data = fact_text.figures(task, today, indicators=indicators[task.pk], late_memo=late_memo)
        evidence, plan = service.wants_by_default(decision.level)
        causes = []
        for f in decision.found:
            if f.cause not in causes:
                causes.append(f.cause)
        drafts.append(
            service.Draft(
                task=task,
                level=decision.level,
                origin=Origin.RULE,
                requirements=service.default_requirements(decision.level),
                reply_due_on=reply_due[decision.level],
                facts=fact_text.text(data, [f.line for f in decision.found if f.line]),
                facts_data=data,
                causes=causes,
                keys=decision.keys,
                wants_evidence=evidence,
                wants_plan=plan,
            )
        )
    return drafts


def _close_finished(result: Result) -> None:
    closed_out = (
        Notice.objects.open().filter(task__status=TaskStatus.CLOSED).values_list("task_id", flat=True).distinct()
    )
    for task_id in list(closed_out):
        result.closed += service.close_for_task(task_id)


def run(today: datetime.date | None = None) -> Result:
    """Issue what `today` calls for (the caller decides whether today is a working day)."""
    today = today or timezone.localdate()
    result = Result()
    _close_finished(result)
    found = causes_on(today)
    task_ids = sorted(found)
    decisions = decide(found, _issued_keys(task_ids), _open_ranks(task_ids))
    for start in range(0, len(decisions), BATCH):
        batch = decisions[start : start + BATCH]
        with transaction.atomic():
            # The counter lock first, then a second look: a run that got here before us
            # has committed, and what it issued is not issued again.
            counter = service.lock_counter(today.year)
            ids = [d.task_id for d in batch]
            still = decide({d.task_id: found[d.task_id] for d in batch}, _issued_keys(ids), _open_ranks(ids))
            for notice in service.write(_drafts(still, today), today, counter):
                result.issued[notice.level] += 1
    return result
