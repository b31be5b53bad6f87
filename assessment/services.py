"""Assessment (考核): scores per agency from the year's events, the ranking, the freeze.

The events of a plan are read in a fixed handful of queries (one per kind, whatever the
number of tasks), turned into facts and scored by assessment.rules, the one module of
scoring rules. A frozen year is read from its stored rows. The bulletin's ranking
(dashboards) reads `standings`."""

import bisect
import dataclasses
import datetime
import decimal
from collections import defaultdict
from typing import TypedDict, cast

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Agency
from accounts.services import scope_agency_ids
from assessment import rules
from assessment.choices import ALLOWED, SchemeState
from assessment.models import Evaluation, FrozenItem, FrozenStanding, Scheme, SchemeRule
from assessment.rules import Block, Fact, Item, ItemRole, Setting
from audit.choices import EventType
from audit.services import record
from core.roles import Role
from escalation.choices import NoticeState
from escalation.models import Notice
from indicators.models import Indicator
from indicators.services import attained, target_text, with_latest_reading
from indicators.units import with_unit
from supervision.choices import Action, CloseOutState, RequestKind, RequestState
from supervision.models import ChangeRequest, CloseOut, PeriodReport, ReportRevision, Transition
from tasks.choices import FINISHED
from tasks.models import Task, TaskOwner
from workdays.services import working_days_between
from workplans.cycles import Cycle, cycle_for

Decimal = decimal.Decimal
# Rows per INSERT when a year is frozen.
FREEZE_BATCH = 2000


@dataclasses.dataclass(frozen=True)
class Standing:
    """One agency's place in a plan's ranking up to a day."""

    rank: int
    agency_id: int
    agency_name: str
    points: decimal.Decimal
    lead_points: decimal.Decimal
    co_points: decimal.Decimal
    # Leaders' evaluations (领导评价): points = lead_points + co_points + evaluation_points.
    evaluation_points: decimal.Decimal = rules.ZERO


@dataclasses.dataclass(frozen=True)
class ScoredItem:
    """An item with what its page shows beside it: the agency's and task's names and the
    reporting cycle it counts in."""

    item: Item
    agency_name: str
    task_label: str
    cycle_start: datetime.date
    cycle_label: str

    def __getattr__(self, name):
        return getattr(self.item, name)

    @property
    def role_label(self) -> str:
        return str(ItemRole(self.item.role).label)

    @property
    def block_label(self) -> str:
        return str(Block(self.item.block).label)


@dataclasses.dataclass
class Result:
    """A plan's scored year up to a day: every item and the ranking."""

    scheme: Scheme | None
    until: datetime.date | None
    items: list[ScoredItem]
    standings: list[Standing]
    cycles: list[Cycle]


# --- The scheme ---------------------------------------------------------------------------


def default_weights() -> dict[str, Decimal]:
    """The weights a new scheme starts from: settings.ASSESSMENT_DEFAULT_WEIGHTS (the
    environment's ASSESSMENT_LEAD_WEIGHT and ASSESSMENT_CO_OWNER_WEIGHT, 1.00 and 0.50)."""
    configured = settings.ASSESSMENT_DEFAULT_WEIGHTS
    return {role: Decimal(str(configured[role])) for role in ("lead", "co_owner")}


def scheme_of(plan) -> Scheme | None:
    return Scheme.objects.filter(plan=plan).first()


def settings_of(scheme: Scheme, scheme_rules=None) -> dict[str, Setting]:
    """The scheme's blocks as the rules read them; a block the scheme has no row for (one
    added to the rules later) is off."""
    rows = scheme_rules if scheme_rules is not None else scheme.rules.all()
    found = {row.block: Setting(row.enabled, row.points, row.cap) for row in rows}
    return {block: found.get(block, Setting(False, rules.DEFAULT_POINTS[block], None)) for block in Block.values}


def weights_of(scheme: Scheme) -> dict[str, Decimal]:
    return {ItemRole.LEAD: scheme.lead_weight, ItemRole.CO_OWNER: scheme.co_weight}


