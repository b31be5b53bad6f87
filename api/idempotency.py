"""Idempotency-Key on POST: a retried request gets the first response back instead of
writing twice.

The key is the caller's, scoped to the user, the method and the path. The first request
with a key writes a row (committed at once, so a concurrent twin sees it) and, once it has
an answer below 500, keeps that answer for KEEP_FOR. The same key again:
- with the same body: the kept answer, marked `Idempotent-Replayed: true`;
- with a different body: 422, nothing done;
- while the first is still running: 409, try again shortly.
A 5xx (or a crash) releases the key, so the retry runs for real. Only requests that got
past authentication, permissions and throttling get this far: a 401/403/429 keeps nothing.

What is kept holds no secret: the request only as a keyed digest (HMAC with SECRET_KEY, so a
copy of the table does not let anyone test guesses of what was sent), never its headers
(the Authorization header included); of the answer, its status, body and three headers,
unless the body carries a secret shown once (a new token's key): then only that it was
answered, and a retry gets 409 saying so. Expired rows are purged by the beat job
api.jobs.purge_idempotency_keys; one met before that is taken over, as if absent.
"""

import datetime
import hashlib
import json

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from api.exceptions import Conflict, Unprocessable
from api.models import IdempotencyKey
from audit.services import is_secret

HEADER = "Idempotency-Key"
KEEP_FOR = datetime.timedelta(hours=24)
# A row still without an answer after this long belongs to a request that died: taken over.
PENDING_TIMEOUT = datetime.timedelta(minutes=2)
MAX_KEY_LENGTH = 255
MAX_PATH_LENGTH = 500
KEPT_HEADERS = ("Location", "ETag", "Retry-After")
# Answer fields never kept for a replay: the new token's `key`, and anything is_secret()
# calls a secret (password, token, secret…), at any depth.
SECRET_ANSWER_FIELDS = frozenset({"key"})


class Replay(Exception):
    """Raised by begin() when the answer is already known; the view returns it as it is."""

    def __init__(self, record: IdempotencyKey):
        super().__init__(record.key)
        self.record = record

    def response(self) -> Response:
        record = self.record
        return Response(
            record.response_body,
            status=record.status_code,
            headers={**record.response_headers, "Idempotent-Replayed": "true"},
        )


def _file_digest(uploaded) -> str:
    digest = hashlib.sha256()
    for chunk in uploaded.chunks():
        digest.update(chunk)
    uploaded.seek(0)
    return f"file:{uploaded.name}:{digest.hexdigest()}"


def fingerprint(request) -> str:
    """The request's content (body as parsed, files by their digest, query string), hashed."""
    data = request.data
    if hasattr(data, "lists"):  # a form or multipart body
        content = {k: [v if isinstance(v, str) else _file_digest(v) for v in values] for k, values in data.lists()}
    else:
        content = data
    payload = json.dumps(
        {"query": sorted(request.query_params.lists()), "body": content},
        sort_keys=True,
        ensure_ascii=False,
        cls=JSONEncoder,
    )
    return salted_hmac("api.idempotency.fingerprint", payload, algorithm="sha256").hexdigest()


def carries_secret(data) -> bool:
    """Whether an answer's body holds a field that is a secret (at any depth)."""
    if isinstance(data, dict):
        return any(
            str(name) in SECRET_ANSWER_FIELDS or is_secret(str(name)) or carries_secret(value)
            for name, value in data.items()
        )
    if isinstance(data, list | tuple):
        return any(carries_secret(value) for value in data)
    return False


def begin(request) -> IdempotencyKey | None:
    """The row of this request's key, claimed for it; None when the request has no key."""
    if request.method != "POST" or HEADER not in request.headers:
        return None
    key = request.headers[HEADER].strip()
    # Visible ASCII (a UUID, a sequence number…): nothing a database column would refuse.
    plain = 0 < len(key) <= MAX_KEY_LENGTH and key.isascii() and key.isprintable()
    if not plain or len(request.path) > MAX_PATH_LENGTH:
        raise exceptions.ValidationError(
            {HEADER: [_("Idempotency-Key 应为 1 到 %(n)d 个可见的 ASCII 字符。") % {"n": MAX_KEY_LENGTH}]}
        )
    now = timezone.now()
    digest = fingerprint(request)
    lookup = {"user": request.user, "method": request.method, "path": request.path, "key": key}
    for _attempt in range(2):
        existing = IdempotencyKey.objects.filter(**lookup).first()
        if existing is None:
            try:
                with transaction.atomic():
                    return IdempotencyKey.objects.create(**lookup, fingerprint=digest, created_at=now)
            except IntegrityError:
                continue  # a twin request claimed the key just now: look again
        if existing.created_at < now - KEEP_FOR:
            # Expired, not yet purged: the key is free again, taken over as a new request.
            taken = IdempotencyKey.objects.filter(pk=existing.pk, created_at=existing.created_at).update(
                fingerprint=digest,
                status_code=None,
                response_body=None,
                response_headers={},
                replayable=True,
                created_at=now,
            )
            if taken:
                return IdempotencyKey.objects.get(pk=existing.pk)
            continue
        if existing.fingerprint != digest:
            raise Unprocessable(_("此 Idempotency-Key 已用于内容不同的请求，未做任何修改。新的请求请使用新的键。"))
        if existing.finished and not existing.replayable:
            raise Conflict(
                _(
                    "使用此 Idempotency-Key 的请求已完成，但其响应含只显示一次的令牌，不能重放。"
                    "如未保存令牌，请撤销它后重新创建。"
                )
            )
        if existing.finished:
            raise Replay(existing)
        if existing.created_at < now - PENDING_TIMEOUT:
            taken = IdempotencyKey.objects.filter(
                pk=existing.pk, status_code__isnull=True, created_at=existing.created_at
            ).update(created_at=now)
            if taken:
                existing.created_at = now
                return existing
        break
    raise Conflict(_("使用同一 Idempotency-Key 的请求正在处理中，请稍后重试。"))


def finish(record: IdempotencyKey, response) -> None:
    """Keep the answer to replay it; a server error releases the key instead."""
    if response.status_code >= 500:
        release(record)
        return
    data = getattr(response, "data", None)
    record.status_code = response.status_code
    body = None if data is None else json.loads(json.dumps(data, cls=JSONEncoder))
    record.replayable = not carries_secret(body)
    record.response_body = body if record.replayable else None
    record.response_headers = (
        {name: response[name] for name in KEPT_HEADERS if response.has_header(name)} if record.replayable else {}
    )
    record.save(update_fields=["status_code", "response_body", "response_headers", "replayable"])


def release(record: IdempotencyKey | None) -> None:
    if record is not None and record.pk is not None:
        IdempotencyKey.objects.filter(pk=record.pk, status_code__isnull=True).delete()
