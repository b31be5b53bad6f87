"""Task rules shared by pages, jobs and the API: who sees and may change a task, and how a
progress report is written (version check, status rules, files, milestones, readings)."""

import dataclasses
import datetime
import hashlib
from collections.abc import Iterable, Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.choices import Role
from tasks.choices import OwnerRole, TaskStatus, can_transition
from tasks.models import Attachment, Milestone, ProgressUpdate, Task, TaskOwner
from workplans.choices import PlanStatus, ReportingCycle
from workplans.cycles import cycle_for


def tasks_owned_by(agency_ids, *, active_only: bool = True, tasks: QuerySet[Task] | None = None) -> QuerySet[Task]:
    """Tasks (of `tasks`, default all) any of `agency_ids` owns as lead or co-owner, each
    once, with the agency's role."""
    ownership = TaskOwner.objects.filter(task=OuterRef("pk"), agency_id__in=agency_ids)
    tasks = Task.objects.all() if tasks is None else tasks
    tasks = tasks.filter(Exists(ownership)).annotate(is_lead=Exists(ownership.filter(role=OwnerRole.LEAD)))
    if active_only:
        tasks = tasks.filter(plan__status=PlanStatus.ACTIVE)
    return tasks


# --- Who may do what ------------------------------------------------------------------


def scope_agency_ids(user) -> set[int] | None:
    """The agencies whose tasks `user` may read: staff their own, leaders theirs and every
    agency below it; None for admins (everything); empty for auditors (no work data)."""
    if user.role == Role.ADMIN:
        return None
    if user.role == Role.STAFF and user.agency_id:
        return {user.agency_id}
    if user.role == Role.LEADER and user.agency_id:
        return user.agency.descendant_ids()
    return set()


def visible_tasks(
    user, *, scope: set[int] | None | bool = False, tasks: QuerySet[Task] | None = None
) -> QuerySet[Task]:
    """Tasks (of `tasks`, default all) of published plans (active or archived) that `user`
    may open, with `is_lead`: whether one of the user's agencies leads it (for admins:
    always False)."""
    agency_ids = scope_agency_ids(user) if scope is False else scope
    tasks = Task.objects.all() if tasks is None else tasks
    if agency_ids is None:
        tasks = tasks.annotate(is_lead=Value(False))
    else:
        tasks = tasks_owned_by(agency_ids, active_only=False, tasks=tasks)
    return tasks.exclude(plan__status=PlanStatus.DRAFT)


@dataclasses.dataclass(frozen=True)
class TaskAccess:
    """What one user may do on one task. Every page, form and API view asks this."""

    can_view: bool = False
    can_change_status: bool = False  # status and percent, milestones done
    can_report: bool = False  # notes, evidence files, indicator readings
    can_assign: bool = False  # 责任人
    owner_role: str = ""  # the user's agency's role on the task: lead, co_owner or ""

    @property
    def read_only(self) -> bool:
        return self.can_view and not (self.can_change_status or self.can_report or self.can_assign)


def task_access(user, task: Task, *, scope: set[int] | None | bool = False) -> TaskAccess:
    """The one place the permission rules are written (issue 4, point 5):

    - the lead agency's staff change status and percent, mark milestones and name 责任人;
    - co-owner staff add notes, files and readings;
    - leaders read their agency's tasks and those of the agencies below it, and name
      责任人 where an agency in their scope leads;
    - admins do everything; auditors see the audit trail only;
    - nothing is written to a plan that is not active.

    `task.task_owners` should be prefetched; `scope` saves the leader's agency-tree query
    when the caller already has it.
    """
    if not user.is_authenticated or not user.is_active:
        return TaskAccess()
    if task.plan.status == PlanStatus.DRAFT and user.role != Role.ADMIN:
        return TaskAccess()
    writable = task.plan.status == PlanStatus.ACTIVE
    if user.role == Role.ADMIN:
        return TaskAccess(True, writable, writable, writable)
    agency_ids = scope_agency_ids(user) if scope is False else scope
    roles = {owner.role for owner in task.task_owners.all() if owner.agency_id in (agency_ids or ())}
    if not roles:
        return TaskAccess()
    owner_role = OwnerRole.LEAD if OwnerRole.LEAD in roles else OwnerRole.CO_OWNER
    lead = owner_role == OwnerRole.LEAD
    if user.role == Role.STAFF:
        return TaskAccess(True, writable and lead, writable, writable and lead, owner_role)
    if user.role == Role.LEADER:
        return TaskAccess(True, False, False, writable and lead, owner_role)
    return TaskAccess()


