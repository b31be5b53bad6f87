"""Steps of the supervision loop (supervision.signals.transitioned) and of escalation
(escalation.signals: a notice answered, an urge, an instruction; notices issued in a
batch, told by the job announce_notices) told to the right people (notifications.steps).

Each step is a message of its own kind (Rule.SUPERVISION) keyed by its Transition: one
`Delivery` row per recipient and channel under the reminders' unique key
(rule, transition id, day of the step, 0, recipient, channel), sent by the same claim as
every reminder (notifications.delivery.send_batch), which makes the inbox item once. However
often the signal arrives, each person is told once in the inbox, and once by email when
they want email and have an address (after their quiet hours). Group robots stay quiet: a
step is one person's business, not the agency's chat.
"""

import datetime
import logging
from functools import partial

from django.conf import settings
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.jobs import enqueue
from escalation.models import Step
from escalation.signals import batch_stepped, stepped
from notifications import steps as told
from notifications.choices import Rule
from notifications.jobs import announce_notices, send_deliveries
from supervision.choices import Action
from supervision.models import Transition
from supervision.recipients import recipients
from supervision.signals import transitioned

logger = logging.getLogger(__name__)

TITLE_MAX_CHARS = 200
COMMENT_MAX_CHARS = 1000

# The detail page of each object of the loop (a pk kwarg); the task page if it is missing.
DETAIL_PAGES = (
    ("report_id", "supervision:report_detail"),
    ("co_input_id", None),
    ("close_out_id", "supervision:closeout_detail"),
    ("request_id", "supervision:request_detail"),
)


def _link(transition: Transition) -> str:
    for field, name in DETAIL_PAGES:
        pk = getattr(transition, field)
        if pk and name:
            try:
                return reverse(name, kwargs={"pk": pk})
            except NoReverseMatch:
                break
    return reverse("tasks:task_detail", kwargs={"pk": transition.task_id})


def message(transition: Transition) -> dict:
    """What the step says: title, body and link (in the site's language)."""
    subject = transition.subject
    task = transition.task
    action = Action(transition.action).label
    title = _("%(kind)s · %(action)s：%(task)s") % {
        "kind": subject._meta.verbose_name,
        "action": action,
        "task": task.label,
    }
    lines = [
        _("任务：%(task)s") % {"task": task.label},
        _("%(actor)s%(action)s，当前状态：%(state)s")
        % {"actor": transition.actor.display_name, "action": action, "state": subject.get_state_display()},
    ]
    if transition.comment:
        lines.append(_("意见：%(comment)s") % {"comment": transition.comment[:COMMENT_MAX_CHARS]})
    return {"title": title[:TITLE_MAX_CHARS], "body": "\n".join(lines), "link": _link(transition)}


def write_step(transition: Transition, now: datetime.datetime | None = None) -> list[int]:
    """Write the delivery rows telling `transition`'s recipients; return the ids of those
    still waiting to go out."""
    people = recipients(transition)
    if not people:
        return []
    with translation.override(settings.LANGUAGE_CODE):
        payload = message(transition)
    day = timezone.localdate(transition.created_at)
    return told.write_messages(
        Rule.SUPERVISION, [told.Message(transition.pk, day, transition.task_id, people, payload)], now
    )


def on_transitioned(sender, transition: Transition, **kwargs) -> None:
    """Receiver of supervision.signals.transitioned (sent once the step committed)."""
    try:
        transition = Transition.objects.select_related(
            "task", "actor", "report", "co_input", "close_out", "request"
        ).get(pk=transition.pk)
        ids = write_step(transition)
    except Exception:
        # The step is taken and in its thread; the page that took it must not fail because
        # the message could not be written (the work list still shows it).
        logger.exception("supervision step %s could not be announced", transition.pk)
        return
    _send_later(ids)


def _send_later(ids: list[int]) -> None:
    if ids:
        # Not queued (Redis down): the beat's dispatch_deliveries sends the rows later.
        transaction.on_commit(partial(enqueue, send_deliveries, ids))


def on_escalation_step(sender, transition: Step, **kwargs) -> None:
    """Receiver of escalation.signals.stepped: one step by a person. The ladder's own
    steps other than issuing (closing with the task's close-out) tell nobody."""
    if transition.actor_id is None:
        return
    try:
        ids = told.tell(told.load([transition.pk]))
    except Exception:
        logger.exception("escalation step %s could not be announced", transition.pk)
        return
    _send_later(ids)


def on_escalation_batch(sender, steps: list[Step], **kwargs) -> None:
    """Receiver of escalation.signals.batch_stepped: notices the ladder (or a supervisor)
    issued together. Told by a job of its own (announce_notices), so the ladder's run does
    not wait for hundreds of messages to be written; told here when the broker cannot take
    the job (the rows' unique keys keep it once either way)."""
    ids = [step.pk for step in steps]
    try:
        if enqueue(announce_notices, ids):
            return
        _send_later(told.tell_issued(ids))
    except Exception:
        logger.exception("%d escalation steps could not be announced", len(ids))


def connect() -> None:
    transitioned.connect(on_transitioned, sender=Transition, dispatch_uid="notifications_supervision_step")
    stepped.connect(on_escalation_step, sender=Step, dispatch_uid="notifications_escalation_step")
    batch_stepped.connect(on_escalation_batch, sender=Step, dispatch_uid="notifications_escalation_batch")
