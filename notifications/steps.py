"""Messages of the supervision loop's and escalation's steps, written as delivery rows:
one per person and channel under the reminders' unique key (rule, step id, day, 0,
recipient, channel), so however often a step is told, each person hears it once in the
inbox, and once by email when they want email and have an address (after their quiet
hours). The senders (notifications.delivery) send them like any reminder.

notifications.receivers tells one step by a person here and now; notices issued in a
batch are told by the job notifications.jobs.announce_notices (tell_issued)."""

import dataclasses
import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation

from accounts.models import User
from escalation import recipients as escalation_recipients
from escalation.models import Step
from notifications.choices import Channel, DeliveryState, Rule
from notifications.models import Delivery, Preference


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


def load(ids: list[int]) -> list[Step]:
    return list(
        Step.objects.filter(pk__in=ids)
        .select_related("task", "actor", "notice", "urge", "instruction", "hold")
        .order_by("pk")
    )


def tell(steps: list[Step]) -> list[int]:
    """Escalation's steps taken by people, each told to its recipients."""
    return write_escalation(steps, {step.pk: escalation_recipients.one(step) for step in steps})


def tell_issued(ids: list[int]) -> list[int]:
    """Notices issued together (their ISSUE steps), told in a few queries for the batch."""
    steps = load(ids)
    return write_escalation(steps, escalation_recipients.issued(steps))
