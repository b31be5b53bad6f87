"""Writing the audit trail: record() and the escaping that keeps a value from forging a
log line or a row; the request context (who, from where, which request) it reads."""

from __future__ import annotations

import contextvars
import dataclasses
import datetime
import decimal
import json
import logging
import uuid
from typing import Any

from django.contrib.auth import get_user_model
from django.db import models, transaction

from audit.choices import EventType, Outcome
from audit.models import AuditEvent
from audit.signals import security_alert
from core.net import client_ip

logger = logging.getLogger("audit")

# Longest value kept for one field of a change, and longest username typed at a login.
VALUE_MAX_CHARS = 1000
USERNAME_MAX_CHARS = 150
REDACTED = "（已隐藏）"

# Never written to the trail, whatever model they sit on: passwords and their hashes, API
# token digests, robot secrets and webhook addresses (a WeCom or DingTalk address carries
# its access token in the query string).
SECRET_FIELDS = frozenset({"password", "secret", "key_hash", "token", "webhook_url", "access_token"})
SECRET_PARTS = ("password", "secret", "token", "key_hash")

# Characters a log reader or terminal would act on: line breaks (CR, LF, NEL, U+2028,
# U+2029), every other C0/C1 control, and the bidirectional overrides and isolates that
# make text display in another order than it is stored (Trojan Source).
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
NAMED_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape(value: Any, limit: int | None = None) -> str:
    """A value as one line of visible text: line breaks, controls and bidi characters
    become escapes like \\n or \\u2028 (and a backslash \\\\, so escapes are unambiguous)."""
    text = "" if value is None else str(value)
    if limit is not None and len(text) > limit:
        text = text[:limit]
    out = []
    for ch in text:
        code = ord(ch)
        if ch in NAMED_ESCAPES:
            out.append(NAMED_ESCAPES[ch])
        elif code < 0x20 or 0x7F <= code <= 0x9F:
            out.append(f"\\x{code:02x}")
        elif ch in ("\u2028", "\u2029") or ch in BIDI_CONTROLS:
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def is_secret(field_name: str) -> bool:
    name = field_name.lower()
    return name in SECRET_FIELDS or any(part in name for part in SECRET_PARTS)


