"""Who may act on the supervision loop's objects: the one place these rules are written.
The state machine (supervision.machine) asks them for every transition; pages and the API
ask them (through the machine's `allowed`) to show only the actions a person may take.

- the lead agency's staff write, submit and withdraw reports, close-outs and requests;
- co-owner agencies' staff write their agency's input;
- the lead agency's head signs off (单位审核): a leader whose scope covers the lead agency,
  or a staff member of it named 审核人 (User.is_unit_reviewer) — never on their own
  submission;
- the supervision office (督查专员) reviews, closes out and decides at its step, for tasks
  in its scope (Task.objects.visible_to);
- the leader in charge (分管领导) decides the last step of a target change: the plan's
  named leader, or where the plan names none, a leader whose scope covers the task.
The system admin runs the platform and configures plans but takes no decision here."""

from accounts.services import scope_agency_ids
from core.roles import Role
from tasks.choices import OwnerRole, TaskStatus
from tasks.services import task_access
from workplans.choices import PlanStatus
from workplans.models import supervised_plan_ids


def lead_agency_id(task) -> int | None:
    return next((o.agency_id for o in task.task_owners.all() if o.role == OwnerRole.LEAD), None)


def is_lead_staff(user, task) -> bool:
    """Staff of the lead agency on a task they may write (active plan, not closed out)."""
    if not (user.is_authenticated and user.is_active) or user.role != Role.STAFF:
        return False
    access = task_access(user, task)
    return access.owner_role == OwnerRole.LEAD and access.can_change_status


def co_owner_agency_id(user, task) -> int | None:
    """The co-owner agency `user` writes input for on `task`, or None."""
    if not (user.is_authenticated and user.is_active) or user.role != Role.STAFF:
        return None
    access = task_access(user, task)
    if access.owner_role != OwnerRole.CO_OWNER or not access.can_report:
        return None
    return user.agency_id


def is_unit_head(user, task) -> bool:
    """A leader whose scope covers the lead agency, or the lead agency's 审核人."""
    if not (user.is_authenticated and user.is_active):
        return False
    lead = lead_agency_id(task)
    if lead is None:
        return False
    if user.role == Role.LEADER:
        return lead in (scope_agency_ids(user) or ())
    return user.role == Role.STAFF and user.is_unit_reviewer and user.agency_id == lead


def is_supervisor_for(user, task) -> bool:
    """A supervisor whose scope (agency tree or named plans) covers the task."""
    if not (user.is_authenticated and user.is_active) or user.role != Role.SUPERVISOR:
        return False
    if task.plan_id in supervised_plan_ids(user):
        return True
    scope = scope_agency_ids(user) or ()
    return any(owner.agency_id in scope for owner in task.task_owners.all())


def is_leader_in_charge(user, task) -> bool:
    if not (user.is_authenticated and user.is_active) or user.role != Role.LEADER:
        return False
    named = task.plan.leader_in_charge_id
    if named is not None:
        return named == user.pk
    return task_access(user, task).can_view


def is_lead_staff_on_closing(user, task) -> bool:
    """Staff of the lead agency, whatever the task's state (a task waiting for its
    close-out has no status to change, yet its lead may withdraw the request)."""
    if not (user.is_authenticated and user.is_active) or user.role != Role.STAFF:
        return False
    lead = lead_agency_id(task)
    return lead is not None and user.agency_id == lead and task.plan.status == PlanStatus.ACTIVE


def may_reopen(user, task) -> bool:
    """A leader who can see a closed-out task may reopen it (with a reason)."""
    if not (user.is_authenticated and user.is_active) or user.role != Role.LEADER:
        return False
    return task.status == TaskStatus.CLOSED and task_access(user, task).can_view
