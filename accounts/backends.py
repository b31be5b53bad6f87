"""Authentication backends: the lockout (django-axes, with tries at one account taking
turns), the password check by login name in any spelling, and the Django admin's model
permissions read from the access policy."""

from axes.backends import AxesStandaloneBackend
from axes.exceptions import AxesBackendPermissionDenied
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import BaseBackend, ModelBackend
from django.db import transaction

from accounts import policy
from accounts.lockout import find_account


class LockoutBackend(AxesStandaloneBackend):
    """First of the backends: refuses a locked account before its password is checked.

    Check-then-count would let N parallel guesses all pass the check before any failure is
    counted. So the account's row is locked (SELECT … FOR UPDATE) here, before the check,
    and stays locked until the request's transaction commits, after django-axes has counted
    this try's failure: tries at one account, in whatever spelling, take turns, and the
    sixth sees the fifth's failure. Every login POST runs in a transaction
    (audit.middleware.AtomicUnsafeRequestsMiddleware; LoginView opens one too). On SQLite
    the IMMEDIATE transactions (settings) serialise every write the same way."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is not None and not transaction.get_autocommit():
            find_account(username, for_update=True)
        try:
            return super().authenticate(request, username=username, password=password, **kwargs)
        except AxesBackendPermissionDenied:
            # The password was never checked: the login log records a refusal, not a failure.
            request.login_refused_while_locked = True
            raise


class LoginNameBackend(ModelBackend):
    """Django's password check, with the account found by accounts.lockout.login_key: the
    spelling typed (width, case, surrounding spaces) reaches the account the lockout counts
    against, and nothing else does."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        user = find_account(username)
        if user is None:
            # Hash anyway, so an unknown name takes as long as a wrong password (Django's own).
            get_user_model()().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


class PolicyBackend(BaseBackend):
    """Model permissions ("app.change_model") by role, as accounts.policy grants them.
    Authenticates nobody; nobody is a superuser, and groups and per-user permissions are
    not used, so this is where the system admin's Django admin rights come from."""

    def get_all_permissions(self, user_obj, obj=None):
        return set(policy.model_permissions(user_obj))

    def has_perm(self, user_obj, perm, obj=None):
        return perm in policy.model_permissions(user_obj)

    def has_module_perms(self, user_obj, app_label):
        prefix = f"{app_label}."
        return any(perm.startswith(prefix) for perm in policy.model_permissions(user_obj))
