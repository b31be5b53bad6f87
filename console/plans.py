"""The system admin's plan pages as services: the plan's settings, its activation check
and activation (draft → active, and back while nothing is reported), the bulk step over
selected tasks (owners, due date, 责任人, 无需填报) and the task edits (add, edit, move,
split, merge, delete). Every write locks the plan row first (one admin's edits are
ordered), refuses a closed year (PlanClosed), is audited and leaves history rows."""

import dataclasses
import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Agency, User
from audit.choices import EventType
from audit.history import give_reason
from audit.services import record
from console.staffing import agencies_without_staff
from core.roles import Role
from indicators.models import Indicator, Reading
from supervision.models import CoOwnerInput, PeriodReport
from tasks.choices import OwnerRole
from tasks.models import Milestone, ProgressUpdate, Task, TaskOwner
from workplans.choices import PlanStatus
from workplans.models import Plan, Section
from workplans.signals import plan_written

# What Task.hand_set names (a re-import keeps what an admin set by hand).
HAND_OWNERS, HAND_RESPONSIBLE, HAND_DUE = "owners", "responsible_users", "due_on"

# Who may be named 责任人: as tasks.services.assignable_users, over every owner agency.
RESPONSIBLE_ROLES = (Role.STAFF, Role.LEADER)

# How much of a task's history a refusal names.
NAMED_AT_MOST = 10


class PlanClosed(ValidationError):
    """The plan's year is closed (archived): nothing on it is written any more (409)."""


def closed_message(plan: Plan) -> str:
    return _("“%(title)s”已归档（年度已关闭），只能查看，不能修改。") % {"title": plan.title}


# --- Reading ------------------------------------------------------------------------------


def plan_tasks(plan: Plan):
    """The plan's tasks as its page shows them: owners (lead first) with their agency and
    the 责任人 prefetched, in document order. Three queries, whatever the number of tasks."""
    owners = TaskOwner.objects.select_related("agency").order_by("role", "order", "id")
    # "co_owner" < "lead" alphabetically: the lead is put first by lead_and_co_owners().
    responsible = User.objects.only("id", "username", "full_name", "agency_id").order_by("full_name", "username")
    return (
        Task.objects.filter(plan=plan)
        .prefetch_related(Prefetch("task_owners", queryset=owners), Prefetch("responsible_users", queryset=responsible))
        .order_by("order", "id")
    )


def lead_and_co_owners(task: Task) -> tuple[Agency | None, list[Agency]]:
    """The lead agency and the co-owners in order, from the prefetched owners."""
    lead, co_owners = None, []
    for owner in task.task_owners.all():
        if owner.role == OwnerRole.LEAD:
            lead = owner.agency
        else:
            co_owners.append(owner.agency)
    return lead, co_owners


def section_tree(plan: Plan) -> list[tuple[Section, int]]:
    """The plan's sections in document order, each with its depth. One query."""
    sections = list(Section.objects.filter(plan=plan).order_by("order", "id"))
    children: dict[int | None, list[Section]] = {}
    for section in sections:
        children.setdefault(section.parent_id, []).append(section)
    ordered: list[tuple[Section, int]] = []
    stack = [(section, 0) for section in reversed(children.get(None, []))]
    while stack:
        section, depth = stack.pop()
        ordered.append((section, depth))
        stack.extend((child, depth + 1) for child in reversed(children.get(section.pk, [])))
    return ordered


@dataclasses.dataclass
class TaskGroup:
    section: Section | None
    depth: int
    tasks: list[Task]


def task_groups(plan: Plan, tasks) -> list[TaskGroup]:
    """The tasks under their sections, in document order (tasks outside any section first)."""
    by_section: dict[int | None, list[Task]] = {}
    for task in tasks:
        by_section.setdefault(task.section_id, []).append(task)
    groups = [TaskGroup(None, 0, by_section[None])] if by_section.get(None) else []
    groups += [TaskGroup(section, depth, by_section.get(section.pk, [])) for section, depth in section_tree(plan)]
    return groups


def number_taken(plan: Plan, section_id: int | None, number: str, *, exclude_pk: int | None = None) -> bool:
    """Whether `number` is already a task's in that section (or at the plan's top level):
    the database's task_number_unique_in_section / task_number_unique_in_plan_top."""
    if not number:
        return False
    tasks = Task.objects.filter(plan=plan, number=number)
    tasks = tasks.filter(section_id=section_id) if section_id else tasks.filter(section__isnull=True)
    if exclude_pk is not None:
        tasks = tasks.exclude(pk=exclude_pk)
    return tasks.exists()


