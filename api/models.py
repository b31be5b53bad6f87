"""API tokens (only a hash is stored) and the responses kept for Idempotency-Key retries."""

import datetime
import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.history import audit_history
from core.roles import Role

TOKEN_PREFIX = "wpt_"
# The part of a token shown in lists (its first characters), so a user can tell theirs apart.
SHOWN_CHARS = len(TOKEN_PREFIX) + 8
# last_used_at is written at most this often: a busy client does not write on every request.
TOUCH_EVERY = datetime.timedelta(minutes=1)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def visible_to(self, user) -> "ApiTokenQuerySet":
        """A user's own tokens; the system admin's view takes in everyone's."""
        if not (user.is_authenticated and user.is_active):
            return self.none()
        return self if user.role == Role.ADMIN else self.filter(user=user)


class ApiToken(models.Model):
    """A user's key for the API. The key itself is shown once, when it is made; only its
    SHA-256 is kept, so a copy of the database lets nobody call the API."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("名称"), max_length=100, help_text=_("用途，如“省平台数据同步”"))
    prefix = models.CharField(_("令牌开头"), max_length=SHOWN_CHARS, editable=False)
    key_hash = models.CharField(_("令牌摘要(SHA-256)"), max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    last_used_at = models.DateTimeField(_("最近使用时间"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()
    # Creation and revocation are in the audit trail; use (last_used_at) is written with
    # update() and stays out of it.
    history = audit_history(verbose_name=_("API 令牌变更记录"))

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")
        ordering = ["-created_at", "-id"]
        indexes = [
            # A user's token list, newest first.
            models.Index(fields=["user", "-created_at"], name="apitoken_user_created_idx"),
        ]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(cls, user, name: str, created_by) -> tuple["ApiToken", str]:
        """A new token for `user`, and its key: the only time the key is known."""
        raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user, name=name, prefix=raw[:SHOWN_CHARS], key_hash=hash_token(raw), created_by=created_by
        )
        return token, raw

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def revoke(self) -> bool:
        """Revoke the token (recorded in the audit trail); False when it already was."""
        if self.revoked_at is not None:
            return False
        self.revoked_at = timezone.now()
        self.save(update_fields=["revoked_at"])
        return True

    def touch(self) -> None:
        now = timezone.now()
        if self.last_used_at is None or now - self.last_used_at >= TOUCH_EVERY:
            ApiToken.objects.filter(pk=self.pk).update(last_used_at=now)
            self.last_used_at = now


class IdempotencyKey(models.Model):
    """The first response to a POST sent with an Idempotency-Key, kept for 24 hours so that
    a retried request gets it back instead of writing twice. A row without a status is a
    request still being handled."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(_("幂等键"), max_length=255)
    method = models.CharField(_("请求方法"), max_length=10)
    path = models.CharField(_("请求路径"), max_length=500)
    fingerprint = models.CharField(_("请求内容摘要"), max_length=64)
    status_code = models.PositiveSmallIntegerField(_("响应状态码"), null=True, blank=True)
    response_body = models.JSONField(_("响应内容"), null=True, blank=True)
    response_headers = models.JSONField(_("响应头"), default=dict, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("幂等请求记录")
        verbose_name_plural = _("幂等请求记录")
        indexes = [
            # Purging the expired rows.
            models.Index(fields=["created_at"], name="idempotencykey_created_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["user", "method", "path", "key"], name="idempotencykey_once_per_request"),
            models.CheckConstraint(
                condition=Q(status_code__isnull=True) | Q(status_code__gte=100, status_code__lte=599),
                name="idempotencykey_status_code_valid",
            ),
        ]

    def __str__(self):
        return f"{self.method} {self.path} {self.key}"

    @property
    def finished(self) -> bool:
        return self.status_code is not None
