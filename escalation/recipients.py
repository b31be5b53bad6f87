"""Who is told of a step of escalation, and the message: notifications writes one message
per step and recipient from this answer (escalation.signals).

- a notice issued: the lead agency's staff (the task's 责任人 where named) and its heads
  (its leaders and 审核人), the co-owners' staff (copied); a red one also the leader in
  charge;
- acknowledged or answered: who issued it (the supervision office covering the task, for
  the ladder's); an answer returned, closed or cancelled by hand: the lead's staff and who
  answered; superseded or closed by the ladder: nobody (the new notice, the close-out,
  says it);
- an urge: the lead's staff (and the co-owners' when sent to them); answered: who urged;
- an instruction: the lead's staff and heads; responded: the leader; returned or settled
  by the leader: the lead's staff;
- a hold: nobody.
The one who took the step is never told of it, and inactive accounts never are. The
ladder's batch is resolved in a few queries whatever its size."""

from collections import defaultdict

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import User
from core.roles import Role
from escalation.choices import Action, Level
from escalation.models import Notice, Step
from supervision import permissions as can
from supervision import recipients as loop
from tasks.choices import OwnerRole
from tasks.models import Task, TaskOwner

TITLE_MAX_CHARS = 200
COMMENT_MAX_CHARS = 1000


def link(step: Step) -> str:
    if step.notice_id:
        return reverse("escalation:notice_detail", kwargs={"pk": step.notice_id})
    return reverse("tasks:task_detail", kwargs={"pk": step.task_id}) + "#escalation"


def message(step: Step) -> dict:
    """What the step says: title, body and link (in the active language)."""
    subject = step.subject
    action = Action(step.action).label
    kind = f"{subject.get_level_display()} {subject.number}" if step.notice_id else str(subject._meta.verbose_name)
    title = _("%(kind)s · %(action)s：%(task)s") % {"kind": kind, "action": action, "task": step.task.label}
    lines = [_("任务：%(task)s") % {"task": step.task.label}]
    state = subject.get_state_display() if hasattr(subject, "get_state_display") else ""
    lines.append(
        _("%(actor)s%(action)s，当前状态：%(state)s") % {"actor": step.actor_name, "action": action, "state": state}
    )
    if step.notice_id and step.action == Action.ISSUE:
        lines.append(_("反馈时限：%(day)s") % {"day": subject.reply_due_on.isoformat()})
        lines.append(_("督办要求：%(text)s") % {"text": subject.requirements[:COMMENT_MAX_CHARS]})
    elif step.comment:
        lines.append(_("内容：%(comment)s") % {"comment": step.comment[:COMMENT_MAX_CHARS]})
    reply_by = getattr(subject, "reply_by", None) or getattr(subject, "respond_by", None)
    if reply_by and step.action in (Action.URGE, Action.INSTRUCT):
        lines.append(_("请于%(day)s前答复。") % {"day": reply_by.isoformat()})
    return {"title": title[:TITLE_MAX_CHARS], "body": "\n".join(lines), "link": link(step)}


# --- The ladder's batch: notices issued ---------------------------------------------------


def _staff_of(agency_ids) -> dict[int, set[int]]:
    found: dict[int, set[int]] = defaultdict(set)
    for pk, agency_id in User.objects.filter(agency_id__in=agency_ids, role=Role.STAFF, is_active=True).values_list(
        "pk", "agency_id"
    ):
        found[agency_id].add(pk)
    return found


def _heads_of(agency_ids) -> dict[int, set[int]]:
    heads = Q(role=Role.LEADER) | Q(role=Role.STAFF, is_unit_reviewer=True)
    found: dict[int, set[int]] = defaultdict(set)
    for pk, agency_id in User.objects.filter(heads, agency_id__in=agency_ids, is_active=True).values_list(
        "pk", "agency_id"
    ):
        found[agency_id].add(pk)
    return found


