"""The end of a plan's year: closing it (the assessment frozen, the plan archived and read
only, except the tasks marked 长期推进 that continue in place) and the rollover of its
unfinished tasks into the next year's plan (carried, marked 长期推进, or left).

Both are written in one transaction each and audited as one event. Who may write what on
a closed year is tasks.services.task_access's `writable`; this module only closes it."""

import dataclasses
import datetime
from collections import Counter, defaultdict
from typing import cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, Prefetch, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from assessment.choices import SchemeState
from assessment.models import Scheme
from assessment.services import freeze
from audit.choices import EventType
from audit.history import give_reason
from audit.services import record
from escalation.choices import OPEN_NOTICE_STATES
from escalation.models import Notice
from indicators.models import Indicator
from indicators.services import attained, with_latest_reading
from tasks.choices import FINISHED, OwnerRole, TaskStatus
from tasks.models import Milestone, Task, TaskOwner
from workplans.choices import PlanStatus
from workplans.models import MAX_YEAR, Plan, Section
from workplans.signals import plan_written

# --- Closing the year -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class CloseFigures:
    """What closing a plan's year would freeze: its tasks by status, the 督办单 still open
    (they stop moving once the year is closed) and the assessment scheme's state."""

    by_status: list[tuple[str, int]]  # (label, count) in TaskStatus order, zeros left out
    total: int
    unfinished: int
    long_term: int
    open_notices: int
    scheme: Scheme | None


def close_figures(plan: Plan) -> CloseFigures:
    counts = dict(plan.tasks.values_list("status").annotate(n=Count("pk")).order_by())
    flags = plan.tasks.aggregate(
        unfinished=Count("pk", filter=~Q(status__in=FINISHED) & Q(reporting_exempt=False)),
        long_term=Count("pk", filter=Q(long_term=True) & ~Q(status__in=FINISHED)),
    )
    return CloseFigures(
        by_status=[(str(status.label), counts[status.value]) for status in TaskStatus if counts.get(status.value)],
        total=sum(counts.values()),
        unfinished=flags["unfinished"],
        long_term=flags["long_term"],
        open_notices=Notice.objects.filter(task__plan=plan, state__in=OPEN_NOTICE_STATES).count(),
        scheme=Scheme.objects.filter(plan=plan).first(),
    )


def close_year(plan_id: int, user, *, scheme_version: int | None = None) -> Plan:
    """Close the plan's year: its active assessment scheme is frozen (assessment.services.
    freeze, checked against `scheme_version`, the version the admin saw), the plan is
    archived with when and by whom, and one event is audited. Only an active plan is
    closed; ValidationError (code "not_active", or the freeze's "stale") otherwise."""
    with transaction.atomic():
        plan = Plan.objects.select_for_update().get(pk=plan_id)
        if plan.status != PlanStatus.ACTIVE:
            raise ValidationError(
                _("只有“执行中”的计划才能关闭年度；本计划当前为“%(status)s”。") % {"status": plan.get_status_display()},
                code="not_active",
            )
        figures = close_figures(plan)
        scheme = figures.scheme
        if scheme is not None and scheme_version is not None and scheme.version != scheme_version:
            # The scheme moved on since the admin read the page (activated, put back to
            # draft, frozen): what they confirmed is not what would happen.
            raise ValidationError(_("考核方案已被他人修改，请刷新页面后重试。"), code="stale")
        frozen = False
        if scheme is not None and scheme.state == SchemeState.ACTIVE:
            freeze(scheme.pk, user, version=scheme.version)
            frozen = True
        plan.status = PlanStatus.ARCHIVED
        plan.closed_at = timezone.now()
        plan.closed_by = user
        give_reason(plan, _("关闭年度"), user)
        plan.save(update_fields=["status", "closed_at", "closed_by", "updated_at"])
        record(
            EventType.ADMIN_ACTION,
            user=user,
            obj=plan,
            detail={
                "action": "close_year",
                "year": plan.year,
                "tasks": figures.total,
                "unfinished": figures.unfinished,
                "long_term": figures.long_term,
                "open_notices": figures.open_notices,
                "scheme": scheme.pk if scheme else None,
                "scheme_frozen": frozen,
            },
        )
        transaction.on_commit(lambda: plan_written.send(sender=Plan, plan_id=plan.pk), robust=True)
    return plan


