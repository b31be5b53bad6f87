"""django-axes' backend, marking the tries it refuses because of a lockout."""

from axes.backends import AxesStandaloneBackend
from axes.exceptions import AxesBackendPermissionDenied


class LockoutBackend(AxesStandaloneBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        try:
            return super().authenticate(request, username=username, password=password, **kwargs)
        except AxesBackendPermissionDenied:
            # The password was never checked: the login log records a refusal, not a failure.
            request.login_refused_while_locked = True
            raise