# What a task's record holds that must not vanish with it (merge, delete): reverse paths
# from the task, each with how a message names it.
HISTORY_KINDS = (
    ("progress_updates", gettext_lazy("进展记录")),
    ("milestone_events", gettext_lazy("时间节点完成记录")),
    ("period_reports", gettext_lazy("定期报送")),
    ("co_inputs", gettext_lazy("配合单位反馈")),
    ("indicators__readings", gettext_lazy("指标数据")),
    ("close_outs", gettext_lazy("销号申请")),
    ("change_requests", gettext_lazy("延期/调整申请")),
    ("notices", gettext_lazy("督办单")),
    ("urges", gettext_lazy("催办")),
    ("instructions", gettext_lazy("批示")),
)


def history_of(task: Task) -> list[str]:
    """What of its record a task already has (progress updates, period reports, readings, …),
    named for a message; empty when it has none."""
    return [
        str(label)
        for path, label in HISTORY_KINDS
        if Task.objects.filter(pk=task.pk, **{f"{path}__isnull": False}).exists()
    ]


def plan_has_reports(plan: Plan) -> bool:
    """Whether anyone has reported on the plan yet (an update, a period report, a
    co-owner's input, a reading): then it cannot go back to draft."""
    return (
        ProgressUpdate.objects.filter(task__plan=plan).exists()
        or PeriodReport.objects.filter(task__plan=plan).exists()
        or CoOwnerInput.objects.filter(task__plan=plan).exists()
        or Reading.objects.filter(plan=plan).exists()
    )


# --- The activation check -------------------------------------------------------------


def unowned_tasks(plan: Plan):
    """Tasks nobody leads and not marked 无需填报: nobody would report them."""
    return Task.objects.filter(plan=plan).unowned().order_by("order", "id")


@dataclasses.dataclass
class ActivationCheck:
    unowned: list[Task]
    unstaffed: list[Agency]
    past_year: bool

    @property
    def blocked(self) -> bool:
        return bool(self.unowned)


def activation_check(plan: Plan, today: datetime.date | None = None) -> ActivationCheck:
    """What stands before activating `plan`: the tasks without an owner (a block), the
    owner agencies without an active staff account (a warning) and a past year (its tasks
    will show as overdue: the admin must say so)."""
    today = today or timezone.localdate()
    owner_ids = (
        TaskOwner.objects.filter(task__plan=plan, task__reporting_exempt=False)
        .order_by()
        .values_list("agency_id", flat=True)
        .distinct()
    )
    return ActivationCheck(
        unowned=list(unowned_tasks(plan)),
        unstaffed=agencies_without_staff(owner_ids),
        past_year=plan.year < today.year,
    )


# --- Writing: the plan ----------------------------------------------------------------


def _locked_plan(plan_id: int) -> Plan:
    """The plan, its row locked for the rest of the transaction; PlanClosed when archived."""
    plan = Plan.objects.select_for_update().get(pk=plan_id)
    if plan.is_closed:
        raise PlanClosed(closed_message(plan))
    return plan


def _written(plan: Plan) -> None:
    """The dashboards roll the plan's figures up again once the change is committed."""
    plan_id = plan.pk
    transaction.on_commit(lambda: plan_written.send(sender=Plan, plan_id=plan_id), robust=True)


def _show(value) -> object:
    if isinstance(value, User):
        return value.display_name
    if isinstance(value, list | tuple | set):
        return sorted(_show(v) for v in value)  # type: ignore[type-var]
    return value


SETTING_FIELDS = (
    "reporting_cycle",
    "report_due_day",
    "leader_in_charge",
    "requires_unit_signoff",
    "requests_need_unit_signoff",
    "target_changes_need_leader",
)


