"""Task rules shared by pages, jobs and the API: what one user may do on one task, who may
be named 责任人, and which tasks owe this cycle's report. (Who sees which task is
Task.objects.visible_to; a report is written by supervision.progress.report_progress.)"""

import dataclasses
import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import scope_agency_ids
from core.roles import Role
from tasks.choices import FINISHED, MilestoneEventKind, OwnerRole, TaskStatus
from tasks.models import Milestone, MilestoneEvent, ProgressUpdate, Task
from workplans.choices import PlanStatus, ReportingCycle
from workplans.cycles import cycle_for
from workplans.models import supervised_plan_ids

# --- Who may do what ------------------------------------------------------------------


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


def task_access(user, task: Task) -> TaskAccess:
    """The one place the permission rules on a task are written:

    - the lead agency's staff change status and percent, mark milestones and name 责任人;
    - co-owner staff add notes, files and readings;
    - leaders read their agency's tasks and those of the agencies below it, and name
      责任人 where an agency in their scope leads;
    - admins do everything; auditors see the audit trail only;
    - nothing is written to a plan that is not active.

    `can_view` is Task.objects.visible_to(user) for one loaded task (its Python form; the
    tests hold the two to the same answers). `task.task_owners` should be prefetched.
    """
    if not user.is_authenticated or not user.is_active:
        return TaskAccess()
    if task.plan.status == PlanStatus.DRAFT and user.role != Role.ADMIN:
        return TaskAccess()
    # Nothing is written to a plan that is not active, nor to a task closed out (销号):
    # only a leader's reopening (supervision.closeout) opens it again. A closed year's task
    # marked 长期推进 (long_term) continues in place, so it stays writable.
    running = task.plan.status == PlanStatus.ACTIVE or (task.plan.status == PlanStatus.ARCHIVED and task.long_term)
    writable = running and task.status != TaskStatus.CLOSED
    if user.role == Role.ADMIN:
        return TaskAccess(True, writable, writable, writable)
    agency_ids = scope_agency_ids(user) or ()
    if user.role == Role.SUPERVISOR:
        # The supervision office reads; what it decides (reviews, close-outs, requests) is
        # supervision.permissions' to say.
        in_scope = task.plan_id in supervised_plan_ids(user) or any(
            owner.agency_id in agency_ids for owner in task.task_owners.all()
        )
        return TaskAccess(can_view=in_scope)
    roles = {owner.role for owner in task.task_owners.all() if owner.agency_id in agency_ids}
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
    lead = next((o.agency_id for o in task.task_owners.all() if o.role == OwnerRole.LEAD), None)
    if lead is None:
        return User.objects.none()
    return User.objects.filter(agency_id=lead, is_active=True, role__in=[Role.STAFF, Role.LEADER]).order_by(
        "full_name", "username"
    )


# --- Milestones done and taken back -----------------------------------------------------


def record_milestones_done(update: ProgressUpdate, milestone_ids) -> None:
    """Mark milestones done with a progress update (inside its transaction): each gets its
    done_on and a 完成 event naming who and when."""
    today = timezone.localdate(update.created_at)
    for milestone in Milestone.objects.filter(pk__in=milestone_ids).order_by("pk"):
        milestone.done_on = today
        milestone.done_by_update = update
        milestone.save(update_fields=["done_on", "done_by_update"])
        MilestoneEvent(
            milestone=milestone,
            task_id=milestone.task_id,
            kind=MilestoneEventKind.DONE,
            done_on=today,
            recorded_by=update.author,
            recorded_at=update.created_at,
            progress_update=update,
        ).save()


def reopen_milestone(milestone_id: int, user, reason: str) -> MilestoneEvent:
    """Take back a milestone's completion (it was marked by mistake, or an inspection found
    it unfinished): who may change the task's status may, with a reason; the earlier 完成
    stays in the milestone's events. PermissionDenied / ValidationError otherwise."""
    reason = (reason or "").strip()
    with transaction.atomic():
        milestone = Milestone.objects.select_for_update().get(pk=milestone_id)
        task = Task.objects.select_related("plan").prefetch_related("task_owners").get(pk=milestone.task_id)
        if not task_access(user, task).can_change_status:
            raise PermissionDenied(_("您无权修改此任务的时间节点。"))
        if milestone.done_on is None:
            raise ValidationError({"reason": [_("该时间节点尚未完成，无需撤销。")]})
        if not reason:
            raise ValidationError({"reason": [_("撤销完成时，请填写原因。")]})
        event = MilestoneEvent(
            milestone=milestone,
            task=task,
            kind=MilestoneEventKind.REOPENED,
            recorded_by=user,
            reason=reason[:500],
        )
        event.save()
        milestone.done_on = None
        milestone.done_by_update = None
        milestone.save(update_fields=["done_on", "done_by_update"])
    return event


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
            reported &= Q(last_progress_at__lt=end_at) | Q(Exists(in_window))
        condition |= reported
    return condition


def owes_reports_q() -> Q:
    """The tasks units report on: open tasks of active plans, but for those marked 无需填报
    (reporting_exempt). The reporting rates, the reminders, the 督办 ladder, the work
    lists, the dashboards' 应报 figure and the fill-in sheets all start from it."""
    return Q(plan__status=PlanStatus.ACTIVE, reporting_exempt=False) & ~Q(status__in=FINISHED)


def owed_this_cycle_q(today: datetime.date) -> Q:
    """Tasks that report (owes_reports_q) with no report yet in the current cycle."""
    return owes_reports_q() & ~reported_this_cycle_q(today)
