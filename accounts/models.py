"""Agencies (a tree, with aliases), users with an agency and a role, and the login log."""

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.choices import AgencyLevel, LoginOutcome, Role
from accounts.history import audit_history


class Agency(models.Model):
    name = models.CharField(_("全称"), max_length=100, unique=True)
    short_name = models.CharField(_("简称"), max_length=50, blank=True)
    level = models.CharField(_("层级"), max_length=16, choices=AgencyLevel.choices, default=AgencyLevel.CITY)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    order = models.PositiveIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    history = audit_history(verbose_name=_("单位变更记录"))

    class Meta:
        verbose_name = _("单位")
        verbose_name_plural = _("单位")
        ordering = ["order", "name"]
        constraints = [
            models.CheckConstraint(condition=~Q(parent=models.F("id")), name="agency_not_own_parent"),
        ]

    def __str__(self):
        return self.name

    def descendant_ids(self, include_self: bool = True) -> set[int]:
        """Ids of this agency and every agency below it, in one query.

        Agencies number in the hundreds at most, so the whole (id, parent) list is read
        once and walked in memory rather than queried level by level.
        """
        children: dict[int | None, list[int]] = {}
        for agency_id, parent_id in Agency.objects.values_list("id", "parent_id"):
            children.setdefault(parent_id, []).append(agency_id)
        found = {self.pk} if include_self else set()
        stack = [self.pk]
        while stack:
            for child in children.get(stack.pop(), []):
                if child not in found:
                    found.add(child)
                    stack.append(child)
        return found

    def would_cycle(self, parent: "Agency | None") -> bool:
        """True when making `parent` this agency's parent would put it below itself."""
        return parent is not None and self.pk is not None and parent.pk in self.descendant_ids()

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.would_cycle(self.parent):
            raise ValidationError({"parent": _("上级单位不能是本单位或其下级单位。")})


class AgencyAlias(models.Model):
    """Another name an agency goes by in plans: a short form, the other script, an old name."""

    agency = models.ForeignKey(Agency, verbose_name=_("单位"), on_delete=models.CASCADE, related_name="aliases")
    name = models.CharField(_("别名"), max_length=100, unique=True)

    history = audit_history(verbose_name=_("单位别名变更记录"))

    class Meta:
        verbose_name = _("单位别名")
        verbose_name_plural = _("单位别名")
        ordering = ["name"]

    def __str__(self):
        return self.name


class UserManager(DjangoUserManager):
    def get_queryset(self):
        # The signed-in user is loaded on every request and every page shows their agency:
        # one query for both.
        return super().get_queryset().select_related("agency")

    def create_superuser(self, username, email=None, password=None, **extra_fields):
        extra_fields.setdefault("role", Role.ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    full_name = models.CharField(_("姓名"), max_length=50, blank=True)
    agency = models.ForeignKey(
        Agency,
        verbose_name=_("所属单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    role = models.CharField(_("角色"), max_length=16, choices=Role.choices, default=Role.STAFF)
    phone = models.CharField(_("手机号"), max_length=20, blank=True)

    objects = UserManager()
    history = audit_history(verbose_name=_("用户变更记录"), excluded_fields=["password", "last_login"])

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        constraints = [
            # Staff and leaders act for an agency; without one they could see nothing.
            models.CheckConstraint(
                condition=~Q(role__in=[Role.STAFF, Role.LEADER]) | Q(agency__isnull=False),
                name="user_staff_and_leaders_have_agency",
            ),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="user_role_valid"),
        ]

    def __str__(self):
        return self.full_name or self.username

    def save(self, *args, **kwargs):
        # The role is the one source of access: admins (only) may use the Django admin.
        self.is_staff = self.is_superuser = self.role == Role.ADMIN
        super().save(*args, **kwargs)

    @property
    def display_name(self) -> str:
        return self.full_name or self.username

    @property
    def is_staff_member(self) -> bool:
        return self.role == Role.STAFF

    @property
    def is_leader(self) -> bool:
        return self.role == Role.LEADER

    @property
    def is_platform_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_auditor(self) -> bool:
        return self.role == Role.AUDITOR


class LoginEvent(models.Model):
    """Every login, failed login, lockout and logout: who, when, from where, what happened."""

    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        User, verbose_name=_("用户"), null=True, blank=True, on_delete=models.SET_NULL, related_name="login_events"
    )
    username = models.CharField(_("登录名"), max_length=150, blank=True)
    ip_address = models.GenericIPAddressField(_("地址"), null=True, blank=True)
    user_agent = models.CharField(_("浏览器"), max_length=255, blank=True)
    outcome = models.CharField(_("结果"), max_length=16, choices=LoginOutcome.choices)

    class Meta:
        verbose_name = _("登录日志")
        verbose_name_plural = _("登录日志")
        ordering = ["-at", "-id"]
        indexes = [
            # The auditor's page filters one user's events, newest first.
            models.Index(fields=["username", "-at"], name="loginevent_username_at_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(outcome__in=LoginOutcome.values), name="loginevent_outcome_valid"),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username} {self.get_outcome_display()}"
