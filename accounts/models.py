"""Agencies (a tree, with aliases), users with an agency, a role and, for the three
administrator roles, the person behind the account, and their recovery codes for the
second sign-in factor (the authenticator itself is django-otp's TOTPDevice)."""

import hashlib

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin

from accounts.choices import AgencyLevel
from audit.history import audit_history
from core.roles import ADMIN_ROLES, Role


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
        """`createsuperuser` makes a system admin: nobody is a Django superuser (it would
        pass every check of the access policy). The person defaults to the login name;
        the security admin corrects it on the users page if it is not their ID."""
        extra_fields.setdefault("role", Role.ADMIN)
        extra_fields.setdefault("person_id", username)
        extra_fields.pop("is_superuser", None)
        extra_fields.pop("is_staff", None)
        return self._create_user(username, email, password, **extra_fields)


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
    # A staff member their agency names as 审核人: signs off the agency's reports (单位审核)
    # and its delay and change requests, as the agency's leaders do.
    is_unit_reviewer = models.BooleanField(
        _("单位审核人"), default=False, help_text=_("可代表本单位审核报送材料和延期、调整申请。")
    )
    # The person behind an administrator account: one person holds at most one of the
    # three administrator roles (三员分立), whatever the number of login names.
    person_id = models.CharField(
        _("工号/证件号"),
        max_length=32,
        blank=True,
        default="",
        help_text=_("系统管理员、安全管理员、审计管理员必填；同一人只能担任其中一个角色。"),
    )

    # Set when an account is created with a password someone else chose (the security
    # admin's reset, a bulk import): the user must choose their own at the next sign-in.
    must_change_password = models.BooleanField(_("下次登录须修改密码"), default=False)

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
            # An administrator account says whose it is ...
            models.CheckConstraint(
                condition=~Q(role__in=ADMIN_ROLES) | ~Q(person_id=""),
                name="user_admin_roles_have_person",
            ),
            # ... and one person has one administrator account at most (any spelling case).
            models.UniqueConstraint(
                Upper("person_id"),
                condition=Q(role__in=ADMIN_ROLES),
                name="user_one_admin_role_per_person",
                violation_error_message=_("此人已担任系统管理员、安全管理员或审计管理员之一，不能再担任另一个。"),
            ),
        ]

    def __str__(self):
        return self.full_name or self.username

    def save(self, *args, **kwargs):
        # The role is the one source of access (accounts.policy): the system admin alone
        # enters the Django admin, with the model permissions the policy gives
        # (accounts.backends.PolicyBackend); nobody is a superuser, who would bypass it.
        self.is_staff = self.role == Role.ADMIN
        self.is_superuser = False
        self.person_id = self.person_id.strip()
        super().save(*args, **kwargs)

    @property
    def display_name(self) -> str:
        return self.full_name or self.username


def recovery_code_digest(code: str) -> str:
    """The stored form of a recovery code: SHA-256 of the code as typed, less spaces and
    dashes, in capitals. A code is 80 random bits, so a digest needs no salt nor a slow
    hash to resist guessing, and it can be looked up directly."""
    normal = "".join(code.split()).replace("-", "").upper()
    return hashlib.sha256(normal.encode()).hexdigest()


class RecoveryCodeDevice(ThrottlingMixin, Device):
    """A user's set of one-time recovery codes, as a django-otp device: a sign-in with one
    counts as verified (request.user.otp_device is this device), and wrong tries are
    throttled like the authenticator's. django-otp's own static tokens are stored in plain
    text; this device keeps only each code's digest."""

    class Meta(Device.Meta):
        verbose_name = _("恢复码组")
        verbose_name_plural = _("恢复码组")

    def get_throttle_factor(self):
        return getattr(settings, "OTP_TOTP_THROTTLE_FACTOR", 1)

    def verify_token(self, token):
        """Use up the code `token` if it is one of this device's (django_otp.verify_token
        calls this on a row locked for update, so a code cannot be used twice at once)."""
        allowed, _details = self.verify_is_allowed()
        if not allowed:
            return False
        used = self.codes.filter(digest=recovery_code_digest(str(token))).delete()[0]
        if not used:
            self.throttle_increment(commit=True)
            return False
        self.throttle_reset(commit=True)
        return True


class RecoveryCode(models.Model):
    """One unused recovery code, by its digest; deleted when used."""

    device = models.ForeignKey(
        RecoveryCodeDevice, verbose_name=_("恢复码组"), on_delete=models.CASCADE, related_name="codes"
    )
    digest = models.CharField(_("摘要"), max_length=64)

    class Meta:
        verbose_name = _("恢复码")
        verbose_name_plural = _("恢复码")
        constraints = [
            # Also the index of the lookup by digest when a code is typed.
            models.UniqueConstraint(fields=["device", "digest"], name="recovery_code_unique_per_device"),
        ]

    def __str__(self):
        return f"{self.device_id}:{self.digest[:8]}"
