"""Escalation's sections of the work list (待办, supervision.worklist): registered from
EscalationConfig.ready, counted in the same one query as the loop's.

- staff: notices addressed to their agency to acknowledge or answer (returned answers
  included), urges to their agency to answer (as lead, or as co-owner when sent to
  co-owners), instructions on tasks their agency leads to respond to;
- the supervision office: answered notices to close or return, in its scope;
- leaders: responses to their instructions, to settle.
The SQL forms of escalation.permissions (is_addressee_staff, may_answer_urge, may_respond,
decides_notice, is_instruction_author)."""

import datetime

from django.db.models import Exists, F, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from core.roles import Role
from escalation.choices import UNANSWERED_STATES, InstructionState, NoticeState, UrgeState
from escalation.models import Instruction, Notice, Urge
from supervision.worklist import Section, oldest_due_first, supervisor_q
from tasks.choices import OwnerRole
from tasks.models import TaskOwner
from workplans.choices import PlanStatus


def _owned(agency_id: int, *roles: str) -> Q:
    return Q(Exists(TaskOwner.objects.filter(task=OuterRef("task_id"), agency_id=agency_id, role__in=roles)))


def sections(user, today: datetime.date) -> list[Section]:
    active = Q(task__plan__status=PlanStatus.ACTIVE)
    found: list[Section] = []
    if user.role == Role.STAFF and user.agency_id:
        owed = Notice.objects.filter(active, agency_id=user.agency_id, state__in=UNANSWERED_STATES).annotate(
            decision_due_on=F("reply_due_on")
        )
        urges = Urge.objects.filter(active, state=UrgeState.OPEN).filter(
            _owned(user.agency_id, OwnerRole.LEAD) | (Q(to_co_owners=True) & _owned(user.agency_id, OwnerRole.CO_OWNER))
        )
        instructions = Instruction.objects.filter(
            active, _owned(user.agency_id, OwnerRole.LEAD), state=InstructionState.OPEN
        ).annotate(decision_due_on=F("respond_by"))
        found += [
            Section(
                "owed_notices",
                _("待签收/反馈的督办单"),
                oldest_due_first(owed.select_related("task__plan"), "issued_at", today),
                "escalation:notice_detail",
            ),
            Section(
                "open_urges",
                _("待答复的催办"),
                oldest_due_first(
                    urges.annotate(decision_due_on=F("reply_by")).select_related("task__plan"), "issued_at", today
                ),
                "escalation:urge_detail",
            ),
            Section(
                "owed_instructions",
                _("待落实的领导批示"),
                oldest_due_first(instructions.select_related("task__plan"), "issued_at", today),
                "escalation:instruction_detail",
            ),
        ]
    if user.role == Role.SUPERVISOR:
        answered = Notice.objects.filter(supervisor_q(user), state=NoticeState.ANSWERED).annotate(
            decision_due_on=F("reply_due_on")
        )
        found.append(
            Section(
                "answered_notices",
                _("待办结的督办单反馈"),
                oldest_due_first(answered.select_related("task__plan"), "answered_at", today),
                "escalation:notice_detail",
            )
        )
    if user.role == Role.LEADER:
        responded = Instruction.objects.filter(issued_by=user, state=InstructionState.RESPONDED).annotate(
            decision_due_on=F("respond_by")
        )
        found.append(
            Section(
                "responded_instructions",
                _("待确认的批示落实情况"),
                oldest_due_first(responded.select_related("task__plan"), "responded_at", today),
                "escalation:instruction_detail",
            )
        )
    return found