def update_settings(plan_id: int, user, data: dict) -> dict:
    """Save the plan's settings (`data` from PlanSettingsForm: the fields of SETTING_FIELDS
    and `supervisors`); returns the changes {field: {old, new}} (empty: nothing changed)."""
    with transaction.atomic():
        plan = _locked_plan(plan_id)
        changes: dict = {}
        for field in SETTING_FIELDS:
            old, new = getattr(plan, field), data[field]
            if old != new:
                changes[field] = {"old": _show(old), "new": _show(new)}
                setattr(plan, field, new)
        old_supervisors = set(plan.supervisors.all())
        new_supervisors = set(data["supervisors"])
        if old_supervisors != new_supervisors:
            changes["supervisors"] = {"old": _show(old_supervisors), "new": _show(new_supervisors)}
        if not changes:
            return changes
        give_reason(plan, _("控制台：计划设置"))
        plan.save()
        if "supervisors" in changes:
            plan.supervisors.set(new_supervisors)
        record(EventType.ADMIN_ACTION, user=user, obj=plan, detail={"action": "plan_settings", "changes": changes})
    return changes


def activate(plan_id: int, user, *, past_year_confirmed: bool, today: datetime.date | None = None) -> Plan:
    """Draft → active, when the activation check allows it (a past year only with
    `past_year_confirmed`). ValidationError naming what stands in the way otherwise."""
    with transaction.atomic():
        plan = _locked_plan(plan_id)
        if plan.status != PlanStatus.DRAFT:
            raise ValidationError(
                _("只有草稿状态的计划可以启用；该计划当前为“%(status)s”。") % {"status": plan.get_status_display()}
            )
        check = activation_check(plan, today)
        if check.blocked:
            raise ValidationError(
                _("还有 %(n)d 项任务没有牵头单位，也未标记“无需填报”：请先指定责任单位或标记后再启用。")
                % {"n": len(check.unowned)}
            )
        if check.past_year and not past_year_confirmed:
            raise ValidationError(
                _("这是 %(year)d 年的计划，启用后未完成的任务都会显示为逾期：请勾选确认后再启用。")
                % {"year": plan.year}
            )
        plan.status = PlanStatus.ACTIVE
        give_reason(plan, _("控制台：启用计划"))
        plan.save(update_fields=["status", "updated_at"])
        record(
            EventType.ADMIN_ACTION,
            user=user,
            obj=plan,
            detail={
                "action": "plan_activate",
                "unstaffed_agencies": [agency.pk for agency in check.unstaffed],
                "past_year_confirmed": check.past_year,
            },
        )
        _written(plan)
    return plan


def back_to_draft(plan_id: int, user) -> Plan:
    """Active → draft, only while nobody has reported on it yet."""
    with transaction.atomic():
        plan = _locked_plan(plan_id)
        if plan.status != PlanStatus.ACTIVE:
            raise ValidationError(_("只有执行中的计划可以退回草稿。"))
        if plan_has_reports(plan):
            raise ValidationError(
                _(
                    "该计划已有报送记录（进展、定期报送、配合单位反馈或指标数据），不能退回草稿：退回后这些记录将无人可见。"
                )
            )
        plan.status = PlanStatus.DRAFT
        give_reason(plan, _("控制台：退回草稿"))
        plan.save(update_fields=["status", "updated_at"])
        record(EventType.ADMIN_ACTION, user=user, obj=plan, detail={"action": "plan_back_to_draft"})
        _written(plan)
    return plan


# --- Writing: owners, 责任人, due dates ------------------------------------------------


def _mark_hand_set(task: Task, *fields: str) -> list[str]:
    """Add `fields` to the task's hand_set; returns the update_fields to save."""
    marks = list(task.hand_set or [])
    for field in fields:
        if field not in marks:
            marks.append(field)
    if marks == list(task.hand_set or []):
        return []
    task.hand_set = marks
    return ["hand_set"]


def _set_owners(task: Task, lead: Agency | None, co_owners: list[Agency], reason: str) -> bool:
    """Make the task's owners exactly `lead` and `co_owners` (in order), row by row so each
    change leaves a history row; the lead moves without ever having two. Returns whether
    anything changed."""
    wanted: dict[int, tuple[str, int]] = {}
    if lead is not None:
        wanted[lead.pk] = (OwnerRole.LEAD, 0)
    for order, agency in enumerate(co_owners, start=1):
        wanted.setdefault(agency.pk, (OwnerRole.CO_OWNER, order))
    current = {owner.agency_id: owner for owner in TaskOwner.objects.filter(task=task).order_by("pk")}
    changed = False
    for agency_id, owner in current.items():
        if agency_id not in wanted:
            give_reason(owner, reason)
            owner.delete()
            changed = True
    # Demote before promote: the database allows one lead per task at any moment.
    updates = [(owner, wanted[agency_id]) for agency_id, owner in current.items() if agency_id in wanted]
    updates.sort(key=lambda pair: pair[1][0] == OwnerRole.LEAD)
    for owner, (role, order) in updates:
        if (owner.role, owner.order) != (role, order):
            owner.role, owner.order = role, order
            give_reason(owner, reason)
            owner.save(update_fields=["role", "order"])
            changed = True
    for agency_id, (role, order) in wanted.items():
        if agency_id not in current:
            owner = TaskOwner(task=task, agency_id=agency_id, role=role, order=order)
            give_reason(owner, reason)
            owner.save()
            changed = True
    return changed


