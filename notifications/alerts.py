"""Security alerts (audit.services.raise_alert) delivered to every active holder of the
roles the alert names: into the inbox and by email, each once.

An alert is a reminder of its own kind (Rule.SECURITY_ALERT) keyed by its audit event:
one `Delivery` row per recipient and channel under the reminders' unique key
(rule, event id, day, 0, recipient, channel), sent by the same claim as every reminder
(notifications.delivery.send_batch). However often the signal arrives, each person gets
the alert once in the inbox and once by email. It is not subject to the reminder
preferences or quiet hours: a security admin cannot opt out of hearing that an
administrator was locked out.
"""

import datetime
import logging
from functools import partial

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from audit.signals import security_alert
from core.jobs import enqueue
from notifications.choices import Channel, DeliveryState, Rule
from notifications.jobs import send_deliveries
from notifications.models import Delivery

logger = logging.getLogger(__name__)

TITLE_MAX_CHARS = 200


def _link(event) -> str:
    """Where the alert points: the page its raiser named in the event's detail (a path of
    this site), else the inbox."""
    link = (event.detail or {}).get("link")
    if isinstance(link, str) and link.startswith("/") and not link.startswith("//") and len(link) <= 300:
        return link
    return reverse("notifications:inbox")


def write_alert(event, *, kind: str, title: str, body: str, roles, now: datetime.datetime | None = None) -> list[int]:
    """Write the delivery rows of one alert (a second call finds them there and adds
    nothing); return the ids of those still waiting to go out."""
    now = now or timezone.now()
    payload = {"kind": kind, "event_id": event.pk, "title": str(title)[:TITLE_MAX_CHARS], "body": str(body)}
    payload["link"] = _link(event)
    key = {
        "rule": Rule.SECURITY_ALERT,
        "object_id": event.pk,
        "due_on": timezone.localdate(event.occurred_at or now),
        "day_offset": 0,
        "urgent": True,
        "not_before": now,
        "created_at": now,
        "payload": payload,
    }
    rows = []
    for user_id, email in User.objects.filter(role__in=list(roles), is_active=True).values_list("id", "email"):
        rows.append(Delivery(**key, channel=Channel.INBOX, recipient_id=user_id))
        if email:
            rows.append(Delivery(**key, channel=Channel.EMAIL, recipient_id=user_id))
    if not rows:
        logger.warning("security alert %s (%s): nobody holds %s", event.pk, kind, list(roles))
        return []
    with transaction.atomic():
        Delivery.objects.bulk_create(rows, ignore_conflicts=True)
    return list(
        Delivery.objects.filter(rule=Rule.SECURITY_ALERT, object_id=event.pk, state=DeliveryState.PENDING)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def on_security_alert(sender, event, kind: str, title: str, body: str, roles, **kwargs) -> None:
    """Receiver of audit.signals.security_alert (sent once the alert's event committed)."""
    try:
        ids = write_alert(event, kind=kind, title=title, body=body, roles=roles)
    except Exception:
        # The alert itself is in the audit trail already; the request that raised it has
        # committed and must not turn into a 500 because the inbox could not be written.
        logger.exception("security alert %s (%s) could not be delivered", event.pk, kind)
        return
    if ids:
        # Not queued (Redis down): the beat's dispatch_deliveries sends the rows later.
        transaction.on_commit(partial(enqueue, send_deliveries, ids))


def connect() -> None:
    security_alert.connect(on_security_alert, dispatch_uid="notifications_security_alert")
