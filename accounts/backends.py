"""Authentication backends: django-axes' (marking the tries it refuses because of a
lockout), and the Django admin's model permissions read from the access policy."""

from axes.backends import AxesStandaloneBackend
from axes.exceptions import AxesBackendPermissionDenied
from django.contrib.auth.backends import BaseBackend

from accounts import policy


class LockoutBackend(AxesStandaloneBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        try:
            return super().authenticate(request, username=username, password=password, **kwargs)
        except AxesBackendPermissionDenied:
            # The password was never checked: the login log records a refusal, not a failure.
            request.login_refused_while_locked = True
            raise


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