def _prune_responsible(task: Task, reason: str) -> list[int]:
    """Drop 责任人 who no longer belong to one of the task's owner agencies; their ids."""
    owner_ids = set(TaskOwner.objects.filter(task=task).values_list("agency_id", flat=True))
    gone = [user.pk for user in task.responsible_users.all() if user.agency_id not in owner_ids]
    if gone:
        give_reason(task, reason)
        task.responsible_users.remove(*gone)
    return gone


def _locked_tasks(plan: Plan, task_ids) -> list[Task]:
    tasks = list(Task.objects.select_for_update().filter(plan=plan, pk__in=list(task_ids)).order_by("order", "id"))
    if len(tasks) != len(set(task_ids)):
        raise ValidationError(_("所选任务中有的已不在本计划中，请刷新页面后重试。"))
    return tasks


def _save_task(task: Task, fields: list[str], reason: str) -> None:
    give_reason(task, reason)
    task.save(update_fields=[*fields, "updated_at"])


def _due_fields(task: Task, due_on: datetime.date) -> list[str]:
    """Set the due date by hand. The baseline (基线) follows while no approved delay moved
    the task's date away from it: then this corrects the plan itself; after a delay the
    baseline keeps the original promise the assessment compares with."""
    fields = ["due_on"]
    if task.baseline_due_on is None or task.baseline_due_on == task.due_on:
        task.baseline_due_on = due_on
        fields.append("baseline_due_on")
    task.due_on = due_on
    return fields


@dataclasses.dataclass
class BulkResult:
    task_ids: list[int]
    changed: int
    note: str = ""


def bulk_set_owners(
    plan_id: int, user, task_ids, *, lead: Agency | None, co_owners: list[Agency], replace: bool
) -> BulkResult:
    """Set the owners of the selected tasks. Replace: exactly `lead` and `co_owners`.
    Add: `co_owners` join each task's owners, and `lead` leads the tasks that have no lead
    yet (a task led by another keeps its lead). Marks hand_set "owners"; 责任人 outside the
    new owners are dropped."""
    reason = _("控制台：批量设置责任单位")
    with transaction.atomic():
        plan = _locked_plan(plan_id)
        tasks = _locked_tasks(plan, task_ids)
        changed, dropped = 0, {}
        for task in tasks:
            if replace:
                new_lead, new_co = lead, [a for a in co_owners if lead is None or a.pk != lead.pk]
            else:
                rows = list(TaskOwner.objects.filter(task=task).select_related("agency").order_by("order", "pk"))
                current_lead = next((o.agency for o in rows if o.role == OwnerRole.LEAD), None)
                new_lead = current_lead or lead
                new_co = [o.agency for o in rows if o.role == OwnerRole.CO_OWNER]
                new_co += [a for a in co_owners if a.pk not in {c.pk for c in new_co}]
                new_co = [a for a in new_co if new_lead is None or a.pk != new_lead.pk]
            if _set_owners(task, new_lead, new_co, reason):
                changed += 1
                gone = _prune_responsible(task, reason)
                if gone:
                    dropped[task.pk] = gone
            fields = _mark_hand_set(task, HAND_OWNERS)
            if fields:
                _save_task(task, fields, reason)
        record(
            EventType.ADMIN_ACTION,
            user=user,
            obj=plan,
            detail={
                "action": "bulk_owners",
                "tasks": [task.pk for task in tasks],
                "mode": "replace" if replace else "add",
                "lead": lead.pk if lead else None,
                "co_owners": [agency.pk for agency in co_owners],
                "responsible_dropped": dropped,
            },
        )
        _written(plan)
    note = _("已移出不属于新责任单位的责任人（%(n)d 项任务）。") % {"n": len(dropped)} if dropped else ""
    return BulkResult([task.pk for task in tasks], changed, note)