# --- Rollover into the next year -------------------------------------------------------


class Choice:
    """What happens to one unfinished task at the rollover."""

    CARRY = "carry"  # a new task in the next year's plan, under 上年结转
    LONG_TERM = "long_term"  # 长期推进: continues in place, writable after the close
    LEAVE = "leave"  # stays in the closed year as unfinished

    @staticmethod
    def choices() -> list[tuple[str, str]]:
        return [(Choice.CARRY, _("结转至下年")), (Choice.LONG_TERM, _("长期推进")), (Choice.LEAVE, _("不结转"))]


NEW_PLAN = "new"
# Plans of the next year that can receive carried tasks: not yet closed.
TARGET_STATUSES = (PlanStatus.DRAFT, PlanStatus.ACTIVE)


def unfinished_tasks(plan: Plan):
    """The tasks the rollover is about: not 已完成 or 已销号, and owed reports (a task marked
    无需填报 is a general statement, not work to carry)."""
    return plan.tasks.exclude(status__in=FINISHED).filter(reporting_exempt=False)


def preview_tasks(plan: Plan) -> list[Task]:
    """unfinished_tasks with what the preview shows, in a fixed number of queries: section,
    owners (lead agency), and where each was carried already."""
    return list(
        unfinished_tasks(plan)
        .select_related("section")
        .prefetch_related(
            Prefetch("task_owners", queryset=TaskOwner.objects.select_related("agency").order_by("role", "order")),
            Prefetch("carried_into", queryset=Task.objects.select_related("plan").order_by("pk")),
        )
        .order_by("order", "pk")
    )


def default_choice(task: Task) -> str:
    return Choice.LONG_TERM if task.long_term else Choice.CARRY


def target_plans(plan: Plan):
    """The next year's plans a rollover may write into."""
    return Plan.objects.filter(year=plan.year + 1, status__in=TARGET_STATUSES).order_by("title", "pk")


def next_title(plan: Plan) -> str:
    """The new plan's default title: the year replaced by the next one."""
    year, following = str(plan.year), str(plan.year + 1)
    if year in plan.title:
        return plan.title.replace(year, following)
    return _("%(year)s年%(title)s") % {"year": following, "title": plan.title}


@dataclasses.dataclass(frozen=True)
class AgencyCounts:
    agency: str
    counts: dict[str, int]  # Choice → number of tasks


def counts_by_agency(tasks: list[Task], choices: dict[int, str]) -> tuple[dict[str, int], list[AgencyCounts]]:
    """How many tasks go each way, in all and by lead agency (tasks already carried are
    left out: they do not move again)."""
    total: Counter[str] = Counter()
    per_agency: dict[str, Counter[str]] = defaultdict(Counter)
    for task in tasks:
        if task.carried_into.all():
            continue
        choice = choices.get(task.pk, default_choice(task))
        lead = task.lead_agency
        total[choice] += 1
        per_agency[lead.name if lead else _("（无牵头单位）")][choice] += 1
    return dict(total), [AgencyCounts(name, dict(c)) for name, c in sorted(per_agency.items())]


@dataclasses.dataclass(frozen=True)
class RolloverResult:
    target: Plan | None  # None: nothing carried, no new plan made
    created_plan: bool
    carried: list[tuple[int, int]]  # (original task id, new task id)
    long_term: list[int]
    left: list[int]
    already_carried: list[int]