def issued(steps: list[Step]) -> dict[int, set[int]]:
    """Per issue step, the ids of who is told: a few queries for the whole batch."""
    notice_ids = [step.notice_id for step in steps if step.notice_id and step.action == Action.ISSUE]
    notices = Notice.objects.in_bulk(notice_ids)
    task_ids = {notice.task_id for notice in notices.values()}
    responsible: dict[int, set[int]] = defaultdict(set)
    through = Task.responsible_users.through
    for task_id, user_id in through.objects.filter(task_id__in=task_ids, user__is_active=True).values_list(
        "task_id", "user_id"
    ):
        responsible[task_id].add(user_id)
    copied: dict[int, set[int]] = defaultdict(set)
    for task_id, agency_id in TaskOwner.objects.filter(task_id__in=task_ids, role=OwnerRole.CO_OWNER).values_list(
        "task_id", "agency_id"
    ):
        copied[task_id].add(agency_id)
    leads = {notice.agency_id for notice in notices.values()}
    agencies = leads.union(*copied.values())
    staff, heads = _staff_of(agencies), _heads_of(leads)
    in_charge = _leaders_in_charge([n.task_id for n in notices.values() if n.level == Level.RED])
    told: dict[int, set[int]] = {}
    for step in steps:
        notice = notices.get(step.notice_id)
        if notice is None:
            continue
        people = set(responsible.get(notice.task_id) or staff.get(notice.agency_id, set()))
        people |= heads.get(notice.agency_id, set())
        for agency_id in copied.get(notice.task_id, ()):
            people |= staff.get(agency_id, set())
        people |= in_charge.get(notice.task_id, set())
        people.discard(step.actor_id)
        told[step.pk] = people
    return told


def _leaders_in_charge(task_ids: list[int]) -> dict[int, set[int]]:
    """Per task, its leaders in charge (supervision.permissions.is_leader_in_charge), the
    tasks and the leaders loaded once for the batch."""
    if not task_ids:
        return {}
    tasks = Task.objects.select_related("plan").prefetch_related("task_owners").filter(pk__in=task_ids)
    leaders = list(User.objects.filter(role=Role.LEADER, is_active=True))
    return {task.pk: {leader.pk for leader in leaders if can.is_leader_in_charge(leader, task)} for task in tasks}


# --- One step by a person --------------------------------------------------------------------


def _ids(users) -> set[int]:
    return {user.pk for user in users}


def _deciders_of(notice: Notice, task: Task) -> set[int]:
    return {notice.issued_by_id} if notice.issued_by_id else _ids(loop.supervisors(task))


def one(step: Step) -> set[int]:
    """The ids of who is told of `step` (not an issue: see `issued`)."""
    task = Task.objects.select_related("plan").prefetch_related("task_owners").get(pk=step.task_id)
    subject = step.subject
    people: set[int] = set()
    if step.notice_id:
        notice = subject
        if step.action in (Action.ACKNOWLEDGE, Action.ANSWER):
            people = _deciders_of(notice, task)
        elif step.action in (Action.RETURN, Action.CLOSE, Action.CANCEL) and step.actor_id:
            people = _ids(loop.lead_staff(task)) | ({notice.answered_by_id} - {None})
    elif step.urge_id:
        if step.action == Action.URGE:
            people = _ids(loop.lead_staff(task))
            if subject.to_co_owners:
                co = [o.agency_id for o in task.task_owners.all() if o.role == OwnerRole.CO_OWNER]
                people |= set().union(*_staff_of(co).values())
        elif step.action == Action.REPLY:
            people = {subject.issued_by_id}
    elif step.instruction_id:
        if step.action == Action.INSTRUCT:
            people = _ids(loop.lead_staff(task)) | _ids(loop.unit_heads(task))
        elif step.action == Action.RESPOND:
            people = {subject.issued_by_id}
        elif step.action in (Action.RETURN, Action.SETTLE) and step.actor_id:
            people = _ids(loop.lead_staff(task)) | ({subject.responded_by_id} - {None})
    people.discard(step.actor_id)
    if people:
        people = set(User.objects.filter(pk__in=people, is_active=True).values_list("pk", flat=True))
    return people