def bulk_set_due(plan_id: int, user, task_ids, *, due_on: datetime.date) -> BulkResult:
    reason = _("控制台：批量设置完成时限")
    with transaction.atomic():
        plan = _locked_plan(plan_id)
        tasks = _locked_tasks(plan, task_ids)
        changed = 0
        for task in tasks:
            fields = _mark_hand_set(task, HAND_DUE)
            if task.due_on != due_on:
                fields += _due_fields(task, due_on)
                changed += 1
            if fields:
                _save_task(task, fields, reason)
        record(
            EventType.ADMIN_ACTION,
            user=user,
            obj=plan,
            detail={"action": "bulk_due", "tasks": [task.pk for task in tasks], "due_on": due_on},
        )
        _written(plan)
    return BulkResult([task.pk for task in tasks], changed)


def outside_owners(tasks: list[Task], users) -> list[tuple[User, Task]]:
    """(user, task) pairs where the user belongs to none of the task's owner agencies."""
    owners: dict[int, set[int]] = {}
    for task_id, agency_id in TaskOwner.objects.filter(task__in=tasks).values_list("task_id", "agency_id"):
        owners.setdefault(task_id, set()).add(agency_id)
    return [(user, task) for task in tasks for user in users if user.agency_id not in owners.get(task.pk, set())]


def refuse_outside(pairs: list[tuple[User, Task]]) -> None:
    if pairs:
        named = "；".join(
            _("%(user)s 不属于任务“%(task)s”的责任单位") % {"user": user.display_name, "task": task.label}
            for user, task in pairs[:NAMED_AT_MOST]
        )
        raise ValidationError(_("责任人须是任务责任单位的人员：%(named)s。") % {"named": named})


def bulk_set_responsible(plan_id: int, user, task_ids, *, users: list[User], replace: bool) -> BulkResult:
    """Name 责任人 on the selected tasks (replace or add). Refused, changing nothing, when
    one of `users` belongs to none of a selected task's owner agencies."""
    reason = _("控制台：批量设置责任人")
    with transaction.atomic():
        plan = _locked_plan(plan_id)
        tasks = _locked_tasks(plan, task_ids)
        refuse_outside(outside_owners(tasks, users))
        changed = 0
        for task in tasks:
            before = set(task.responsible_users.values_list("pk", flat=True))
            after = {u.pk for u in users} if replace else before | {u.pk for u in users}
            if after != before:
                give_reason(task, reason)
                task.responsible_users.set(after)
                changed += 1
            fields = _mark_hand_set(task, HAND_RESPONSIBLE)
            if fields:
                _save_task(task, fields, reason)
        record(
            EventType.ADMIN_ACTION,
            user=user,
            obj=plan,
            detail={
                "action": "bulk_responsible",
                "tasks": [task.pk for task in tasks],
                "mode": "replace" if replace else "add",
                "users": [u.pk for u in users],
            },
        )
        _written(plan)
    return BulkResult([task.pk for task in tasks], changed)


def bulk_set_exempt(plan_id: int, user, task_ids, *, exempt: bool) -> BulkResult:
    """Mark (or unmark) the selected tasks 无需填报: they owe no report and get no reminder."""
    reason = _("控制台：标记无需填报") if exempt else _("控制台：取消无需填报")
    with transaction.atomic():
        plan = _locked_plan(plan_id)
        tasks = _locked_tasks(plan, task_ids)
        changed = 0
        for task in tasks:
            if task.reporting_exempt != exempt:
                task.reporting_exempt = exempt
                _save_task(task, ["reporting_exempt"], reason)
                changed += 1
        record(
            EventType.ADMIN_ACTION,
            user=user,
            obj=plan,
            detail={"action": "bulk_exempt", "tasks": [task.pk for task in tasks], "reporting_exempt": exempt},
        )
        _written(plan)
    return BulkResult([task.pk for task in tasks], changed)


# --- Writing: one task --------------------------------------------------------------------


def _document_order(plan: Plan) -> list[tuple[int, int | None]]:
    """(task id, section id) of the plan's tasks in document order (the page's order)."""
    rows = list(Task.objects.filter(plan=plan).order_by("order", "id").values_list("id", "section_id"))
    position = {section.pk: i for i, (section, _depth) in enumerate(section_tree(plan))}
    return sorted(rows, key=lambda row: -1 if row[1] is None else position.get(row[1], len(position)))