def create_scheme(plan, user) -> Scheme:
    """A draft scheme for `plan` with every block at its default points and the default
    weights; the plan's existing scheme if it has one."""
    with transaction.atomic():
        existing = Scheme.objects.select_for_update().filter(plan=plan).first()
        if existing is not None:
            return existing
        weights = default_weights()
        scheme = Scheme.objects.create(
            plan=plan, lead_weight=weights["lead"], co_weight=weights["co_owner"], created_by=user
        )
        SchemeRule.objects.bulk_create(
            SchemeRule(scheme=scheme, block=block, enabled=True, points=rules.DEFAULT_POINTS[block])
            for block in Block.values
        )
        record(
            EventType.CREATE,
            user=user,
            obj=scheme,
            detail={"plan": plan.pk, "lead_weight": str(scheme.lead_weight), "co_weight": str(scheme.co_weight)},
        )
    return scheme


def _locked(scheme_id: int, version: int | None) -> Scheme:
    scheme = Scheme.objects.select_for_update().select_related("plan").get(pk=scheme_id)
    if scheme.is_frozen:
        raise ValidationError(_("本年度考核结果已冻结，考核方案和领导评价不能再修改。"), code="frozen")
    if scheme.plan.is_closed:
        # A year closed with its scheme still a draft: closed all the same.
        raise ValidationError(_("本计划年度已关闭，考核方案和领导评价不能再修改。"), code="frozen")
    if version is not None and scheme.version != version:
        raise ValidationError(_("考核方案已被他人修改，请刷新页面后重试。"), code="stale")
    return scheme


def save_scheme(scheme_id: int, user, *, version: int, lead_weight, co_weight, blocks: dict[str, Setting]) -> Scheme:
    """Write the scheme's weights and blocks (refused once frozen, or when someone saved
    since `version`), audited with what changed."""
    with transaction.atomic():
        scheme = _locked(scheme_id, version)
        rows = {row.block: row for row in scheme.rules.select_for_update()}
        changes: dict[str, list] = {}
        if scheme.lead_weight != lead_weight:
            changes["lead_weight"] = [str(scheme.lead_weight), str(lead_weight)]
        if scheme.co_weight != co_weight:
            changes["co_weight"] = [str(scheme.co_weight), str(co_weight)]
        for block, setting in blocks.items():
            row = rows.get(block) or SchemeRule(scheme=scheme, block=block)
            before = (row.enabled, row.points, row.cap) if row.pk else None
            after = (setting.enabled, setting.points, setting.cap)
            if before != after:
                changes[block] = [_setting_text(before), _setting_text(after)]
                row.enabled, row.points, row.cap = after
                row.save()
        scheme.lead_weight, scheme.co_weight = lead_weight, co_weight
        scheme.version += 1
        scheme.save()
        record(EventType.UPDATE, user=user, obj=scheme, detail={"changes": changes})
    return scheme


def _setting_text(value) -> str | None:
    if value is None:
        return None
    enabled, points, cap = value
    return f"{'on' if enabled else 'off'} {points}" + (f" cap {cap}" if cap is not None else "")


def set_state(scheme_id: int, user, *, version: int, state: str) -> Scheme:
    """Activate a draft or put an active scheme back to draft (freezing is freeze())."""
    with transaction.atomic():
        scheme = _locked(scheme_id, version)
        # The field holds SchemeState's values as plain strings, which key ALLOWED alike.
        current = cast(SchemeState, scheme.state)
        if state == SchemeState.FROZEN or state not in ALLOWED.get(current, ()):
            raise ValidationError(_("考核方案不能从“%(before)s”改为该状态。") % {"before": scheme.get_state_display()})
        before = scheme.state
        scheme.state = state
        scheme.version += 1
        scheme.save()
        record(EventType.UPDATE, user=user, obj=scheme, detail={"state": [before, state]})
    return scheme


