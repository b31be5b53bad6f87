"""A signed-in session that still owes its second factor reaches only the pages that let
it pay (verify, enrol), signing out and the language switch: any other page sends it to
the second step, the Django admin included; the API by session answers 403 in JSON. A
request signed with an API token is left to DRF: tokens are only made by a verified
session (api.views), so the token itself stands for both factors."""

from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from accounts import policy
from accounts.two_factor import services
from api.authentication import KEYWORDS

# What a session that owes its second factor may still reach.
OPEN_VIEWS = frozenset(
    {
        "accounts:two_factor_verify",
        "accounts:two_factor_enrol",
        "accounts:logout",
        "set_language",
        "healthz",
    }
)


class TwoFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        view_name = match.view_name if match is not None else ""
        is_api = policy.is_api_view(view_func, view_name)
        if is_api and _signed_with_token(request):
            # DRF authenticates by the token and ignores the session (a bad token is a 401).
            return None
        # Read by base.html: no menu on the pages such a session may see.
        request.two_factor_owed = owed = services.owes_second_factor(request)
        if not owed or view_name in OPEN_VIEWS:
            return None
        if is_api:
            message = _("请先在网页上完成两步验证，再通过浏览器会话使用接口；程序调用请使用 API 令牌。")
            return JsonResponse({"detail": message}, status=403)
        step = "accounts:two_factor_verify"
        if not services.has_second_factor(request.user):
            step = "accounts:two_factor_enrol"
        target = request.get_full_path() if request.method == "GET" else reverse("home")
        return redirect(f"{reverse(step)}?{urlencode({'next': target})}")


def _signed_with_token(request) -> bool:
    parts = request.META.get("HTTP_AUTHORIZATION", "").split()
    return bool(parts) and parts[0].lower().encode() in KEYWORDS