def _renumber(ordered_ids: list[int]) -> None:
    """Task.order = the position in `ordered_ids`, for the rows whose order changes (one
    UPDATE for them: a position is not a change of the task worth a history row)."""
    current = dict(Task.objects.filter(pk__in=ordered_ids).values_list("id", "order"))
    moved = [Task(pk=pk, order=i) for i, pk in enumerate(ordered_ids) if current.get(pk) != i]
    if moved:
        Task.objects.bulk_update(moved, ["order"])


def _place(plan: Plan, task_id: int, section_id: int | None, after_id: int | None) -> None:
    """Put the task in `section_id`'s run of tasks: right after `after_id`, or first."""
    rows = [row for row in _document_order(plan) if row[0] != task_id]
    if after_id is not None:
        index = next(i for i, row in enumerate(rows) if row[0] == after_id) + 1
    else:
        positions = [i for i, row in enumerate(rows) if row[1] == section_id]
        if positions:
            index = positions[0]
        else:  # an empty section: after the tasks of the sections before it
            order = {section.pk: i for i, (section, _d) in enumerate(section_tree(plan))}
            mine = -1 if section_id is None else order.get(section_id, len(order))
            index = sum(1 for row in rows if (-1 if row[1] is None else order.get(row[1], len(order))) <= mine)
    rows.insert(index, (task_id, section_id))
    _renumber([row[0] for row in rows])


def _last_in_section(plan: Plan, section_id: int | None, exclude: int | None = None) -> int | None:
    ids = [pk for pk, sid in _document_order(plan) if sid == section_id and pk != exclude]
    return ids[-1] if ids else None


@dataclasses.dataclass
class TaskData:
    """A task as the forms give it."""

    section: Section | None
    number: str
    heading: str
    text: str
    lead: Agency | None
    co_owners: list[Agency]
    due_on: datetime.date | None
    reporting_exempt: bool = False
    long_term: bool = False
    responsible_users: list[User] | None = None


def _check_number(plan: Plan, section_id: int | None, number: str, exclude_pk: int | None = None) -> None:
    if number_taken(plan, section_id, number, exclude_pk=exclude_pk):
        raise ValidationError({"number": [_("该部分已有序号为“%(number)s”的任务。") % {"number": number}]})


def add_task(plan_id: int, user, data: TaskData) -> Task:
    """A new task at the end of its section."""
    reason = _("控制台：新增任务")
    with transaction.atomic():
        plan = _locked_plan(plan_id)
        section_id = data.section.pk if data.section else None
        _check_number(plan, section_id, data.number)
        after = _last_in_section(plan, section_id)
        task = Task(
            plan=plan,
            section=data.section,
            number=data.number,
            heading=data.heading,
            text=data.text,
            due_on=data.due_on or plan.year_end,
            reporting_exempt=data.reporting_exempt,
            long_term=data.long_term,
            hand_set=[HAND_OWNERS, HAND_DUE] if data.due_on else [HAND_OWNERS],
        )
        give_reason(task, reason)
        task.save()
        _set_owners(task, data.lead, data.co_owners, reason)
        _place(plan, task.pk, section_id, after)
        record(
            EventType.CREATE,
            user=user,
            obj=task,
            detail={
                "action": "task_add",
                "plan": plan.pk,
                "lead": data.lead.pk if data.lead else None,
                "co_owners": [a.pk for a in data.co_owners],
            },
        )
        _written(plan)
    return task


def _locked_task(task_id: int) -> tuple[Plan, Task]:
    plan_id = Task.objects.values_list("plan_id", flat=True).get(pk=task_id)
    plan = _locked_plan(plan_id)
    return plan, Task.objects.select_for_update().get(pk=task_id, plan=plan)


