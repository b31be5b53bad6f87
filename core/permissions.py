"""The role check on page views. The access policy (accounts.policy, enforced by its
middleware before any view) is the rule; a view's role_required is defence in depth and
names the same roles (tests/test_access_matrix.py checks that they agree)."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied


def role_required(*roles):
    """Logged in, and one of `roles`; anyone else gets 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            if request.user.role not in roles:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.required_roles = frozenset(roles)  # type: ignore[attr-defined]  # read by the access-matrix test
        return wrapped

    return decorator