def plain(value: Any) -> Any:
    """A field value as JSON: text escaped and capped, dates as ISO text, numbers kept."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, dict):
        return {escape(k, 100): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value][:200]
    text = str(value)
    if len(text) > VALUE_MAX_CHARS:
        text = text[:VALUE_MAX_CHARS] + "…"
    return escape(text)


def clean_detail(detail: dict | None) -> dict:
    """Escape every string and hide every secret, at any depth of the detail."""

    def walk(value, key=""):
        if key and is_secret(key):
            # Keep the shape ({"old": …, "new": …}): that it changed is worth knowing.
            return {escape(k, 100): REDACTED for k in value} if isinstance(value, dict) else REDACTED
        if isinstance(value, dict):
            return {escape(k, 100): walk(v, str(k)) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [walk(v) for v in value][:200]
        return plain(value)

    return walk(detail or {})


# --- The request context ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class RequestContext:
    request: Any
    request_id: str


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar("audit_request", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


def bind_request(request, request_id: str):
    """Make `request` the one record() reads (audit.middleware does this); returns the token
    for unbind_request."""
    return _current.set(RequestContext(request, request_id))


def unbind_request(token) -> None:
    _current.reset(token)


def current_request():
    context = _current.get()
    return context.request if context is not None else None


def current_request_id() -> str:
    context = _current.get()
    return context.request_id if context is not None else ""


# --- Writing ----------------------------------------------------------------------------


def object_type_of(obj_or_model) -> str:
    meta = obj_or_model._meta
    return f"{meta.app_label}.{meta.model_name}"


def build(
    event_type: EventType,
    *,
    outcome: Outcome = Outcome.SUCCESS,
    user=None,
    username: str | None = None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: Any = "",
    object_repr: str = "",
    detail: dict | None = None,
    request=None,
    ip_address: str | None = None,
) -> AuditEvent:
    """The audit event `record` writes, not yet saved (record_many saves many at once).

    Write one audit event in the current transaction, and one line to the "audit" log.

    No savepoint and no try/except: if the row cannot be written the exception goes up,
    and the change it records rolls back with the transaction (every unsafe request runs
    in one, see audit.middleware.AtomicUnsafeRequestsMiddleware). `user`, the address and
    the request id default to the current request's."""
    request = request if request is not None else current_request()
    if user is None and request is not None:
        candidate = getattr(request, "user", None)
        if candidate is not None and candidate.is_authenticated:
            user = candidate
    if obj is not None:
        object_type = object_type or object_type_of(obj)
        object_id = obj.pk if object_id in ("", None) else object_id
        object_repr = object_repr or str(obj)
    if username is None:
        username = user.get_username() if user is not None else ""
    if ip_address is None and request is not None:
        ip_address = client_ip(request)
    detail = clean_detail(detail)
    # A request signed with an API token: the event names the token ("id:prefix", which
    # the token lists show; never the key), so every use of a token can be traced to it.
    # DRF puts the token on the Django request as `auth`; audit knows it by this duck type.
    token_label = getattr(getattr(request, "auth", None), "audit_label", None)
    if token_label:
        detail["token"] = escape(token_label, 64)
    # An X-Request-ID the client sent itself (not through a trusted proxy): kept beside the
    # server's request id, never as it (audit.middleware.RequestIdMiddleware).
    client_request_id = getattr(request, "client_request_id", "")
    if client_request_id:
        detail["client_request_id"] = escape(client_request_id, 64)[:64]
    event = AuditEvent(
        user_id=getattr(user, "pk", None),
        username=escape(username, USERNAME_MAX_CHARS)[:150],
        user_role=escape(getattr(user, "role", "") or "", 32)[:32],
        ip_address=ip_address or None,
        request_id=current_request_id(),
        event_type=event_type,
        object_type=escape(object_type, 100)[:100],
        object_id=escape("" if object_id is None else object_id, 64)[:64],
        object_repr=escape(object_repr, 200)[:200],
        outcome=outcome,
        detail=detail,
    )
    return event


def record(event_type: EventType, **kwargs) -> AuditEvent:
    """Write one audit event in the current transaction, and one line to the "audit" log
    (see `build` for the arguments). No savepoint and no try/except: if the row cannot be
    written the exception goes up, and the change it records rolls back with it."""
    event = build(event_type, **kwargs)
    event.save(force_insert=True)
    logger.info(log_line(event))
    return event


def record_many(events: list[AuditEvent]) -> list[AuditEvent]:
    """Write events made by `build` in one INSERT (a job that issues hundreds of notices),
    with a log line each, in the current transaction."""
    written = AuditEvent.objects.bulk_create(events)
    for event in written:
        logger.info(log_line(event))
    return written


def raise_alert(
    kind: str,
    *,
    title: str,
    body: str,
    roles: tuple[str, ...] = ("security",),
    user=None,
    username: str | None = None,
    obj: models.Model | None = None,
    detail: dict | None = None,
    request=None,
) -> AuditEvent:
    """Record a SECURITY_ALERT event and, once its transaction commits, tell the people
    holding `roles` (audit.signals.security_alert; the notifications app delivers it to
    the inbox and by email). `user`/`username` name whom the alert is about."""
    event = record(
        EventType.SECURITY_ALERT,
        outcome=Outcome.FAILURE,
        user=user,
        username=username,
        obj=obj,
        detail={"kind": kind, "title": str(title), **(detail or {})},
        request=request,
    )

    def send() -> None:
        security_alert.send(sender=AuditEvent, event=event, kind=kind, title=str(title), body=str(body), roles=roles)

    transaction.on_commit(send)
    return event