def edit_task(task_id: int, user, data: TaskData) -> list[str]:
    """Save a task's number, heading, text, owners, 责任人, due date and flags; the owners,
    责任人 and due date changed by hand are marked in hand_set. Returns the changed fields."""
    reason = _("控制台：修改任务")
    with transaction.atomic():
        plan, task = _locked_task(task_id)
        _check_number(plan, task.section_id, data.number, exclude_pk=task.pk)
        fields = []
        for field in ("number", "heading", "text", "reporting_exempt", "long_term"):
            if getattr(task, field) != getattr(data, field):
                setattr(task, field, getattr(data, field))
                fields.append(field)
        changed = list(fields)
        due_on = data.due_on or plan.year_end
        if due_on != task.due_on:
            fields += _due_fields(task, due_on)
            fields += _mark_hand_set(task, HAND_DUE)
            changed.append("due_on")
        if _set_owners(task, data.lead, data.co_owners, reason):
            fields += _mark_hand_set(task, HAND_OWNERS)
            changed.append("owners")
        if data.responsible_users is not None:
            refuse_outside(outside_owners([task], data.responsible_users))
            before = set(task.responsible_users.values_list("pk", flat=True))
            after = {u.pk for u in data.responsible_users}
            if before != after:
                give_reason(task, reason)
                task.responsible_users.set(after)
                fields += _mark_hand_set(task, HAND_RESPONSIBLE)
                changed.append("responsible_users")
        elif "owners" in changed:
            _prune_responsible(task, reason)
        if fields:
            _save_task(task, sorted(set(fields)), reason)
        if changed:
            record(EventType.UPDATE, user=user, obj=task, detail={"action": "task_edit", "fields": changed})
            _written(plan)
    return changed


def move_task(task_id: int, user, *, section: Section | None, after: Task | None, number: str) -> Task:
    """Move a task to `section` (of its plan), after the task `after` of that section (or
    first), with `number` (its number there)."""
    reason = _("控制台：移动任务")
    with transaction.atomic():
        plan, task = _locked_task(task_id)
        section_id = section.pk if section else None
        if section is not None and section.plan_id != plan.pk:
            raise ValidationError({"section": [_("只能移动到本计划的部分。")]})
        if after is not None and (after.plan_id != plan.pk or after.section_id != section_id or after.pk == task.pk):
            raise ValidationError({"after": [_("请选择目标部分中的任务。")]})
        _check_number(plan, section_id, number, exclude_pk=task.pk)
        old = {"section": task.section_id, "number": task.number, "order": task.order}
        task.section, task.number = section, number
        _save_task(task, ["section", "number"], reason)
        _place(plan, task.pk, section_id, after.pk if after else None)
        record(
            EventType.UPDATE,
            user=user,
            obj=task,
            detail={
                "action": "task_move",
                "from": old,
                "to": {"section": section_id, "number": number, "after": after.pk if after else None},
            },
        )
        _written(plan)
    return task


def split_task(task_id: int, user, *, number: str, heading: str, text: str, remaining_text: str) -> Task:
    """Split a task in two: the new task (number, heading and text typed) comes right after
    it in its section, with the same owners, 责任人, due date and flags; the original keeps
    `remaining_text` as its text when given."""
    reason = _("控制台：拆分任务")
    with transaction.atomic():
        plan, task = _locked_task(task_id)
        _check_number(plan, task.section_id, number)
        new = Task(
            plan=plan,
            section_id=task.section_id,
            number=number,
            heading=heading,
            text=text,
            due_on=task.due_on,
            baseline_due_on=task.baseline_due_on,
            reporting_exempt=task.reporting_exempt,
            long_term=task.long_term,
            carried_from_id=task.carried_from_id,
            serves_id=task.serves_id,
            hand_set=list(task.hand_set or []),
        )
        give_reason(new, reason)
        new.save()
        owners = list(TaskOwner.objects.filter(task=task).order_by("order", "pk"))
        for owner in owners:
            copy = TaskOwner(task=new, agency_id=owner.agency_id, role=owner.role, order=owner.order)
            give_reason(copy, reason)
            copy.save()
        responsible = list(task.responsible_users.values_list("pk", flat=True))
        if responsible:
            give_reason(new, reason)
            new.responsible_users.set(responsible)
        if remaining_text and remaining_text != task.text:
            task.text = remaining_text
            _save_task(task, ["text"], reason)
        _place(plan, new.pk, task.section_id, task.pk)
        record(
            EventType.CREATE,
            user=user,
            obj=new,
            detail={"action": "task_split", "from_task": task.pk, "text_kept": not remaining_text},
        )
        _written(plan)
    return new


