"""API tokens (only a hash is stored) and the responses kept for Idempotency-Key retries."""

import datetime
import hashlib
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from api.choices import RevokeReason
from audit.choices import EventType
from audit.history import audit_history
from audit.services import record
from core.roles import Role

TOKEN_PREFIX = "wpt_"
# The part of a token shown in lists (its first characters), so a user can tell theirs apart.
SHOWN_CHARS = len(TOKEN_PREFIX) + 8
# last_used_at is written at most this often: a busy client does not write on every request.
TOUCH_EVERY = datetime.timedelta(minutes=1)
# The security and audit admins work only in their pages, signed in with their password
# (and second factor): a token of theirs would be a key to the roles and the trail.
TOKENLESS_ROLES = (Role.SECURITY, Role.AUDITOR)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def default_expiry() -> datetime.datetime:
    """When a token made now stops working: API_TOKEN_DAYS (default 90) from now."""
    return timezone.now() + datetime.timedelta(days=settings.API_TOKEN_DAYS)


class ApiTokenQuerySet(models.QuerySet):
    def visible_to(self, user) -> "ApiTokenQuerySet":
        """A user's own tokens; the system admin's view takes in everyone's."""
        if not (user.is_authenticated and user.is_active):
            return self.none()
        return self if user.role == Role.ADMIN else self.filter(user=user)

    def usable(self, at: datetime.datetime | None = None) -> "ApiTokenQuerySet":
        """Tokens neither revoked nor expired."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=at or timezone.now())

    def unusable(self, at: datetime.datetime | None = None) -> "ApiTokenQuerySet":
        return self.filter(Q(revoked_at__isnull=False) | Q(expires_at__lte=at or timezone.now()))


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
    expires_at = models.DateTimeField(_("到期时间"), default=default_expiry)
    last_used_at = models.DateTimeField(_("最近使用时间"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoked_reason = models.CharField(
        _("撤销原因"), max_length=32, choices=RevokeReason.choices, blank=True, default=""
    )

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
    def issue(cls, user, name: str, created_by=None) -> tuple["ApiToken", str]:
        """A new token for `user`, made by `user` (nobody mints a key in another's name: it
        would act as them, with no way to tell), and its key: the only time it is known.
        Recorded as 创建接口令牌. Refused (ValidationError) for a disabled account and for
        the roles without tokens."""
        if created_by is not None and created_by.pk != user.pk:
            raise ValueError("an API token is made by its own user only")
        if not user.is_active:
            raise ValidationError(_("该用户已停用，不能创建令牌。"))
        if user.role in TOKENLESS_ROLES:
            raise ValidationError(_("安全管理员和审计管理员不使用 API 令牌。"))
        raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user, name=name, prefix=raw[:SHOWN_CHARS], key_hash=hash_token(raw), created_by=user
        )
        record(
            EventType.TOKEN_CREATE,
            user=user,
            obj=token,
            detail={"name": name, "prefix": token.prefix, "expires_at": token.expires_at},
        )
        return token, raw

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired

    @property
    def audit_label(self) -> str:
        """How the audit trail names this token on every event of a request it signed:
        its id and its shown prefix (never the key)."""
        return f"{self.pk}:{self.prefix}"

    def revoke(self, reason: str = RevokeReason.MANUAL) -> bool:
        """Revoke the token, recorded as 吊销接口令牌 with `reason` (by whoever the current
        request's user is); False when it already was."""
        with transaction.atomic():
            # The row lock makes a revocation happen (and be recorded) once, however many
            # ask for it at the same time (the owner's click and a password change).
            current = ApiToken.objects.select_for_update().filter(pk=self.pk).values_list("revoked_at", flat=True)
            if self.revoked_at is not None or current.first() is not None:
                return False
            self.revoked_at = timezone.now()
            self.revoked_reason = reason
            self.save(update_fields=["revoked_at", "revoked_reason"])
            record(
                EventType.TOKEN_REVOKE,
                obj=self,
                detail={"reason": reason, "owner": self.user.get_username(), "prefix": self.prefix},
            )
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
    # False: the answer carried a secret shown once (a new token's key), so it was not
    # kept; a retry is told so instead of getting the secret from the database.
    replayable = models.BooleanField(_("可重放"), default=True)
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
