"""Signal receivers that put logins, failures, lockouts and logouts in the audit trail."""

import axes.signals  # noqa: F401  (connects axes' receivers before ours; see on_login_failed)
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from accounts.models import User
from accounts.services import record_login_event
from audit.choices import EventType


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
    username = (credentials or {}).get("username", "") or ""
    user = User.objects.filter(username=username).first() if username else None
    if getattr(request, "login_refused_while_locked", False):
        record_login_event(request, EventType.LOGIN_REFUSED, user=user, username=username)
        return
    record_login_event(request, EventType.LOGIN_FAILED, user=user, username=username)
    if getattr(request, "axes_locked_out", False):
        record_login_event(request, EventType.LOCKOUT, user=user, username=username)