def merge_tasks(task_id: int, folded_id: int, user) -> Task:
    """Fold task `folded_id` into `task_id`: its heading and text appended to the text, its
    owners and 责任人 joined (the task's lead stays; the folded task's lead leads when the
    task has none), its milestones and indicators moved; then it is deleted. Refused when
    the folded task has any history (reports, readings, notices…): that must not vanish."""
    reason = _("控制台：合并任务")
    with transaction.atomic():
        plan, task = _locked_task(task_id)
        folded = Task.objects.select_for_update().filter(pk=folded_id, plan=plan).first()
        if folded is None or folded.pk == task.pk:
            raise ValidationError({"other": [_("请选择本计划中的另一项任务。")]})
        history = history_of(folded)
        if history:
            raise ValidationError(
                {
                    "other": [
                        _("任务“%(task)s”已有%(kinds)s，合并后这些记录会丢失，不能合并。可以把它标记为“无需填报”。")
                        % {"task": folded.label, "kinds": "、".join(history)}
                    ]
                }
            )
        rows = list(TaskOwner.objects.filter(task=task).select_related("agency").order_by("order", "pk"))
        folded_rows = list(TaskOwner.objects.filter(task=folded).select_related("agency").order_by("order", "pk"))
        lead = next((o.agency for o in rows if o.role == OwnerRole.LEAD), None) or next(
            (o.agency for o in folded_rows if o.role == OwnerRole.LEAD), None
        )
        co_owners: list[Agency] = []
        for owner in rows + folded_rows:
            if (lead is None or owner.agency_id != lead.pk) and owner.agency_id not in {a.pk for a in co_owners}:
                co_owners.append(owner.agency)
        folded_text = "\n".join(part for part in (folded.heading, folded.text) if part)
        task.text = f"{task.text}\n{folded_text}" if task.text else folded_text
        fields = ["text"]
        if _set_owners(task, lead, co_owners, reason):
            fields += _mark_hand_set(task, HAND_OWNERS)
        responsible = set(task.responsible_users.values_list("pk", flat=True))
        joined = responsible | set(folded.responsible_users.values_list("pk", flat=True))
        if joined != responsible:
            give_reason(task, reason)
            task.responsible_users.set(joined)
        _save_task(task, fields, reason)
        moved_milestones = Milestone.objects.filter(task=folded).update(task=task)
        moved_indicators = Indicator.objects.filter(task=folded).update(task=task)
        folded_repr = {
            "id": folded.pk,
            "number": folded.number,
            "heading": folded.heading,
            "section": folded.section_id,
        }
        give_reason(folded, reason)
        folded.delete()
        record(
            EventType.UPDATE,
            user=user,
            obj=task,
            detail={
                "action": "task_merge",
                "folded": folded_repr,
                "milestones_moved": moved_milestones,
                "indicators_moved": moved_indicators,
            },
        )
        _written(plan)
    return task


def delete_task(task_id: int, user) -> Plan:
    """Delete a task that has no history (no report, reading, request or notice)."""
    reason = _("控制台：删除任务")
    with transaction.atomic():
        plan, task = _locked_task(task_id)
        history = history_of(task)
        if history:
            raise ValidationError(
                _("该任务已有%(kinds)s，不能删除；如不再需要报送，可以标记为“无需填报”。")
                % {"kinds": "、".join(history)}
            )
        detail = {"action": "task_delete", "number": task.number, "heading": task.heading, "section": task.section_id}
        record(EventType.DELETE, user=user, obj=task, detail=detail)
        give_reason(task, reason)
        task.delete()
        _renumber([pk for pk, _s in _document_order(plan)])
        _written(plan)
    return plan


def responsible_choices(plan: Plan):
    """Who the plan's pages offer as 责任人: active staff and leaders of the agencies that
    own one of its tasks, by agency. (Which of them fits which task is checked on save.)"""
    owner_ids = TaskOwner.objects.filter(task__plan=plan).values("agency_id")
    return (
        User.objects.filter(is_active=True, role__in=RESPONSIBLE_ROLES, agency_id__in=owner_ids)
        .select_related("agency")
        .order_by("agency__order", "agency__name", "full_name", "username")
    )


def assignable_pool():
    """Every user a form may name as 责任人 (validated per task against its owners)."""
    return User.objects.filter(is_active=True, role__in=RESPONSIBLE_ROLES)


def task_for_page(task_id: int) -> Task:
    """One task with its plan, section and owners, for its edit pages."""
    owners = TaskOwner.objects.select_related("agency").order_by("role", "order", "id")
    return (
        Task.objects.select_related("plan", "section")
        .prefetch_related(Prefetch("task_owners", queryset=owners), "responsible_users")
        .get(pk=task_id)
    )
