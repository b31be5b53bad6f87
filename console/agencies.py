"""The agency tree as the system admin keeps it: the tree with each agency's active staff
and tasks (and the one staffing warning, console.staffing), adding and editing, moving,
merging one agency into another and deactivating one with its open tasks handed over.

A merge moves everything that points at the merged agency: it walks
Agency._meta.related_objects, so a model added later that points at agencies is moved
too, and where a unique constraint would hold two rows for the survivor the survivor's
row is kept (a task owned by both keeps one owner row, and the lead role wins)."""

import dataclasses

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from accounts.models import Agency, AgencyAlias, User
from accounts.pickers import INDENT, agency_tree
from audit.history import give_reason
from console.staffing import agencies_without_staff
from core.roles import Role
from tasks.choices import OwnerRole, TaskStatus
from tasks.models import Task, TaskOwner
from workplans.choices import PlanStatus

# Tasks still in the unit's hands: what a deactivated agency hands over.
OPEN_STATUSES = [s for s in TaskStatus.values if s not in (TaskStatus.DONE, TaskStatus.CLOSED)]


@dataclasses.dataclass
class TreeRow:
    agency: Agency
    depth: int
    staff: int
    tasks: int
    unstaffed: bool

    @property
    def indent(self) -> str:
        return INDENT * self.depth


def tree_rows() -> list[TreeRow]:
    """Every agency (inactive ones too) in tree order with its active staff, its tasks of
    active plans, and whether it owns such tasks with nobody to report them. Five queries
    whatever the number of agencies."""
    tree = agency_tree(active_only=False)
    staff = dict(
        User.objects.filter(is_active=True, role=Role.STAFF, agency__isnull=False)
        .values("agency_id")
        .annotate(n=Count("id"))
        .values_list("agency_id", "n")
    )
    tasks = dict(
        TaskOwner.objects.filter(task__plan__status=PlanStatus.ACTIVE)
        .values("agency_id")
        .annotate(n=Count("task_id", distinct=True))
        .values_list("agency_id", "n")
    )
    unstaffed = {agency.pk for agency in agencies_without_staff(tasks)}
    return [
        TreeRow(agency, depth, staff.get(agency.pk, 0), tasks.get(agency.pk, 0), agency.pk in unstaffed)
        for agency, depth in tree
    ]


def active_plan_task_count(agency: Agency) -> int:
    return (
        TaskOwner.objects.filter(agency=agency, task__plan__status=PlanStatus.ACTIVE)
        .values("task_id")
        .distinct()
        .count()
    )


# --- Moving task owners ------------------------------------------------------------------


def _move_ownership(owner: TaskOwner, target: Agency) -> str:
    """Give `owner`'s task to `target`: "moved", or "merged" when the target already owns
    the task (one row stays, and it is the lead when either was)."""
    existing = TaskOwner.objects.select_for_update().filter(task_id=owner.task_id, agency=target).first()
    if existing is None:
        owner.agency = target
        give_reason(owner, _("单位调整"))
        owner.save(update_fields=["agency"])
        return "moved"
    was_lead = owner.role == OwnerRole.LEAD
    give_reason(owner, _("单位合并：与同一任务的另一责任单位行合并"))
    owner.delete()
    if was_lead and existing.role != OwnerRole.LEAD:
        existing.role = OwnerRole.LEAD
        existing.order = min(existing.order, owner.order)
        give_reason(existing, _("单位合并：牵头单位并入"))
        existing.save(update_fields=["role", "order"])
    return "merged"


# --- Merging -----------------------------------------------------------------------------


def _references():
    """(model, the FK field to Agency) for every model that points at agencies: the FKs of
    Agency._meta.related_objects, and for a many-to-many with a Django-made table, that
    table's FK; Agency's own parent (the merged agency's children move under the target).
    The change records (simple-history) keep plain ids and are left as written."""
    found = []
    for relation in Agency._meta.related_objects:
        if isinstance(relation, models.ManyToManyRel):
            through = relation.through
            if through is None or not through._meta.auto_created:
                continue  # its own model (TaskOwner) is a related object of its own
            field = next(f for f in through._meta.fields if f.is_relation and f.related_model is Agency)
            found.append((through, field))
        else:
            found.append((relation.related_model, relation.field))
    return found


def _unique_sets(model, field) -> list[tuple[list[str], Q | None]]:
    """The unique field sets of `model` that include `field`, with their conditions."""
    sets: list[tuple[list[str], Q | None]] = []
    if field.unique:
        sets.append(([field.name], None))
    for together in model._meta.unique_together:
        if field.name in together:
            sets.append((list(together), None))
    for constraint in model._meta.constraints:
        if isinstance(constraint, models.UniqueConstraint) and constraint.fields and field.name in constraint.fields:
            sets.append((list(constraint.fields), constraint.condition))
    return sets


def _collides(model, field, row, target: Agency) -> bool:
    """Whether `row`, pointed at `target`, would break a unique constraint of its model."""
    for names, condition in _unique_sets(model, field):
        if condition is not None and not model._base_manager.filter(condition, pk=row.pk).exists():
            continue
        same = {
            model._meta.get_field(name).attname: getattr(row, model._meta.get_field(name).attname)
            for name in names
            if name != field.name
        }
        clash = model._base_manager.filter(**{field.attname: target.pk}, **same).exclude(pk=row.pk)
        if condition is not None:
            clash = clash.filter(condition)
        if clash.exists():
            return True
    return False


