"""API authentication: a personal token (`Authorization: Token wpt_…`, or `Bearer`) for
systems, and the browser session (CSRF checked on unsafe methods) for the pages."""

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from api.models import TOKENLESS_ROLES, ApiToken, hash_token

KEYWORDS = (b"token", b"bearer")


def refuse(request, reason: str, message) -> exceptions.AuthenticationFailed:
    """The 401 for a bad token, with why on the Django request: the refusal's audit event
    (ACCESS_DENIED) tells a guessed key from a revoked or an expired one."""
    getattr(request, "_request", request).denial_reason = reason
    return exceptions.AuthenticationFailed(message)


class TokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None
        if len(parts) != 2:
            raise refuse(request, "token_invalid", _("Authorization 请求头格式应为：Token <令牌>。"))
        try:
            raw = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise refuse(request, "token_invalid", _("令牌无效或已被撤销。")) from None
        token = ApiToken.objects.select_related("user", "user__agency").filter(key_hash=hash_token(raw)).first()
        if token is None:
            raise refuse(request, "token_invalid", _("令牌无效或已被撤销。"))
        if not token.user.is_active:
            raise refuse(request, "token_revoked", _("该用户已停用。"))
        if token.revoked_at is not None or token.user.role in TOKENLESS_ROLES:
            raise refuse(request, "token_revoked", _("令牌无效或已被撤销。"))
        if token.is_expired:
            raise refuse(request, "token_expired", _("令牌已过期，请在“API 令牌”页面重新创建。"))
        token.touch()
        return token.user, token

    def authenticate_header(self, request):
        # Present, so an unauthenticated request gets 401 (not 403) with this challenge.
        return f'{self.keyword} realm="api"'


class SessionAuthentication(authentication.SessionAuthentication):
    """DRF's session authentication, with its CSRF refusal in Chinese."""

    def enforce_csrf(self, request):
        try:
            super().enforce_csrf(request)
        except exceptions.PermissionDenied:
            getattr(request, "_request", request).denial_reason = "csrf"  # recorded (audit.denials)
            raise exceptions.PermissionDenied(_("CSRF 校验失败：请刷新页面后重试；程序调用请使用 API 令牌。")) from None