def add_evaluation(scheme_id: int, user, *, agency_id: int, points: Decimal, reason: str) -> Evaluation:
    """A leader's evaluation of an agency in their scope: points within the rules' range and
    a written reason; refused once the year is frozen. Audited."""
    reason = (reason or "").strip()
    errors = {}
    why = rules.check_evaluation_points(points)
    if why:
        errors["points"] = [why]
    if not reason:
        errors["reason"] = [_("请填写评价理由。")]
    if errors:
        raise ValidationError(errors)
    if user.role != Role.LEADER:
        raise PermissionDenied
    scope = scope_agency_ids(user)
    if scope is not None and agency_id not in scope:
        raise PermissionDenied
    with transaction.atomic():
        scheme = _locked(scheme_id, None)
        if scheme.state != SchemeState.ACTIVE:
            raise ValidationError(_("考核方案尚未启用，暂不能评价。"))
        if agency_id not in participant_ids(scheme.plan):
            raise ValidationError({"agency": [_("该单位在本计划中没有任务。")]})
        evaluation = Evaluation.objects.create(
            scheme=scheme, agency_id=agency_id, points=points, reason=reason, given_by=user
        )
        record(
            EventType.CREATE,
            user=user,
            obj=evaluation,
            detail={"plan": scheme.plan_id, "agency": agency_id, "points": str(points), "reason": reason},
        )
    return evaluation


def participant_ids(plan) -> set[int]:
    """The agencies that own a task of the plan, as lead or co-owner."""
    return set(TaskOwner.objects.filter(task__plan=plan).values_list("agency_id", flat=True))


# --- The events of a plan, in a handful of queries -----------------------------------------


def year_cycles(plan) -> list[Cycle]:
    """The plan's reporting cycles in its year, from the one it was issued in (January when
    it has no issue date)."""
    start = plan.issued_on if plan.issued_on and plan.issued_on.year == plan.year else datetime.date(plan.year, 1, 1)
    cycles, day = [], start
    while day.year == plan.year:
        cycle = cycle_for(plan.reporting_cycle, plan.report_due_day, day)
        cycles.append(cycle)
        day = cycle.end + datetime.timedelta(days=1)
    return cycles


def assessment_day(plan, until: datetime.date | None) -> datetime.date:
    """The day events are counted up to: `until` (today when not given), at most the plan's
    last day."""
    return min(until or timezone.localdate(), plan.year_end)


def _local_date(moment: datetime.datetime | None) -> datetime.date | None:
    return timezone.localdate(moment) if moment is not None else None


