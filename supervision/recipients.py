"""Who must be told of a step taken in the supervision loop (a Transition): the people who
act next, or the one whose work was decided. notifications writes one message per step
and recipient from this answer.

- a report submitted: the lead agency's heads (its own leaders and 审核人) when it waits
  for sign-off, the supervisors covering the task when it waits for review; signed off:
  the supervisors; returned or accepted: its author;
- co-owner input submitted: the lead agency's staff (the task's 责任人 if named);
- a close-out filed or withdrawn: the supervisors; decided: who filed it; reopened: the
  lead agency's staff;
- a request filed, or approved on to a next step: the deciders of that step; withdrawn:
  the deciders of the step it was at; decided for good: who filed it.

The one who took the step is never told of it, and inactive accounts never are.
Supervisors and leaders are few: they are filtered with supervision.permissions' own
predicates, so who is told and who may act cannot disagree.
"""

from django.db.models import Q

from accounts.models import User
from core.roles import Role
from supervision import permissions as can
from supervision.choices import Action, CloseOutState, ReportState, RequestState
from supervision.models import ChangeRequest, Transition
from tasks.models import Task


def _task(transition: Transition) -> Task:
    return Task.objects.select_related("plan").prefetch_related("task_owners").get(pk=transition.task_id)


def unit_heads(task: Task) -> list[User]:
    """The lead agency's own leaders and its staff named 审核人 (the leaders above it may
    sign off too, and see it on their work list, but are not chased)."""
    lead = can.lead_agency_id(task)
    if lead is None:
        return []
    heads = Q(role=Role.LEADER) | Q(role=Role.STAFF, is_unit_reviewer=True)
    return list(User.objects.filter(heads, agency_id=lead, is_active=True))


def supervisors(task: Task) -> list[User]:
    return [
        user for user in User.objects.filter(role=Role.SUPERVISOR, is_active=True) if can.is_supervisor_for(user, task)
    ]


def leaders_in_charge(task: Task) -> list[User]:
    named = task.plan.leader_in_charge_id
    leaders = User.objects.filter(role=Role.LEADER, is_active=True)
    if named is not None:
        leaders = leaders.filter(pk=named)
    return [user for user in leaders if can.is_leader_in_charge(user, task)]


def lead_staff(task: Task) -> list[User]:
    """The task's 责任人 when named, else the lead agency's active staff."""
    responsible = list(task.responsible_users.filter(is_active=True))
    if responsible:
        return responsible
    lead = can.lead_agency_id(task)
    if lead is None:
        return []
    return list(User.objects.filter(agency_id=lead, role=Role.STAFF, is_active=True))


def _one(user_id: int | None) -> list[User]:
    return list(User.objects.filter(pk=user_id, is_active=True)) if user_id else []


def _deciders(task: Task, state: str, request: ChangeRequest) -> list[User]:
    if state == RequestState.PENDING_UNIT:
        return [user for user in unit_heads(task) if user.pk != request.filed_by_id]
    if state == RequestState.PENDING_SUPERVISOR:
        return supervisors(task)
    if state == RequestState.PENDING_LEADER:
        return leaders_in_charge(task)
    return []


def _for_report(transition: Transition, task: Task) -> list[User]:
    report = transition.report
    if transition.action == Action.SUBMIT:
        if transition.state_after == ReportState.PENDING_SIGNOFF:
            return unit_heads(task)
        return supervisors(task)
    if transition.action == Action.SIGN_OFF:
        return supervisors(task)
    if transition.action in (Action.UNIT_RETURN, Action.RETURN, Action.ACCEPT):
        return _one(report.author_id)
    return []


def _for_close_out(transition: Transition, task: Task) -> list[User]:
    close_out = transition.close_out
    if transition.action in (Action.SUBMIT, Action.WITHDRAW):
        return supervisors(task)
    if transition.state_after in (CloseOutState.APPROVED, CloseOutState.REJECTED):
        return _one(close_out.submitted_by_id)
    if transition.action == Action.REOPEN:
        return lead_staff(task)
    return []


def _for_request(transition: Transition, task: Task) -> list[User]:
    request = transition.request
    if transition.action == Action.WITHDRAW:
        return _deciders(task, transition.state_before, request)
    if transition.state_after in (RequestState.APPROVED, RequestState.REJECTED):
        return _one(request.filed_by_id)
    return _deciders(task, transition.state_after, request)


def recipients(transition: Transition) -> list[User]:
    """The active users to tell of `transition`, each once, never its actor."""
    task = _task(transition)
    if transition.report_id:
        found = _for_report(transition, task)
    elif transition.co_input_id:
        found = lead_staff(task) if transition.action == Action.SUBMIT else []
    elif transition.close_out_id:
        found = _for_close_out(transition, task)
    else:
        found = _for_request(transition, task)
    unique = {user.pk: user for user in found if user.is_active and user.pk != transition.actor_id}
    return [unique[pk] for pk in sorted(unique)]