@dataclasses.dataclass
class MergeResult:
    moved: dict[str, int]
    dropped: dict[str, int]
    owners_merged: int
    aliases_added: list[str]
    users: list[str]  # the login names now of the target (moved without a change record each)


def check_merge(source: Agency, target: Agency) -> None:
    if source.pk == target.pk:
        raise ValidationError(_("不能把单位并入它自己。"))
    if target.pk in source.descendant_ids(include_self=False):
        raise ValidationError(
            _("“%(target)s”是“%(source)s”的下级单位，不能把上级并入下级；请先把它移出，或反过来合并。")
            % {"target": target.name, "source": source.name}
        )
    if not target.is_active:
        raise ValidationError(_("“%(target)s”已停用，不能并入停用的单位。") % {"target": target.name})


@transaction.atomic
def merge(source: Agency, target: Agency) -> MergeResult:
    """Merge `source` into `target`: every row that points at `source` points at `target`
    (task owners merged where both own a task, the lead role winning; a row that would
    duplicate one of the target's under a unique constraint is dropped, the target's
    kept); `source`'s name, short name and aliases become the target's aliases; `source`
    is deleted. ValidationError (in Chinese) for a merge that cannot be."""
    source = Agency.objects.select_for_update().get(pk=source.pk)
    target = Agency.objects.select_for_update().get(pk=target.pk)
    check_merge(source, target)
    users = sorted(source.users.values_list("username", flat=True))
    moved: dict[str, int] = {}
    dropped: dict[str, int] = {}
    owners_merged = 0
    for model, field in _references():
        label = model._meta.label
        rows = model._base_manager.filter(**{field.attname: source.pk})
        if model is TaskOwner:
            for owner in rows.select_for_update().order_by("pk"):
                if _move_ownership(owner, target) == "merged":
                    owners_merged += 1
                else:
                    moved[label] = moved.get(label, 0) + 1
            continue
        if model is Agency or not _unique_sets(model, field):
            count = rows.update(**{field.attname: target.pk})
        else:
            count = 0
            for row in rows.order_by("pk"):
                if _collides(model, field, row, target):
                    row.delete()
                    dropped[label] = dropped.get(label, 0) + 1
                else:
                    model._base_manager.filter(pk=row.pk).update(**{field.attname: target.pk})
                    count += 1
        if count:
            moved[label] = count
    added = []
    for name in (source.name, source.short_name):
        name = name.strip()
        if not name or name in (target.name, target.short_name):
            continue
        alias = AgencyAlias.objects.filter(name=name).first()
        if alias is None:
            AgencyAlias.objects.create(agency=target, name=name)
            added.append(name)
        elif alias.agency_id != target.pk:
            alias.agency = target
            alias.save(update_fields=["agency"])
            added.append(name)
    give_reason(source, _("并入“%(target)s”") % {"target": target.name})
    source.delete()
    return MergeResult(moved, dropped, owners_merged, added, users)


# --- Deactivating ------------------------------------------------------------------------


@dataclasses.dataclass
class DeactivateResult:
    moved: int
    merged: int
    responsible_removed: int = 0


@transaction.atomic
def deactivate(agency: Agency, target: Agency | None) -> DeactivateResult:
    """Deactivate `agency`, handing its open tasks (not done, not closed out, of a plan not
    archived) to `target`. Refused (ValidationError in Chinese) while it owns tasks of an
    active plan and no target is named, while it has active sub-agencies, or when the
    target is itself."""
    agency = Agency.objects.select_for_update().get(pk=agency.pk)
    if not agency.is_active:
        raise ValidationError(_("“%(agency)s”已经停用。") % {"agency": agency.name})
    if target is not None and target.pk == agency.pk:
        raise ValidationError(_("接收任务的单位不能是要停用的单位本身。"))
    if target is not None and not target.is_active:
        raise ValidationError(_("接收任务的单位“%(target)s”已停用。") % {"target": target.name})
    if agency.children.filter(is_active=True).exists():
        raise ValidationError(_("“%(agency)s”还有在用的下级单位：请先移动或停用下级单位。") % {"agency": agency.name})
    if target is None and active_plan_task_count(agency):
        raise ValidationError(
            _("“%(agency)s”还负责执行中工作计划的任务，请选择接收这些任务的单位后再停用。") % {"agency": agency.name}
        )
    moved = merged = responsible_removed = 0
    if target is not None:
        # A closed year's tasks are its record (Plan.is_closed): they keep their owners.
        owners = TaskOwner.objects.select_for_update().filter(
            agency=agency, task__status__in=OPEN_STATUSES, task__plan__status__in=[PlanStatus.DRAFT, PlanStatus.ACTIVE]
        )
        task_ids = []
        for owner in owners.order_by("pk"):
            task_ids.append(owner.task_id)
            if _move_ownership(owner, target) == "merged":
                merged += 1
            else:
                moved += 1
        responsible_removed = _drop_responsible(task_ids, agency)
    agency.is_active = False
    give_reason(agency, _("停用单位"))
    agency.save(update_fields=["is_active"])
    return DeactivateResult(moved, merged, responsible_removed)


def _drop_responsible(task_ids: list[int], agency: Agency) -> int:
    """The handed-over tasks' 责任人 of the agency that gave them up: they no longer belong
    to an owner of the task."""
    removed = 0
    for task in Task.objects.filter(pk__in=task_ids).prefetch_related("responsible_users"):
        gone = [user.pk for user in task.responsible_users.all() if user.agency_id == agency.pk]
        if gone:
            give_reason(task, _("单位停用：其责任人不再负责"))
            task.responsible_users.remove(*gone)
            removed += len(gone)
    return removed
