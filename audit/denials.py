"""Refusals as security events: every 401/403, every 404 for an object outside the user's
scope, and every refusal a view names (`request.denial_reason`) is written to the trail as
ACCESS_DENIED, without letting a scan flood it, and repeated refusals of one user or
address raise a security alert.

One middleware, near the top of the chain, sees the answer whichever layer gave it: the
access policy's 403 page (accounts.middleware), DRF's 401/403 (a bad token, the policy's
permission, an object's own rule), Django's CSRF page (config.security.csrf_failure), a
view's PermissionDenied and the 404 of core.scope.get_visible_or_404 or the API's
get_object. It runs outside the per-request transaction (audit.middleware.
AtomicUnsafeRequestsMiddleware), so a refused POST's record is committed whatever the view
did, and a record that cannot be written is logged, never turned into the answer.

Why a refusal happened (`reason` in the event's detail): what the refusing code put on the
request as `denial_reason` (token_invalid, token_expired, token_revoked,
protected_account, otp_required, csrf …), else "unauthenticated" for a 401 or an
anonymous 403, "policy" when the access policy refused a signed-in role
(accounts.policy.mark_denied), "scope" for an object outside the user's scope
(core.scope), "forbidden" for any other 403. A page the anonymous are sent to sign in for
(a redirect) is not a refusal.

Not a flood (settings.AUDIT_DENIALS): per source (the signed-in user, else the address)
and reason, at most `max_per_window` events are written per `window_seconds`; past that,
refusals are only counted, and one summarising event is written when the count reaches
2, 4, 8 … times the limit ("另有 %(n)d 次拒绝未逐条记录"), so a scan of a million requests in
one window writes some fifteen summaries, and the trail's count is never below half the
real one.
Per source (all reasons together), the `alert_threshold`-th refusal within
`alert_window_seconds` raises one security alert to the security admins (raise_alert
"repeated_denials"); the next window may raise another.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.choices import EventType, Outcome
from audit.services import escape, raise_alert, record
from core.net import client_ip

logger = logging.getLogger(__name__)

PATH_MAX_CHARS = 300
CACHE_PREFIX = "audit:denials"

# The readable name of each reason, stored beside its code in the event's detail.
REASONS = {
    "policy": gettext_lazy("角色无权访问此地址"),
    "scope": gettext_lazy("对象不在本人可见范围内"),
    "unauthenticated": gettext_lazy("未登录或身份无法验证"),
    "forbidden": gettext_lazy("无权执行此操作"),
    "csrf": gettext_lazy("CSRF 校验失败"),
    "token_invalid": gettext_lazy("接口令牌无效"),
    "token_expired": gettext_lazy("接口令牌已过期"),
    "token_revoked": gettext_lazy("接口令牌已吊销"),
    "protected_account": gettext_lazy("试图变更受保护的管理员账户"),
    "otp_required": gettext_lazy("需要双因素验证"),
    "export_scope": gettext_lazy("导出文件超出本人当前可见范围"),
}


def policy() -> dict:
    return settings.AUDIT_DENIALS


def user_of(request):
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def reason_of(request, response) -> str:
    """Why the request was refused; "" when the answer is not a refusal."""
    named = getattr(request, "denial_reason", "")
    if named:
        return str(named)
    status = response.status_code
    if status == 404:
        return "scope" if getattr(request, "denied_by_scope", False) else ""
    if status not in (401, 403):
        return ""
    if status == 401 or user_of(request) is None:
        return "unauthenticated"
    if getattr(request, "denied_by_policy", False):
        return "policy"
    return "forbidden"


def _count(key: str, window: int) -> int | None:
    """Add one to a counter kept for `window` seconds (a fixed window, keyed by its start);
    None when the cache cannot count (then every refusal is written, nothing is alerted)."""
    name = f"{CACHE_PREFIX}:{key}:{int(time.time() // window)}"
    cache.add(name, 0, timeout=window + 60)
    try:
        return cache.incr(name)
    except ValueError:  # gone between add and incr (evicted); count from one again
        cache.set(name, 1, timeout=window + 60)
        return 1


def _is_summary_point(count: int, limit: int) -> bool:
    """2×, 4×, 8× … the limit: where a summary of what went unwritten is due."""
    if count <= limit or count % limit:
        return False
    times = count // limit
    return times & (times - 1) == 0


def _source(request, user) -> str:
    return f"user:{user.pk}" if user is not None else f"ip:{client_ip(request) or '-'}"


def describe(request, response, reason: str) -> dict:
    return {
        "reason": reason,
        "reason_text": str(REASONS.get(reason, reason)),
        # Escaped where they are written (audit.services.record), cut here.
        "method": request.method[:10],
        "path": request.path[:PATH_MAX_CHARS],
        "status": response.status_code,
    }


def record_denial(request, response, reason: str) -> None:
    """Write the refusal (or count it, past the limit) and raise the alert when it is due."""
    rules = policy()
    user = user_of(request)
    source = _source(request, user)
    with translation.override(settings.LANGUAGE_CODE):
        detail = describe(request, response, reason)
        limit = max(1, rules["max_per_window"])
        count = _count(f"{source}:{reason}", rules["window_seconds"])
        target = f"{detail['method']} {detail['path']}"
        if count is None or count <= limit:
            record(EventType.ACCESS_DENIED, outcome=Outcome.DENIED, user=user, object_repr=target, detail=detail)
        elif _is_summary_point(count, limit):
            unwritten = count - limit
            summary = _("另有 %(n)d 次拒绝未逐条记录") % {"n": unwritten}
            detail.update(summary=summary, unwritten=unwritten, total=count, window_seconds=rules["window_seconds"])
            record(EventType.ACCESS_DENIED, outcome=Outcome.DENIED, user=user, object_repr=summary, detail=detail)
        seen = _count(source, rules["alert_window_seconds"])
        if seen == rules["alert_threshold"]:
            _alert(request, user, seen, detail)


def _alert(request, user, seen: int, detail: dict) -> None:
    minutes = max(1, policy()["alert_window_seconds"] // 60)
    if user is not None:
        who = user.get_username()
        title = _("用户 %(user)s 在 %(minutes)d 分钟内被拒绝访问 %(n)d 次") % {
            "user": who,
            "minutes": minutes,
            "n": seen,
        }
    else:
        who = client_ip(request) or "-"
        title = _("地址 %(address)s 在 %(minutes)d 分钟内被拒绝访问 %(n)d 次") % {
            "address": who,
            "minutes": minutes,
            "n": seen,
        }
    body = "\n".join(
        [
            _("最近一次：%(method)s %(path)s（%(reason)s）") % {**detail, "reason": detail["reason_text"]},
            _("来源地址：%(address)s") % {"address": client_ip(request) or "-"},
            _("审计管理员可在安全审计记录中查看每一次拒绝（事件类型“拒绝访问”）。"),
        ]
    )
    try:
        link = reverse("accounts:user_list") + (f"?{urlencode({'q': who})}" if user is not None else "")
    except NoReverseMatch:
        link = ""
    raise_alert(
        "repeated_denials",
        title=title,
        body=body,
        roles=("security",),
        user=user,
        detail={"denials": seen, "window_seconds": policy()["alert_window_seconds"], "link": link},
        request=request,
    )


class DenialAuditMiddleware:
    """Records every refusal the layers below answer with (see the module's docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        reason = reason_of(request, response)
        if reason:
            try:
                record_denial(request, response, reason)
            except DatabaseError:
                # Outside any transaction here: nothing else is undone, and the refusal
                # still goes out as it was.
                logger.exception("refusal of %s %s not recorded", request.method, escape(request.path, 200))
        return response