def may_view_audit_trail(user, task: Task, access: TaskAccess) -> bool:
    """Anyone who may open the task reads its trail; auditors read the trail of every
    published task (a draft is the admins' until it is published)."""
    if access.can_view:
        return True
    return user.is_authenticated and user.role == Role.AUDITOR and task.plan.status != PlanStatus.DRAFT


def assignable_users(task: Task):
    """Who may be named 责任人: active staff and leaders of the lead agency."""
    from accounts.models import User

    lead = next((o.agency_id for o in task.task_owners.all() if o.role == OwnerRole.LEAD), None)
    return User.objects.filter(agency_id=lead, is_active=True, role__in=[Role.STAFF, Role.LEADER]).order_by(
        "full_name", "username"
    )


# --- Reporting cycles -----------------------------------------------------------------


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def reported_this_cycle_q(day: datetime.date) -> Q:
    """Tasks with an update inside their plan's cycle containing `day`, made no later than
    the end of `day` (local time, as workplans.cycles.is_reported reads it).

    A cycle's start depends only on the kind of cycle (the due day moves the deadline, not
    the window), so this is one condition per kind, whatever the number of plans. The
    task's last_progress_at is its latest update: before the cycle means no update in it.
    Only for a past `day` (a rollup run later) can the latest update be after the window;
    those tasks, and only those, are looked up in the progress log."""
    past = day < timezone.localdate()
    end_at = _start_of(day + datetime.timedelta(days=1))
    condition = Q(pk__in=[])
    for kind in ReportingCycle.values:
        start_at = _start_of(cycle_for(kind, 28, day).start)
        reported = Q(plan__reporting_cycle=kind, last_progress_at__gte=start_at)
        if past:
            in_window = ProgressUpdate.objects.filter(
                task=OuterRef("pk"), created_at__gte=start_at, created_at__lt=end_at
            )
            reported &= Q(last_progress_at__lt=end_at) | Exists(in_window)
        condition |= reported
    return condition


def owed_this_cycle_q(today: datetime.date) -> Q:
    """Open tasks of active plans with no report yet in the current cycle."""
    return Q(plan__status=PlanStatus.ACTIVE) & ~Q(status=TaskStatus.DONE) & ~reported_this_cycle_q(today)


# --- Writing a progress report --------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ReadingInput:
    indicator_id: int
    value: object  # Decimal, already checked by indicators.services.check_reading
    as_of: datetime.date
    note: str = ""


@dataclasses.dataclass(frozen=True)
class EvidenceInput:
    uploaded: object  # an UploadedFile
    kind: object  # tasks.evidence.EvidenceKind, from check_evidence_file


class StaleVersion(Exception):
    """Someone else saved the task after the version this report was based on."""

    def __init__(self, task: Task, updates_since: Sequence[ProgressUpdate]):
        super().__init__(_("任务已被他人更新。"))
        self.task = task
        self.updates_since = list(updates_since)


def report_progress(
    task_id: int,
    user,
    *,
    based_on_version: int,
    status: str | None = None,
    percent: int | None = None,
    note: str = "",
    evidence: Iterable[EvidenceInput] = (),
    milestone_ids: Iterable[int] = (),
    readings: Iterable[ReadingInput] = (),
    submission_key: str = "",
) -> ProgressUpdate:
    """Record one progress report and everything that came with it, in one transaction.

    `status`/`percent` None means "not changing them" (a co-owner's note): the update then
    carries the task's state as it is when saved, so it can never undo someone else's
    change and never conflicts. When they are given and the task moved on since
    `based_on_version`, StaleVersion is raised (with what changed) unless they equal the
    task's current state, in which case nothing would be lost.
    """
    evidence, milestone_ids, readings = list(evidence), list(milestone_ids), list(readings)
    written: list = []  # files put in storage, removed again if the transaction fails
    try:
        with transaction.atomic():
            task = (
                Task.objects.select_for_update(of=("self",))
                .select_related("plan")
                .prefetch_related("task_owners")
                .get(pk=task_id)
            )
            access = task_access(user, task)
            if submission_key:
                # Checked under the task's lock: a form posted twice gets its first update back.
                done = task.progress_updates.filter(submission_key=submission_key, author=user).first()
                if done is not None:
                    return done
            changing_state = status is not None or percent is not None
            if not access.can_report or ((changing_state or milestone_ids) and not access.can_change_status):
                raise PermissionDenied(_("您无权修改此任务的状态或进度。"))
            new_status = task.status if status is None else status
            new_percent = task.percent if percent is None else percent
            moved_on = based_on_version != task.version
            if changing_state and moved_on and (new_status, new_percent) != (task.status, task.percent):
                raise StaleVersion(task, updates_since(task, based_on_version))
            _check_report(task, new_status, new_percent, note, evidence, milestone_ids, readings)
            update = ProgressUpdate(
                task=task,
                author=user,
                status=new_status,
                percent=new_percent,
                note=note.strip(),
                based_on_version=based_on_version,
                submission_key=submission_key,
            )
            update.save()
            _save_evidence(update, user, evidence, written)
            _mark_milestones(update, milestone_ids)
            _save_readings(update, user, readings)
    except BaseException:
        for storage, name in written:
            storage.delete(name)
        raise
    return update


