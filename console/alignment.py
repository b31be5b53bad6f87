"""Alignment with a higher plan (provincial, national): which plan this one carries out,
which of its tasks each local task serves, and how much of the higher plan is covered.

A plan's higher plan is any other plan that does not, through its own higher plans, lead
back to it; a local task serves a task of that higher plan only. A closed year is read
only (Plan.is_closed)."""

import dataclasses
from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from audit.choices import EventType
from audit.history import give_reason
from audit.services import record
from tasks.models import Task
from workplans.models import Plan


def _writable(plan: Plan) -> None:
    if plan.is_closed:
        raise ValidationError(_("本年度已关闭，对应关系不能再修改。"), code="closed")


def would_cycle(plan: Plan, higher_plan_id: int) -> bool:
    """Whether making `higher_plan_id` the plan's higher plan closes a loop: the plan
    itself, or a plan whose higher plans lead back to it. The links are read in one query."""
    up = dict(Plan.objects.filter(higher_plan__isnull=False).values_list("pk", "higher_plan_id"))
    seen: set[int] = set()
    current: int | None = higher_plan_id
    while current is not None and current not in seen:
        if current == plan.pk:
            return True
        seen.add(current)
        current = up.get(current)
    return False


def set_higher_plan(plan_id: int, user, higher_plan_id: int | None) -> tuple[Plan, int]:
    """Set (or, with None, clear) the plan's higher plan. The links of its tasks to the
    former higher plan's tasks are cleared with it (they would point outside the new one);
    answers the plan and how many links were cleared. ValidationError otherwise: the plan
    itself, a loop, an unknown plan, a closed year."""
    with transaction.atomic():
        plan = Plan.objects.select_for_update().get(pk=plan_id)
        _writable(plan)
        if higher_plan_id is not None:
            if higher_plan_id == plan.pk:
                raise ValidationError({"higher_plan": [_("上级计划不能是本计划自身。")]})
            if not Plan.objects.filter(pk=higher_plan_id).exists():
                raise ValidationError({"higher_plan": [_("所选上级计划不存在。")]})
            if would_cycle(plan, higher_plan_id):
                raise ValidationError({"higher_plan": [_("所选计划的上级计划中包含本计划，不能互为上级。")]})
        before = plan.higher_plan_id
        if before == higher_plan_id:
            return plan, 0
        linked = plan.tasks.filter(serves__isnull=False)
        stale = list(linked if higher_plan_id is None else linked.exclude(serves__plan_id=higher_plan_id))
        for task in stale:
            task.serves = None
        if stale:
            bulk_update_with_history(
                stale, Task, ["serves"], default_user=user, default_change_reason=_("与上级计划对应")
            )
        plan.higher_plan_id = higher_plan_id
        give_reason(plan, _("与上级计划对应"))
        plan.save(update_fields=["higher_plan", "updated_at"])
        record(
            EventType.ADMIN_ACTION,
            user=user,
            obj=plan,
            detail={
                "action": "higher_plan",
                "higher_plan": [before, higher_plan_id],
                "links_cleared": [task.pk for task in stale],
            },
        )
    return plan, len(stale)


def link_tasks(plan_id: int, user, links: dict[int, int | None]) -> int:
    """Link each of the plan's tasks in `links` to the higher plan's task it serves (None
    clears the link); only what changes is written, audited as one event. Answers how many
    links changed. ValidationError when a task is not the plan's, a target not a task of
    the higher plan, or the year is closed: nothing is written then."""
    with transaction.atomic():
        plan = Plan.objects.select_for_update().get(pk=plan_id)
        _writable(plan)
        if plan.higher_plan_id is None:
            raise ValidationError(_("请先设定上级计划。"), code="no_higher_plan")
        tasks = {task.pk: task for task in plan.tasks.filter(pk__in=list(links))}
        if len(tasks) != len(links):
            raise ValidationError(_("所选任务不属于本计划，请刷新页面后重试。"))
        wanted = {target for target in links.values() if target is not None}
        found = set(Task.objects.filter(pk__in=wanted, plan_id=plan.higher_plan_id).values_list("pk", flat=True))
        if found != wanted:
            raise ValidationError(_("只能对应上级计划中的任务。"), code="other_plan")
        changed = []
        for pk, target in links.items():
            task = tasks[pk]
            if task.serves_id != target:
                changed.append((pk, task.serves_id, target))
                task.serves_id = target
        if changed:
            bulk_update_with_history(
                [tasks[pk] for pk, _before, _after in changed],
                Task,
                ["serves"],
                default_user=user,
                default_change_reason=_("与上级计划对应"),
            )
            record(
                EventType.ADMIN_ACTION,
                user=user,
                obj=plan,
                detail={
                    "action": "align_tasks",
                    "higher_plan": plan.higher_plan_id,
                    "changes": [list(change) for change in changed],
                },
            )
    return len(changed)


@dataclasses.dataclass(frozen=True)
class CoverageRow:
    higher: Task
    serving: list[Task]


@dataclasses.dataclass(frozen=True)
class Coverage:
    rows: list[CoverageRow]
    uncovered: list[Task]  # 上级任务未落实
    covered: int
    total: int

    @property
    def percent(self) -> int:
        return round(self.covered * 100 / self.total) if self.total else 0


def coverage(plan: Plan, higher_tasks: list[Task] | None = None, local_tasks: list[Task] | None = None) -> Coverage:
    """For each task of the higher plan, the plan's tasks that serve it; the higher tasks
    no local task serves; covered and total. Two queries (none when the caller passes the
    task lists it has already read)."""
    if plan.higher_plan_id is None:
        return Coverage([], [], 0, 0)
    if higher_tasks is None:
        higher_tasks = list(Task.objects.filter(plan_id=plan.higher_plan_id).select_related("section"))
    if local_tasks is None:
        local_tasks = list(plan.tasks.filter(serves__isnull=False))
    serving: dict[int, list[Task]] = defaultdict(list)
    for task in local_tasks:
        if task.serves_id is not None:
            serving[task.serves_id].append(task)
    rows = [CoverageRow(higher, serving.get(higher.pk, [])) for higher in higher_tasks]
    uncovered = [row.higher for row in rows if not row.serving]
    return Coverage(rows, uncovered, len(rows) - len(uncovered), len(rows))
