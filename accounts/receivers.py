"""Signal receivers that put logins, failures, lockouts and logouts in the audit trail, and
announce a locked-out security or audit administrator to the other administrators."""

import axes.signals  # noqa: F401  (connects axes' receivers before ours; see on_login_failed)
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.utils.translation import gettext as _

from accounts.lockout import find_account, login_key
from accounts.services import record_login_event
from audit.choices import EventType
from audit.services import raise_alert
from core.roles import ADMIN_ROLES, Role


@receiver(user_logged_in, dispatch_uid="accounts_login_logged")
def on_logged_in(sender, request, user, **kwargs):
    record_login_event(request, EventType.LOGIN, user=user)


@receiver(user_logged_out, dispatch_uid="accounts_logout_logged")
def on_logged_out(sender, request, user, **kwargs):
    if user is not None:
        record_login_event(request, EventType.LOGOUT, user=user)


@receiver(user_login_failed, dispatch_uid="accounts_failure_logged")
def on_login_failed(sender, credentials, request=None, **kwargs):
    # Importing axes.signals above connected axes' own receiver first, so by now it has
    # counted this failure and set axes_locked_out if the failure reached the limit.
    # The name is recorded as the lockout counts it (login_key), tied to its account.
    username = login_key((credentials or {}).get("username", ""))
    user = find_account(username)
    if getattr(request, "login_refused_while_locked", False):
        record_login_event(request, EventType.LOGIN_REFUSED, user=user, username=username)
        return
    record_login_event(request, EventType.LOGIN_FAILED, user=user, username=username)
    if getattr(request, "axes_locked_out", False):
        record_login_event(request, EventType.LOCKOUT, user=user, username=username)
        if user is not None and user.role in ALERTED_LOCKOUTS:
            announce_admin_lockout(request, user)


# An administrator who can unlock accounts or read the trail, locked out, is something the
# other administrators must hear about at once: a guesser at the door, or a colleague
# unable to work (the security admin unlocks; with none left, `manage.py break_glass_unlock`).
ALERTED_LOCKOUTS = (Role.SECURITY, Role.AUDITOR)


def announce_admin_lockout(request, user) -> None:
    minutes = settings.LOGIN_POLICY["lockout_minutes"]
    values = {"name": user.display_name, "username": user.username, "role": user.get_role_display(), "m": minutes}
    raise_alert(
        "admin_locked_out",
        title=_("%(role)s %(name)s 的账户已被锁定") % values,
        body=_(
            "%(role)s %(name)s（登录名 %(username)s）连续登录失败，账户已被锁定 %(m)d 分钟。"
            "如非本人操作，可能有人在猜测其密码；请安全管理员核实后在「锁定的账户」页面解锁，"
            "并查看审计记录中的登录失败事件。"
        )
        % values,
        roles=ADMIN_ROLES,
        user=user,
        username=user.username,
        request=request,
        detail={"role": user.role, "failures": settings.AXES_FAILURE_LIMIT},
    )
