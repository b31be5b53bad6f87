"""Why an API token stopped working."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RevokeReason(models.TextChoices):
    # By its owner, or by an admin who manages the owner's account (core.roles.can_manage_account).
    MANUAL = "manual", _("手动撤销")
    PASSWORD_CHANGED = "password_changed", _("密码已修改")
    USER_DISABLED = "user_disabled", _("账户已停用")
    # The security and audit admins have no tokens: a user moved into one of those roles.
    ROLE_CHANGED = "role_changed", _("角色不使用令牌")