def collect(
    plan, scheme: Scheme | None, today: datetime.date, evaluated_by: datetime.date | None = None
) -> tuple[list[Fact], dict, dict]:
    """The plan's facts up to `today`, the owners of each task ([(agency id, role)]) and
    each task's label, in ten queries whatever the number of tasks. Leaders evaluate the
    year once it is over, so evaluations count up to `evaluated_by` (default `today`), past
    the year's end, and sit on its last day."""
    tasks = list(
        Task.objects.filter(plan=plan).values(
            "id", "number", "heading", "due_on", "status", "completed_on", "last_progress_at"
        )
    )
    owners: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for task_id, agency_id, role in (
        TaskOwner.objects.filter(task__plan=plan)
        .order_by("task_id", "order", "id")
        .values_list("task_id", "agency_id", "role")
    ):
        owners[task_id].append((agency_id, role))
    labels = {task["id"]: _task_label(task) for task in tasks}
    facts: list[Fact] = []
    cycles = year_cycles(plan)
    numbers = {cycle.start: index for index, cycle in enumerate(cycles, start=1)}

    first_sent = ReportRevision.objects.filter(report=OuterRef("pk"), number=1).values("submitted_at")[:1]
    reports = {
        (row["task_id"], row["period_start"]): row
        for row in PeriodReport.objects.filter(task__plan=plan)
        .annotate(first_sent_at=Subquery(first_sent))
        .values("id", "task_id", "period_start", "due_on", "late", "submitted_at", "first_sent_at")
    }
    for task in tasks:
        if not owners.get(task["id"]):
            continue
        finished_on = task["completed_on"]
        if finished_on is None and task["status"] in FINISHED:
            # 已完成 waiting for its close-out has no completion date yet: the day it said so
            # (its last progress) stands for it.
            finished_on = _local_date(task["last_progress_at"]) or today
        for cycle in cycles:
            report = reports.get((task["id"], cycle.start))
            due_on = report["due_on"] if report else cycle.due_on
            if report is None and finished_on is not None and finished_on <= due_on:
                continue  # finished before the cycle's report was due: nothing owed
            sent_at = (report["first_sent_at"] or report["submitted_at"]) if report else None
            sent_on = _local_date(sent_at)
            days_late = working_days_between(due_on, sent_on) if sent_on and sent_on > due_on else 0
            fact = rules.report_fact(
                cycle_number=numbers[cycle.start],
                cycle_label=cycle.label,
                due_on=due_on,
                first_sent_on=sent_on,
                late=bool(report and report["late"]),
                days_late=days_late,
                today=today,
                task_id=task["id"],
                report_id=report["id"] if report else None,
                period_start=cycle.start,
            )
            if fact is not None:
                facts.append(fact)

    returns = Transition.objects.filter(
        task__plan=plan, report__isnull=False, action=Action.RETURN, created_at__date__lte=today
    ).values("task_id", "report_id", "report__period_start", "created_at", "comment")
    for returned in returns:
        start = returned["report__period_start"]
        cycle = cycle_for(plan.reporting_cycle, plan.report_due_day, start)
        facts.append(
            rules.return_fact(
                cycle_number=numbers.get(cycle.start, 0) or 1,
                cycle_label=cycle.label,
                day=timezone.localdate(returned["created_at"]),
                comment=returned["comment"],
                task_id=returned["task_id"],
                report_id=returned["report_id"],
                period_start=cycle.start if cycle.start in numbers else None,
            )
        )

    close_outs = CloseOut.objects.filter(task__plan=plan, state=CloseOutState.APPROVED).values(
        "id", "task_id", "submitted_at", "decided_at", "task__due_on"
    )
    for close_out in close_outs:
        decided_on = _local_date(close_out["decided_at"])
        if decided_on is None or decided_on > today:
            continue
        fact = rules.close_out_fact(
            sent_on=timezone.localdate(close_out["submitted_at"]),
            due_on=close_out["task__due_on"],
            task_id=close_out["task_id"],
            close_out_id=close_out["id"],
        )
        if fact is not None:
            facts.append(fact)

    for task in tasks:
        fact = rules.overdue_fact(
            year_end=plan.year_end,
            today=today,
            due_on=task["due_on"],
            status=task["status"],
            completed_on=task["completed_on"],
            task_id=task["id"],
        )
        if fact is not None:
            facts.append(fact)

    delays = (
        ChangeRequest.objects.filter(task__plan=plan, kind=RequestKind.DELAY)
        .exclude(state=RequestState.WITHDRAWN)
        .values("id", "task_id", "state", "filed_late", "filed_at", "decided_at", "current_due_on", "approved_due_on")
    )
    for delay in delays:
        filed_on = timezone.localdate(delay["filed_at"])
        approved = delay["state"] == RequestState.APPROVED and (_local_date(delay["decided_at"]) or filed_on) <= today
        if filed_on > today:
            continue
        fact = rules.delay_fact(
            approved=approved,
            filed_late=delay["filed_late"],
            filed_on=filed_on,
            current_due_on=delay["current_due_on"],
            approved_due_on=delay["approved_due_on"],
            task_id=delay["task_id"],
            request_id=delay["id"],
        )
        if fact is not None:
            facts.append(fact)

    notices = (
        Notice.objects.filter(task__plan=plan, issued_on__lte=today)
        .exclude(state=NoticeState.CANCELLED)
        .values("id", "task_id", "level", "number", "issued_on", "agency_id")
    )
    for notice in notices:
        facts.append(
            rules.notice_fact(
                level=notice["level"],
                number=notice["number"],
                issued_on=notice["issued_on"],
                agency_id=notice["agency_id"],
                task_id=notice["task_id"],
                notice_id=notice["id"],
            )
        )

    indicators = with_latest_reading(
        Indicator.objects.filter(plan=plan, task__isnull=False).select_related("task"), day=today
    )
    for indicator in indicators:
        due_on = min(indicator.due_on or plan.year_end, plan.year_end)
        # Annotated by with_latest_reading (None when nothing is reported); the model's
        # type does not know it.
        value: Decimal | None = getattr(indicator, "latest_value", None)
        fact = rules.indicator_fact(
            name=indicator.name,
            target_text=target_text(indicator),
            value_text=with_unit(value, indicator.unit) if value is not None else None,
            is_attained=attained(indicator.comparator, indicator.target, value),
            due_on=due_on,
            today=today,
            task_id=indicator.task_id,
            indicator_id=indicator.pk,
        )
        if fact is not None:
            facts.append(fact)

    if scheme is not None:
        evaluations = Evaluation.objects.filter(
            scheme=scheme, given_at__date__lte=evaluated_by or today
        ).select_related("given_by")
        for evaluation in evaluations:
            facts.append(
                rules.evaluation_fact(
                    agency_id=evaluation.agency_id,
                    points=evaluation.points,
                    reason=evaluation.reason,
                    leader=evaluation.given_by.display_name,
                    day=min(timezone.localdate(evaluation.given_at), plan.year_end),
                    evaluation_id=evaluation.pk,
                )
            )
    return facts, dict(owners), labels