def log_line(event: AuditEvent) -> str:
    """The event as one physical line of JSON (the values are escaped already; json
    escapes what is left, and ensure_ascii=False keeps Chinese readable)."""
    payload = {
        "id": event.pk,
        "time": event.occurred_at.isoformat(),
        "event": event.event_type,
        "outcome": event.outcome,
        "user_id": event.user_id,
        "username": event.username,
        "role": event.user_role,
        "ip": event.ip_address,
        "request_id": event.request_id,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object": event.object_repr,
        "detail": event.detail,
    }
    line = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=False)
    # json leaves these as they are with ensure_ascii=False; a log viewer would break the line.
    return line.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").replace("\u0085", "\\u0085")


# --- Changes of audited models (django-simple-history records) --------------------------

# Bookkeeping, not content: a change of only these is not worth an event of its own.
BOOKKEEPING_FIELDS = frozenset({"updated_at", "last_login", "search_text"})
# User fields whose change is a 权限变更 (the role has its own 角色变更).
PERMISSION_FIELDS = frozenset({"is_active", "is_staff", "is_superuser"})


def _field_value(history_instance, field) -> Any:
    return getattr(history_instance, field.attname)


def history_changes(history_instance) -> dict[str, dict]:
    """{field: {"old": …, "new": …}} for one historical record: every tracked field on
    creation (old None), the changed ones on a change, every one on deletion (new None)."""
    tracked = [f for f in history_instance.instance_type._meta.fields if f.name in _tracked_names(history_instance)]
    kind = history_instance.history_type
    if kind == "~":
        previous = _previous_record(history_instance)
        if previous is not None:
            delta = history_instance.diff_against(previous)
            return {
                change.field: {"old": _redact(change.field, change.old), "new": _redact(change.field, change.new)}
                for change in delta.changes
                if change.field not in BOOKKEEPING_FIELDS
            }
    changes = {}
    for field in tracked:
        if field.name in BOOKKEEPING_FIELDS:
            continue
        value = _redact(field.name, _field_value(history_instance, field))
        changes[field.name] = {"old": value, "new": None} if kind == "-" else {"old": None, "new": value}
    return changes


def _previous_record(history_instance):
    # By history id, not simple-history's prev_record (by date): two saves within one
    # clock tick (or under a frozen clock) must still diff against each other.
    model = history_instance.instance_type
    pk_name = model._meta.pk.attname
    return (
        type(history_instance)
        .objects.filter(**{pk_name: getattr(history_instance, pk_name)}, history_id__lt=history_instance.history_id)
        .order_by("-history_id")
        .first()
    )


def _tracked_names(history_instance) -> set[str]:
    return {f.name for f in history_instance.instance_type.history.model.tracked_fields}


def _redact(field_name: str, value: Any) -> Any:
    return REDACTED if is_secret(field_name) else value


def record_history(history_instance) -> AuditEvent | None:
    """One event for one simple-history record: 新增/修改/删除, or 角色变更 / 权限变更 when
    a user's role or rights changed. A change record that changed nothing but bookkeeping
    (a login touching last_login) writes nothing."""
    model = history_instance.instance_type
    kind = history_instance.history_type
    changes = history_changes(history_instance)
    if kind == "~" and not changes:
        return None
    event_type = {"+": EventType.CREATE, "~": EventType.UPDATE, "-": EventType.DELETE}[kind]
    if model is get_user_model() and kind == "~":
        if "role" in changes:
            event_type = EventType.ROLE_CHANGE
        elif PERMISSION_FIELDS & changes.keys():
            event_type = EventType.PERMISSION_CHANGE
    object_id = getattr(history_instance, model._meta.pk.attname)
    user = history_instance.history_user
    reason = history_instance.history_change_reason or ""
    detail = {"changes": changes, "history_id": history_instance.history_id}
    if reason:
        detail["reason"] = reason
    return record(
        event_type,
        user=user,
        object_type=object_type_of(model),
        object_id=object_id,
        object_repr=_repr_of(history_instance),
        detail=detail,
        ip_address=getattr(history_instance, "ip_address", None),
    )


def _repr_of(history_instance) -> str:
    try:
        return str(history_instance.instance)
    except Exception:  # a related row the repr needs may already be gone (a deletion)
        return f"{history_instance.instance_type._meta.verbose_name} #{history_instance.pk}"
