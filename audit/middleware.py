"""Request ids for the audit trail, and one transaction per unsafe request so a change and
its audit record are committed together or not at all."""

import re

from django.db import transaction

from audit.services import bind_request, new_request_id, unbind_request
from core.net import from_trusted_proxy

REQUEST_ID_HEADER = "X-Request-ID"
# A proxy's id is kept only when it is plain: it goes into rows and log lines.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{8,64}")
# Longest client-sent id kept (escaped) beside the server's own.
CLIENT_REQUEST_ID_MAX_CHARS = 64
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def accepted_request_id(raw: str | None) -> str | None:
    if raw and REQUEST_ID_PATTERN.fullmatch(raw):
        return raw
    return None


class RequestIdMiddleware:
    """Gives every request an id, makes the request visible to audit.services.record(), and
    answers with the id.

    The id is the proxy's X-Request-ID when the request came through a trusted proxy
    (settings.TRUSTED_PROXIES, core.net.from_trusted_proxy) and the id is plain, so one id
    follows a request through nginx's log and ours. Anyone else's X-Request-ID is the
    client's own claim: the request gets a new id, and the client's value is kept apart as
    request.client_request_id (escaped and capped by the audit trail, which stores it in an
    event's detail) so it can neither pick nor collide with the ids the trail is searched by."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        sent = request.headers.get(REQUEST_ID_HEADER)
        request_id = accepted_request_id(sent) if from_trusted_proxy(request) else None
        request.client_request_id = sent[:CLIENT_REQUEST_ID_MAX_CHARS] if sent and request_id is None else ""
        request_id = request_id or new_request_id()
        request.request_id = request_id
        token = bind_request(request, request_id)
        try:
            response = self.get_response(request)
        finally:
            unbind_request(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


class AtomicUnsafeRequestsMiddleware:
    """Runs every POST/PUT/PATCH/DELETE in one transaction: an exception or a 5xx answer
    rolls back everything it wrote, its audit records included, and an audit record that
    cannot be written takes the change down with it.

    It wraps the rest of the chain rather than calling the view from process_view, so
    the views' process_view/process_exception hooks (the outage middleware's 503) and the
    rendering of a TemplateResponse happen inside the transaction too; an exception is
    already a 500 answer by the time it gets here (Django converts it at every layer).
    Django's ATOMIC_REQUESTS would also wrap GETs, and commit a 500 that did not raise.
    Placed just before django-axes, which must stay last."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in UNSAFE_METHODS:
            return self.get_response(request)
        with transaction.atomic():
            response = self.get_response(request)
            if response.status_code >= 500:
                transaction.set_rollback(True)
        return response
