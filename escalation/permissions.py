"""Who may act on escalation's objects: the one place these rules are written. The state
machines (escalation.machine) ask them for every step; pages and the API ask them (through
the machines' `allowed`, and `may_*` here for what creates an object) what to offer.

- the supervision office (督查专员) whose scope covers the task issues 督办单 by hand,
  decides them (returns an answer, closes, cancels), urges, and holds the ladder;
- a leader who may open the task urges (催办) and gives instructions (批示), and settles
  the instructions they gave;
- the lead agency's staff acknowledge (签收) and answer (反馈) the notices addressed to
  their agency, answer urges and respond to instructions; its unit heads (leader, 审核人)
  may acknowledge too; a co-owner's staff answer an urge that was sent to co-owners;
- the ladder (no user: the escalation job) issues, supersedes and closes.
Everything that writes needs an active plan; a closed-out task takes no new notice."""

from core.roles import Role
from supervision import permissions as loop
from tasks.choices import FINISHED, OwnerRole, TaskStatus
from tasks.services import task_access
from workplans.choices import PlanStatus


def _active(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def _open_task(task) -> bool:
    return task.plan.status == PlanStatus.ACTIVE and task.status not in FINISHED


def _leader_viewing(user, task) -> bool:
    return _active(user) and user.role == Role.LEADER and task_access(user, task).can_view


def may_issue_notice(user, task) -> bool:
    return _active(user) and _open_task(task) and loop.is_supervisor_for(user, task)


def may_hold(user, task) -> bool:
    return _active(user) and task.plan.status == PlanStatus.ACTIVE and loop.is_supervisor_for(user, task)


def may_urge(user, task) -> bool:
    if not (_active(user) and _open_task(task)):
        return False
    return loop.is_supervisor_for(user, task) or _leader_viewing(user, task)


def may_instruct(user, task) -> bool:
    # A leader may still instruct on a task waiting for its close-out (已完成), not on a
    # closed-out one (已销号).
    return task.plan.status == PlanStatus.ACTIVE and task.status != TaskStatus.CLOSED and _leader_viewing(user, task)


def is_addressee_staff(user, notice) -> bool:
    """Staff of the agency the notice is addressed to (the task's lead), plan active."""
    return (
        _active(user)
        and user.role == Role.STAFF
        and user.agency_id == notice.agency_id
        and notice.task.plan.status == PlanStatus.ACTIVE
    )


def may_acknowledge(user, notice) -> bool:
    if is_addressee_staff(user, notice):
        return True
    return _active(user) and notice.task.plan.status == PlanStatus.ACTIVE and loop.is_unit_head(user, notice.task)


def decides_notice(user, obj) -> bool:
    """The supervision office covering the task (notices), on an active plan."""
    return _active(user) and obj.task.plan.status == PlanStatus.ACTIVE and loop.is_supervisor_for(user, obj.task)


def is_ladder(user, _obj) -> bool:
    """The escalation job: a step nobody took by hand."""
    return user is None


def decides_or_ladder(user, obj) -> bool:
    return user is None or decides_notice(user, obj)


def may_answer_urge(user, urge) -> bool:
    if not (_active(user) and user.role == Role.STAFF and urge.task.plan.status == PlanStatus.ACTIVE):
        return False
    role = task_access(user, urge.task).owner_role
    return role == OwnerRole.LEAD or (urge.to_co_owners and role == OwnerRole.CO_OWNER)


def may_respond(user, instruction) -> bool:
    return loop.is_lead_staff_on_closing(user, instruction.task)


def is_instruction_author(user, instruction) -> bool:
    return (
        _active(user)
        and user.role == Role.LEADER
        and user.pk == instruction.issued_by_id
        and instruction.task.plan.status == PlanStatus.ACTIVE
    )
