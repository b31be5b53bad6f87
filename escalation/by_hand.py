"""A 督办单 issued by hand: a supervisor picks the level (any), writes the requirements and
may rewrite the facts (suggested from the data). It goes through the same writer as the
ladder's (escalation.notices.write) and records the ladder's causes true that day at its
level and below, so the ladder does not issue the same again."""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from escalation import facts as facts_of
from escalation import notices as service
from escalation import permissions as can
from escalation import policy
from escalation.choices import RANK, Level, Origin
from escalation.ladder import keys_up_to
from escalation.models import Notice
from escalation.urges import load_task


def issue_by_hand(
    task_id: int,
    user,
    *,
    level: str,
    requirements: str,
    reply_due_on: datetime.date | None = None,
    facts: str = "",
    wants_evidence: bool | None = None,
    wants_plan: bool | None = None,
    today: datetime.date | None = None,
) -> Notice:
    """A supervisor issues a notice of any level (it supersedes lower open ones; one of the
    same or a higher level still open is continued, not doubled)."""
    today = today or timezone.localdate()
    task = load_task(task_id)
    if not can.may_issue_notice(user, task):
        raise PermissionDenied(_("您无权对该任务下发督办单。"))
    if level not in Level.values:
        raise ValidationError({"level": [_("请选择督办等级。")]})
    requirements = (requirements or "").strip()
    if not requirements:
        raise ValidationError({"requirements": [_("请填写督办要求。")]})
    reply_due_on = reply_due_on or policy.default_reply_due(level, today)
    if reply_due_on <= today:
        raise ValidationError({"reply_due_on": [_("反馈时限须晚于今天。")]})
    evidence_default, plan_default = service.wants_by_default(level)
    with transaction.atomic():
        # The year's counter first: a ladder or another supervisor issuing now waits, and
        # what they issued is seen below.
        counter = service.lock_counter(today.year)
        higher = [n for n in service.open_notices(task_id) if RANK[Level(n.level)] >= RANK[Level(level)]]
        if higher:
            raise ValidationError(
                _("该任务已有未办结的%(level)s（%(number)s），请在该督办单上继续督办，或下发更高等级。")
                % {"level": higher[0].get_level_display(), "number": higher[0].number}
            )
        data = facts_of.figures(task, today)
        draft = service.Draft(
            task=task,
            level=level,
            origin=Origin.HAND,
            requirements=requirements,
            reply_due_on=reply_due_on,
            facts=(facts or "").strip() or facts_of.text(data),
            facts_data=data,
            wants_evidence=evidence_default if wants_evidence is None else wants_evidence,
            wants_plan=plan_default if wants_plan is None else wants_plan,
            # What the ladder would have issued this for, so it does not repeat it.
            keys=keys_up_to(task.pk, level, today),
        )
        (notice,) = service.write([draft], today, counter, user=user)
    return notice
