"""Response hardening for every page and answer: headers, rate limits, errors without traces.

The Content-Security-Policy itself comes from django-csp (settings.CONTENT_SECURITY_POLICY);
Referrer-Policy, nosniff, X-Frame-Options and HSTS from Django's SecurityMiddleware and
clickjacking middleware. What neither library does lives here.
"""

import logging

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django_ratelimit.core import get_usage

from accounts.lockout import login_key
from core.net import client_address, client_ip, wants_json

logger = logging.getLogger(__name__)


class SecurityHeadersMiddleware:
    """Headers Django has no setting for: Permissions-Policy on every response, and
    Cache-Control: no-store on everything answered to a signed-in user (pages, API JSON,
    downloads), so a shared bureau PC's back button or disk cache keeps nothing of theirs.

    It also turns an unhandled exception under /api/ into a JSON 500 without a trace: the
    API's own handler (api/exceptions.py) leaves those to Django, whose 500 is a page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        user = getattr(request, "user", None)
        # DRF writes the token's user back onto the request, so API answers count too;
        # an Authorization header alone is enough: the answer was meant for one caller.
        signed_in = (user is not None and user.is_authenticated) or "HTTP_AUTHORIZATION" in request.META
        if signed_in and "no-store" not in response.get("Cache-Control", ""):
            patch_cache_control(response, private=True, no_store=True)
            response.headers.pop("Expires", None)
        return response

    def process_exception(self, request, exception):
        if not wants_json(request):
            return None
        # Logged as Django would (django.request, with the trace), answered without it.
        logging.getLogger("django.request").error(
            "Internal Server Error: %s",
            request.path,
            exc_info=exception,
            extra={"status_code": 500, "request": request},
        )
        return JsonResponse({"detail": _("服务器内部错误，请稍后重试。"), "code": "server_error"}, status=500)


def _rules() -> dict[str, dict]:
    return getattr(settings, "RATE_LIMITS", {})


def _key_value(key: str, request) -> str | None:
    if key == "ip":
        # An address that cannot be told is not one bucket for everyone (core.net).
        return client_ip(request)
    if key == "user":
        user = getattr(request, "user", None)
        return str(user.pk) if user is not None and user.is_authenticated else client_address(request)
    if key.startswith("post:"):
        # Read as the login form reads a login name, so "Admin", "ａｄｍｉｎ" and "admin "
        # count as one account.
        value = login_key(request.POST.get(key[5:], ""))
        return value or None
    raise ValueError(f"RATE_LIMITS: unknown key {key!r} (use ip, user or post:<field>)")


def too_many_requests(request, retry_after: int) -> HttpResponse:
    message = _("操作过于频繁，请 %(wait)d 秒后再试。") % {"wait": retry_after}
    if wants_json(request):
        response = JsonResponse({"detail": message, "code": "throttled"}, status=429)
    else:
        body = loader.get_template("429.html").render({"message": message})
        response = HttpResponse(body, status=429)
    response["Retry-After"] = str(retry_after)
    return response


class RateLimitMiddleware:
    """429 for a URL name used too often, by the limits in settings.RATE_LIMITS:

        {"accounts:login": {"methods": ["POST"], "rates": {"ip": "30/5m", "post:username": "10/5m"}}}

    Keys: `ip` (the client address), `user` (the signed-in user, else the address) and
    `post:<field>` (a form field, e.g. the login name). Counting is django-ratelimit's
    (fixed windows in the default cache). Every key is counted on every request, and any
    one over its rate refuses. No view knows about it.

    If the cache cannot be reached, the request goes through (fail open) and a warning is
    logged: the login lockout (django-axes) lives in the database and still holds, and
    refusing all logins and exports while Redis is down would be worse."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        rule = _rules().get(match.view_name) if match else None
        if not rule:
            return None
        methods = [m.upper() for m in rule.get("methods", [])]
        if methods and request.method not in methods:
            return None
        waits = []
        for key, rate in rule["rates"].items():
            if not rate:
                continue
            value = _key_value(key, request)
            if value is None:
                continue
            try:
                usage = get_usage(
                    request,
                    group=f"{match.view_name}:{key}",
                    key=lambda _group, _request, v=value: v,
                    rate=rate,
                    increment=True,
                )
            except Exception:
                logger.warning("rate limit cache unavailable; %s not limited", match.view_name, exc_info=True)
                return None
            if usage and usage["should_limit"]:
                waits.append(max(1, usage["time_left"]))
        if waits:
            logger.info("rate limit: %s refused for %s", match.view_name, client_address(request))
            return too_many_requests(request, max(waits))
        return None


def csrf_failure(request, reason=""):
    """CSRF refusal in Chinese: JSON for the API and scripts, else a page saying what to do.
    Rendered without the request's context processors, so it cannot fail on its own."""
    message = _("页面已过期或请求来源无法验证，请刷新页面后重试。")
    request.denial_reason = "csrf"  # recorded as a refusal (audit.denials)
    if wants_json(request):
        return JsonResponse({"detail": message, "code": "csrf_failed"}, status=403)
    return HttpResponse(loader.get_template("403_csrf.html").render({"message": message}), status=403)