class _TaskHeading(TypedDict):
    number: str
    heading: str


def _task_label(task: _TaskHeading) -> str:
    heading = task["heading"]
    heading = heading if len(heading) <= Task.LABEL_CHARS else heading[: Task.LABEL_CHARS - 1] + "…"
    return f"{task['number']}. {heading}" if task["number"] else heading


# --- Scoring and the ranking ---------------------------------------------------------------


def _cycle_of(cycles: list[Cycle], starts: list[datetime.date], day: datetime.date) -> Cycle:
    """The cycle of the year an item counts in (the first or last for a day outside it):
    the year's cycles are consecutive, so the last one starting on or before the day.
    `starts` is the cycles' first days (a plan's year has ~120k items: no cycle_for each)."""
    return cycles[max(bisect.bisect_right(starts, day) - 1, 0)]


def _rank(totals: list[rules.Total], names: dict[int, str]) -> list[Standing]:
    ordered = sorted(totals, key=lambda t: (-t.points, names.get(t.agency_id, ""), t.agency_id))
    places = rules.ranks([t.points for t in ordered])
    return [
        Standing(
            rank=place,
            agency_id=t.agency_id,
            agency_name=names.get(t.agency_id, ""),
            points=t.points,
            lead_points=t.lead_points,
            co_points=t.co_points,
            evaluation_points=t.evaluation_points,
        )
        for place, t in zip(places, ordered, strict=True)
    ]


def result(
    plan,
    *,
    until: datetime.date | None = None,
    agency_ids: set[int] | None = None,
    cycle_start: datetime.date | None = None,
    scheme: Scheme | None = None,
) -> Result:
    """The plan's scored items and ranking up to `until` (the frozen result once frozen),
    for the agencies in `agency_ids` when given, and for one reporting cycle when
    `cycle_start` names one (the ranking then counts that cycle's items only)."""
    scheme = scheme if scheme is not None else scheme_of(plan)
    cycles = year_cycles(plan)
    if scheme is None:
        return Result(None, None, [], [], cycles)
    if scheme.is_frozen:
        return _frozen_result(plan, scheme, cycles, agency_ids, cycle_start)
    today = assessment_day(plan, until)
    facts, owners, labels = collect(plan, scheme, today, until or timezone.localdate())
    items = rules.score(facts, owners, settings_of(scheme), weights_of(scheme))
    participants = {agency_id for pairs in owners.values() for agency_id, _role in pairs}
    participants |= {item.agency_id for item in items}
    if agency_ids is not None:
        participants &= set(agency_ids)
    names = dict(Agency.objects.filter(pk__in=participants).values_list("pk", "name"))
    scored = []
    starts = [cycle.start for cycle in cycles]
    for item in items:
        if item.agency_id not in participants:
            continue
        cycle = _cycle_of(cycles, starts, item.period_start or item.day)
        if cycle_start is not None and cycle.start != cycle_start:
            continue
        scored.append(
            ScoredItem(item, names.get(item.agency_id, ""), labels.get(item.task_id, ""), cycle.start, cycle.label)
        )
    scored.sort(key=lambda s: (s.agency_name, s.item.day, s.item.block, s.item.task_id or 0))
    ranking = _rank(rules.totals([s.item for s in scored], participants), names)
    return Result(scheme, today, scored, ranking, cycles)