def rollover(
    plan_id: int,
    user,
    *,
    choices: dict[int, str],
    target_plan_id: int | None = None,
    new_title: str = "",
) -> RolloverResult:
    """Carry the plan's unfinished tasks into the next year, in one transaction.

    `choices` maps each unfinished task to a Choice (a task not named keeps its default:
    长期推进 if already marked so, else carried). The target is an existing draft or active
    plan of the next year (`target_plan_id`) or, when None, a new draft plan titled
    `new_title` with this plan's reporting settings. Each carried task becomes a task of
    the target's 上年结转 section (created if missing), numbered on from its last task,
    due at the target's year end, keeping the original's baseline due date, owners, 责任人,
    open milestones (moved by the years between the plans) and unattained indicators, and
    linked to the original (carried_from). A task already carried (in any plan) is
    skipped: running the rollover twice carries nothing twice. ValidationError (by field:
    target, new_title, choices) for a bad target or choice; nothing is written then."""
    new_title = (new_title or "").strip()
    with transaction.atomic():
        plan = Plan.objects.select_for_update().get(pk=plan_id)
        if plan.status == PlanStatus.DRAFT:
            raise ValidationError(_("草稿计划尚未下发，没有可结转的任务。"), code="not_active")
        tasks = list(
            unfinished_tasks(plan)
            .select_for_update(of=("self",))
            .prefetch_related("task_owners", "responsible_users", "carried_into")
            .order_by("order", "pk")
        )
        if set(choices.values()) - {Choice.CARRY, Choice.LONG_TERM, Choice.LEAVE}:
            raise ValidationError({"choices": [_("结转方式无效，请重新选择。")]})
        already = [task for task in tasks if task.carried_into.all()]
        moving = [task for task in tasks if not task.carried_into.all()]
        chosen = {task.pk: choices.get(task.pk, default_choice(task)) for task in moving}
        to_carry = [task for task in moving if chosen[task.pk] == Choice.CARRY]
        # A new plan only when something goes into it; an existing target is checked always.
        target, created_plan = None, False
        if to_carry or target_plan_id is not None:
            target, created_plan = _target(plan, user, target_plan_id, new_title)
        carried = _carry(plan, target, to_carry, user) if target is not None and to_carry else []
        # 长期推进 only on the tasks chosen so: a task carried or left is not continued here.
        changed = [task for task in moving if task.long_term != (chosen[task.pk] == Choice.LONG_TERM)]
        for task in changed:
            task.long_term = chosen[task.pk] == Choice.LONG_TERM
        if changed:
            bulk_update_with_history(
                changed, Task, ["long_term"], default_user=user, default_change_reason=_("年度结转")
            )
        result = RolloverResult(
            target=target,
            created_plan=created_plan,
            carried=carried,
            long_term=[task.pk for task in moving if chosen[task.pk] == Choice.LONG_TERM],
            left=[task.pk for task in moving if chosen[task.pk] == Choice.LEAVE],
            already_carried=[task.pk for task in already],
        )
        record(
            EventType.ADMIN_ACTION,
            user=user,
            obj=plan,
            detail={
                "action": "rollover",
                "target_plan": target.pk if target else None,
                "target_created": created_plan,
                "counts": {
                    "carried": len(result.carried),
                    "long_term": len(result.long_term),
                    "left": len(result.left),
                    "already_carried": len(result.already_carried),
                },
                "carried": [list(pair) for pair in result.carried],
                "long_term": result.long_term,
                "left": result.left,
                "already_carried": result.already_carried,
            },
        )
        if target is not None and carried:
            target_id = target.pk
            transaction.on_commit(lambda: plan_written.send(sender=Plan, plan_id=target_id), robust=True)
    return result


def _target(plan: Plan, user, target_plan_id: int | None, new_title: str) -> tuple[Plan, bool]:
    if target_plan_id is not None:
        target = Plan.objects.select_for_update().filter(pk=target_plan_id).first()
        if target is None or target.pk == plan.pk or target.year != plan.year + 1:
            raise ValidationError({"target": [_("请选择 %(year)s 年度的工作计划。") % {"year": plan.year + 1}]})
        if target.status not in TARGET_STATUSES:
            raise ValidationError({"target": [_("所选计划已关闭，不能再结转任务。")]})
        return target, False
    if plan.year + 1 > MAX_YEAR:
        raise ValidationError({"target": [_("年度超出范围，不能创建下一年度计划。")]})
    if not new_title:
        raise ValidationError({"new_title": [_("请填写新计划的标题。")]})
    if len(new_title) > (Plan._meta.get_field("title").max_length or 0):
        raise ValidationError({"new_title": [_("标题过长。")]})
    target = Plan(
        title=new_title,
        year=plan.year + 1,
        issuer_id=plan.issuer_id,
        status=PlanStatus.DRAFT,
        reporting_cycle=plan.reporting_cycle,
        report_due_day=plan.report_due_day,
        requires_unit_signoff=plan.requires_unit_signoff,
        requests_need_unit_signoff=plan.requests_need_unit_signoff,
        target_changes_need_leader=plan.target_changes_need_leader,
        leader_in_charge_id=plan.leader_in_charge_id,
    )
    give_reason(target, _("年度结转"), user)
    target.save()
    target.supervisors.set(plan.supervisors.all())
    # Its creation is in the plan's history; the rollover's one event names it.
    return target, True