MAX_CONFLICT_UPDATES = 20


def updates_since(task: Task, version: int) -> list[ProgressUpdate]:
    """The updates saved on top of `version`, oldest first: each one moved the version by one."""
    count = min(max(task.version - version, 0), MAX_CONFLICT_UPDATES)
    if not count:
        return []
    latest = task.progress_updates.select_related("author").order_by("-id")[:count]
    return list(reversed(latest))


def _check_report(task, status, percent, note, evidence, milestone_ids, readings):
    errors = {}
    if not can_transition(task.status, status):
        errors["status"] = _("任务状态不能从“%(old)s”改为“%(new)s”。") % {
            "old": TaskStatus(task.status).label,
            "new": TaskStatus(status).label,
        }
    if status == TaskStatus.DONE and percent != 100:
        errors["percent"] = _("任务标记为已完成时，完成百分比应为 100%。")
    if status == TaskStatus.DONE and task.status != TaskStatus.DONE and not note.strip():
        errors["note"] = _("标记为已完成时，请填写完成情况说明。")
    if (status, percent) == (task.status, task.percent) and not (note.strip() or evidence or milestone_ids or readings):
        errors["__all__"] = _("没有需要保存的内容：请修改状态或进度，或填写进展说明、上传材料、填报指标。")
    if milestone_ids:
        open_ids = set(
            Milestone.objects.filter(task=task, pk__in=milestone_ids, done_on__isnull=True).values_list("pk", flat=True)
        )
        if open_ids != set(milestone_ids):
            errors["milestones"] = _("所选时间节点不属于此任务或已完成。")
    if readings:
        own = set(task.indicators.filter(pk__in=[r.indicator_id for r in readings]).values_list("pk", flat=True))
        if own != {r.indicator_id for r in readings}:
            errors["readings"] = _("所填指标不属于此任务。")
    if errors:
        raise ValidationError(errors)


def _save_evidence(update: ProgressUpdate, user, evidence: list[EvidenceInput], written: list) -> None:
    for item in evidence:
        uploaded, kind = item.uploaded, item.kind
        digest = hashlib.sha256()
        uploaded.seek(0)
        for chunk in uploaded.chunks():
            digest.update(chunk)
        uploaded.seek(0)
        attachment = Attachment(
            progress_update=update,
            task_id=update.task_id,
            original_name=uploaded.name[-255:],
            kind=kind.key,
            content_type=kind.content_type,
            size=uploaded.size,
            sha256=digest.hexdigest(),
            uploaded_by=user,
            created_at=update.created_at,
        )
        attachment.file.save(uploaded.name, uploaded, save=False)
        written.append((attachment.file.storage, attachment.file.name))
        attachment.save()


def _mark_milestones(update: ProgressUpdate, milestone_ids: list[int]) -> None:
    today = timezone.localdate(update.created_at)
    for milestone in Milestone.objects.filter(pk__in=milestone_ids).order_by("pk"):
        milestone.done_on = today
        milestone.done_by_update = update
        milestone.save(update_fields=["done_on", "done_by_update"])


def _save_readings(update: ProgressUpdate, user, readings: list[ReadingInput]) -> None:
    from indicators.models import Reading

    for item in readings:
        Reading(
            plan_id=update.task.plan_id,
            indicator_id=item.indicator_id,
            value=item.value,
            as_of=item.as_of,
            note=item.note,
            reporter=user,
            progress_update=update,
            created_at=update.created_at,
        ).save()