def _frozen_result(plan, scheme, cycles, agency_ids, cycle_start) -> Result:
    rows = FrozenItem.objects.filter(scheme=scheme)
    stored = FrozenStanding.objects.filter(scheme=scheme)
    if agency_ids is not None:
        rows = rows.filter(agency_id__in=agency_ids)
        stored = stored.filter(agency_id__in=agency_ids)
    if cycle_start is not None:
        rows = rows.filter(cycle_start=cycle_start)
    scored = [
        ScoredItem(
            Item(
                agency_id=row.agency_id,
                role=row.role,
                block=row.block,
                day=row.day,
                points=row.points,
                weighted=row.weighted_points,
                reason=row.reason,
                task_id=row.task_id,
                event_kind=row.event_kind,
                event_id=row.event_id,
            ),
            row.agency_name,
            row.task_label,
            row.cycle_start,
            row.cycle_label,
        )
        for row in rows.order_by("agency_name", "day", "block", "id")
    ]
    standings_rows = list(stored)
    if cycle_start is None and agency_ids is None:
        ranking = [
            Standing(s.rank, s.agency_id, s.agency_name, s.points, s.lead_points, s.co_points, s.evaluation_points)
            for s in standings_rows
        ]
    else:
        # A cycle's or a scope's ranking of a frozen year: ranked again from the stored
        # items, among the agencies of the stored ranking.
        names = {s.agency_id: s.agency_name for s in standings_rows}
        ranking = _rank(rules.totals([s.item for s in scored], names), names)
    return Result(scheme, scheme.frozen_until, scored, ranking, cycles)


def standings(plan, *, until: datetime.date | None = None, agency_ids: set[int] | None = None) -> list[Standing]:
    """The agencies of `plan` (those in `agency_ids` when given) ranked by points earned up
    to `until` (the frozen result once the year is frozen); empty when the plan has no
    scheme or its scheme is still a draft. Ties share a rank."""
    scheme = scheme_of(plan)
    if scheme is None or scheme.state == SchemeState.DRAFT:
        return []
    if scheme.is_frozen and agency_ids is not None:
        # The year's ranks stay the year's: a scope sees its agencies' places among all.
        return [s for s in result(plan, scheme=scheme).standings if s.agency_id in agency_ids]
    return result(plan, until=until, agency_ids=agency_ids, scheme=scheme).standings


# --- The freeze -----------------------------------------------------------------------------


def freeze(scheme_id: int, user, *, version: int, until: datetime.date | None = None) -> Scheme:
    """Fix the year's result: every item and the ranking are stored as they are now and
    the scheme becomes frozen, after which it, its evaluations and its result never change.
    Only an active scheme is frozen. Audited with the totals."""
    with transaction.atomic():
        scheme = _locked(scheme_id, version)
        if scheme.state != SchemeState.ACTIVE:
            raise ValidationError(_("只有已启用的考核方案才能冻结。"))
        plan = scheme.plan
        scheme.state = SchemeState.ACTIVE  # scored as it stands, before the flag flips
        outcome = result(plan, until=until, scheme=scheme)
        FrozenItem.objects.bulk_create(
            (
                FrozenItem(
                    scheme=scheme,
                    agency_id=s.item.agency_id,
                    agency_name=s.agency_name[:100],
                    role=s.item.role,
                    block=s.item.block,
                    task_id=s.item.task_id,
                    task_label=s.task_label[:200],
                    event_kind=s.item.event_kind,
                    event_id=s.item.event_id,
                    day=s.item.day,
                    cycle_start=s.cycle_start,
                    cycle_label=s.cycle_label,
                    points=s.item.points,
                    weighted_points=s.item.weighted,
                    reason=s.item.reason,
                )
                for s in outcome.items
            ),
            # A year of a big plan is ~100k rows: in batches, not one statement of them all.
            batch_size=FREEZE_BATCH,
        )
        FrozenStanding.objects.bulk_create(
            FrozenStanding(
                scheme=scheme,
                agency_id=s.agency_id,
                agency_name=s.agency_name[:100],
                rank=s.rank,
                points=s.points,
                lead_points=s.lead_points,
                co_points=s.co_points,
                evaluation_points=s.evaluation_points,
            )
            for s in outcome.standings
        )
        scheme.state = SchemeState.FROZEN
        scheme.frozen_by = user
        scheme.frozen_at = timezone.now()
        scheme.frozen_until = outcome.until
        scheme.version += 1
        scheme.save()
        record(
            EventType.ADMIN_ACTION,
            user=user,
            obj=scheme,
            detail={
                "action": "freeze",
                "plan": plan.pk,
                "until": f"{outcome.until:%Y-%m-%d}",
                "items": len(outcome.items),
                "standings": [[s.rank, s.agency_id, str(s.points)] for s in outcome.standings],
            },
        )
    return scheme