def carried_section(target: Plan, user) -> Section:
    """The target's top-level 上年结转 section, created last in the plan when missing. Its
    label is data in the site's language (a top-level label is unique in its plan)."""
    with translation.override(settings.LANGUAGE_CODE):
        label, title = _("上年结转"), _("上年未完成任务")
    section = Section.objects.filter(plan=target, parent__isnull=True, label=label).first()
    if section is None:
        last = Section.objects.filter(plan=target, parent__isnull=True).aggregate(m=Max("order"))["m"]
        section = Section(plan=target, label=label, title=title, order=(last or 0) + 1)
        give_reason(section, _("年度结转"), user)
        section.save()
    return section


def _next_number(section: Section) -> int:
    numbers = section.tasks.exclude(number="").values_list("number", flat=True)
    return max((int(n) for n in numbers if n.isdigit()), default=0) + 1


def _moved(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a year without one
        return day.replace(year=day.year + years, day=28)


def _carry(plan: Plan, target: Plan, originals: list[Task], user) -> list[tuple[int, int]]:
    """The new tasks, owners, 责任人, milestones and indicators, in a fixed number of
    statements whatever the number of tasks."""
    section = carried_section(target, user)
    number = _next_number(section)
    order = (target.tasks.aggregate(m=Max("order"))["m"] or 0) + 1
    years = target.year - plan.year
    new_tasks = []
    for i, original in enumerate(originals):
        new_tasks.append(
            Task(
                plan=target,
                section=section,
                number=str(number + i),
                heading=original.heading,
                text=original.text,
                search_text=Task.make_search_text(original.heading, original.text),
                due_on=target.year_end,
                baseline_due_on=original.baseline_due_on or original.due_on,
                order=order + i,
                carried_from=original,
            )
        )
    writer = {"default_user": user, "default_change_reason": _("年度结转")}
    new_tasks = bulk_create_with_history(new_tasks, Task, **writer)
    pairs = list(zip(originals, new_tasks, strict=True))
    owners = [
        TaskOwner(task=new, agency_id=owner.agency_id, role=owner.role, order=owner.order)
        for original, new in pairs
        for owner in sorted(original.task_owners.all(), key=lambda o: (o.role != OwnerRole.LEAD, o.order, o.pk))
    ]
    bulk_create_with_history(owners, TaskOwner, **writer)
    through = Task.responsible_users.through
    through.objects.bulk_create(
        through(task_id=new.pk, user_id=person.pk)
        for original, new in pairs
        for person in original.responsible_users.all()
    )
    new_of = {original.pk: new.pk for original, new in pairs}
    milestones = [
        Milestone(
            task_id=new_of[m.task_id],
            due_on=_moved(m.due_on, years),
            baseline_due_on=_moved(m.due_on, years),
            text=m.text,
            order=m.order,
        )
        for m in Milestone.objects.filter(task__in=originals, done_on__isnull=True).order_by("task", "due_on", "order")
    ]
    bulk_create_with_history(milestones, Milestone, **writer)
    indicators = [
        Indicator(
            plan=target,
            task_id=new_of[cast(int, i.task_id)],  # an indicator of one of `originals`
            name=i.name,
            comparator=i.comparator,
            target=i.target,
            baseline_target=i.baseline_target if i.baseline_target is not None else i.target,
            unit=i.unit,
            due_on=_moved(i.due_on, years) if i.due_on else None,
            baseline=i.baseline,
            order=i.order,
        )
        for i in with_latest_reading(Indicator.objects.filter(task__in=originals)).order_by("task", "order", "pk")
        if attained(i.comparator, i.target, i.latest_value) is not True  # type: ignore[attr-defined]
    ]
    bulk_create_with_history(indicators, Indicator, **writer)
    return [(original.pk, new.pk) for original, new in pairs]
