"""Steps of the supervision loop told to the next person (supervision.signals.transitioned).

Each step is a message of its own kind (Rule.SUPERVISION) keyed by its Transition: one
`Delivery` row per recipient and channel under the reminders' unique key
(rule, transition id, day of the step, 0, recipient, channel), sent by the same claim as
every reminder (notifications.delivery.send_batch), which makes the inbox item once. However
often the signal arrives, each person is told once in the inbox, and once by email when
they want email and have an address (after their quiet hours). Group robots stay quiet: a
step is one person's business, not the agency's chat.
"""

import dataclasses
import datetime
import logging
from functools import partial

from django.conf import settings
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from core.jobs import enqueue
from escalation import recipients as escalation_recipients
from escalation.models import Step
from escalation.signals import batch_stepped, stepped
from notifications.choices import Channel, DeliveryState, Rule
from notifications.jobs import send_deliveries
from notifications.models import Delivery, Preference
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


def _task_label(task) -> str:
    heading = task.heading if len(task.heading) <= 60 else task.heading[:59] + "…"
    return f"{task.number}. {heading}" if task.number else heading


def message(transition: Transition) -> dict:
    """What the step says: title, body and link (in the site's language)."""
    subject = transition.subject
    task = transition.task
    action = Action(transition.action).label
    title = _("%(kind)s · %(action)s：%(task)s") % {
        "kind": subject._meta.verbose_name,
        "action": action,
        "task": _task_label(task),
    }
    lines = [
        _("任务：%(task)s") % {"task": _task_label(task)},
        _("%(actor)s%(action)s，当前状态：%(state)s")
        % {"actor": transition.actor.display_name, "action": action, "state": subject.get_state_display()},
    ]
    if transition.comment:
        lines.append(_("意见：%(comment)s") % {"comment": transition.comment[:COMMENT_MAX_CHARS]})
    return {"title": title[:TITLE_MAX_CHARS], "body": "\n".join(lines), "link": _link(transition)}


def _after_quiet_hours(moment: datetime.datetime, preference: Preference) -> datetime.datetime:
    local = timezone.localtime(moment)
    if not preference.in_quiet_hours(local.time().replace(tzinfo=None)):
        return moment
    end = datetime.datetime.combine(local.date(), preference.quiet_end, tzinfo=local.tzinfo)
    return end if end > local else end + datetime.timedelta(days=1)


@dataclasses.dataclass
class Message:
    """One step told to its people: keyed by the step's row (`object_id`) under `rule`."""

    object_id: int
    day: datetime.date
    task_id: int | None
    people: list
    payload: dict


def write_messages(rule: str, messages: list[Message], now: datetime.datetime | None = None) -> list[int]:
    """Write the delivery rows of `messages` (one per person and channel; a second call
    finds them there and adds nothing); return the ids of those waiting to go out."""
    now = now or timezone.now()
    messages = [m for m in messages if m.people]
    if not messages:
        return []
    everyone = {user.pk for m in messages for user in m.people}
    preferences = {p.user_id: p for p in Preference.objects.filter(user_id__in=everyone)}
    default = Preference()
    rows = []
    for m in messages:
        key = {
            "rule": rule,
            "object_id": m.object_id,
            "due_on": m.day,
            "day_offset": 0,
            "task_id": m.task_id,
            "created_at": now,
            "payload": m.payload,
        }
        for user in m.people:
            rows.append(Delivery(**key, channel=Channel.INBOX, recipient=user, not_before=now))
            preference = preferences.get(user.pk, default)
            if user.email and preference.email:
                when = _after_quiet_hours(now, preference)
                rows.append(Delivery(**key, channel=Channel.EMAIL, recipient=user, not_before=when))
    with transaction.atomic():
        Delivery.objects.bulk_create(rows, ignore_conflicts=True)
    return list(
        Delivery.objects.filter(rule=rule, object_id__in=[m.object_id for m in messages], state=DeliveryState.PENDING)
        .sendable(now)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def write_step(transition: Transition, now: datetime.datetime | None = None) -> list[int]:
    """Write the delivery rows telling `transition`'s recipients; return the ids of those
    still waiting to go out."""
    people = recipients(transition)
    if not people:
        return []
    with translation.override(settings.LANGUAGE_CODE):
        payload = message(transition)
    day = timezone.localdate(transition.created_at)
    return write_messages(Rule.SUPERVISION, [Message(transition.pk, day, transition.task_id, people, payload)], now)


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


def write_escalation(steps: list[Step], people_of: dict[int, set[int]], now=None) -> list[int]:
    """The delivery rows of escalation's steps (Rule.ESCALATION, keyed by the Step)."""
    users = {
        user.pk: user for user in User.objects.filter(pk__in=set().union(*people_of.values()) if people_of else [])
    }
    messages = []
    with translation.override(settings.LANGUAGE_CODE):
        for step in steps:
            people = [users[pk] for pk in sorted(people_of.get(step.pk, ())) if pk in users]
            if people:
                day = timezone.localdate(step.created_at)
                messages.append(Message(step.pk, day, step.task_id, people, escalation_recipients.message(step)))
    return write_messages(Rule.ESCALATION, messages, now)


def _load_steps(ids: list[int]) -> list[Step]:
    return list(
        Step.objects.filter(pk__in=ids)
        .select_related("task", "actor", "notice", "urge", "instruction", "hold")
        .order_by("pk")
    )


def on_escalation_step(sender, transition: Step, **kwargs) -> None:
    """Receiver of escalation.signals.stepped: one step by a person."""
    try:
        steps = _load_steps([transition.pk])
        ids = write_escalation(steps, {step.pk: escalation_recipients.one(step) for step in steps})
    except Exception:
        logger.exception("escalation step %s could not be announced", transition.pk)
        return
    _send_later(ids)


def on_escalation_batch(sender, steps: list[Step], **kwargs) -> None:
    """Receiver of escalation.signals.batch_stepped: notices the ladder (or a supervisor)
    issued together, told in a few queries."""
    try:
        loaded = _load_steps([step.pk for step in steps])
        ids = write_escalation(loaded, escalation_recipients.issued(loaded))
    except Exception:
        logger.exception("%d escalation steps could not be announced", len(steps))
        return
    _send_later(ids)


def connect() -> None:
    transitioned.connect(on_transitioned, sender=Transition, dispatch_uid="notifications_supervision_step")
    stepped.connect(on_escalation_step, sender=Step, dispatch_uid="notifications_escalation_step")
    batch_stepped.connect(on_escalation_batch, sender=Step, dispatch_uid="notifications_escalation_batch")
