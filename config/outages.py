"""A database outage answers 503 with Retry-After and a Chinese message, never a 500 with a
trace: PostgreSQL restarting, failing over or refusing connections is a wait, not a bug.

Two middlewares, because Django turns an exception into a 500 at the layer it happened:
- DatabaseOutageViewMiddleware (innermost) answers a view's OperationalError or
  InterfaceError before any other middleware's process_exception makes it a 500;
- DatabaseOutageMiddleware (outermost) replaces the 500 of such an error raised in a
  middleware (loading the session or the user, an atomic block) with the same 503, and the
  400 of a session save that failed on it (Django's session store reports any database
  error on saving as "the session was deleted", SessionInterrupted).
Connections recover by themselves: CONN_HEALTH_CHECKS drops a dead persistent connection
at the next request, and a failed query marks its connection for closing.
"""

import logging
import sys

from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError, connections
from django.http import HttpResponse, JsonResponse
from django.utils.html import escape
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from core.net import wants_json

logger = logging.getLogger(__name__)

DATABASE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 15
_FLAG = "_database_unavailable"


def unavailable(request, error: BaseException) -> HttpResponse:
    """The 503: rendered without templates' context processors or the database."""
    logger.warning("database unavailable: %s %s: %r", request.method, request.path, error)
    message = _("数据库暂时无法连接，请稍后重试。如刚才提交了内容，请刷新页面确认是否已保存。")
    if wants_json(request):
        response = JsonResponse({"detail": message, "code": "database_unavailable"}, status=503)
    else:
        title, reload = _("服务暂时不可用"), _("重新加载")
        response = HttpResponse(
            f'<!DOCTYPE html><html lang="{escape(get_language() or "zh-hans")}"><head><meta charset="utf-8">'
            f"<title>{escape(title)}</title></head><body><main><h1>{escape(title)} (503)</h1>"
            f'<p>{escape(message)}</p><p><a href="">{escape(reload)}</a></p></main></body></html>',
            status=503,
            content_type="text/html; charset=utf-8",
        )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def _remember_database_error(sender, request=None, **kwargs):
    error = sys.exc_info()[1]
    if request is not None and isinstance(error, DATABASE_ERRORS):
        setattr(request, _FLAG, error)


got_request_exception.connect(_remember_database_error, dispatch_uid="config.outages")


def _database_failed() -> bool:
    # Django marks a connection on any database error but bad data and integrity errors.
    return any(connection.errors_occurred for connection in connections.all(initialized_only=True))


class DatabaseOutageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            response = self.get_response(request)
        except DATABASE_ERRORS as error:  # only with DEBUG_PROPAGATE_EXCEPTIONS
            return unavailable(request, error)
        error = getattr(request, _FLAG, None)
        if error is not None and response.status_code >= 500:
            return unavailable(request, error)
        if response.status_code == 400 and _database_failed():
            return unavailable(request, OperationalError("the session could not be saved"))
        return response


class DatabaseOutageViewMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DATABASE_ERRORS):
            return unavailable(request, exception)
        return None
