"""Who may use an endpoint at all, by role. What they may see inside it is the viewset's
restrict(); what they may change on an object is its check_write()."""

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission


class RolePermission(BasePermission):
    """Signed in, active, and one of the view's `roles`. The answer depends on the role
    only, never on an object, so a refusal here tells nothing about any id."""

    message = _("您的角色不能使用此接口。")

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        return user.role in view.roles
