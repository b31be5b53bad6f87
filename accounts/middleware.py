"""The access policy (accounts.policy) enforced on every page and the Django admin, before
the view runs: someone not signed in is sent to the login page, a signed-in role the
policy does not let in gets a 403 page in Chinese. A user who must choose a new password
(User.must_change_password: at the first sign-in, after an administrator set it) reaches
only the password change, signing out and the second-factor steps until they have."""

from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseForbidden
from django.shortcuts import redirect
from django.template import loader
from django.urls import reverse
from django.utils.http import urlencode

from accounts import policy

# What a user who owes a new password may still reach (static files never get here).
PASSWORD_OWED_OPEN_VIEWS = frozenset(
    {
        "accounts:password_change",
        "accounts:logout",
        "accounts:login",
        "accounts:two_factor",
        "accounts:two_factor_verify",
        "accounts:two_factor_enrol",
        "accounts:two_factor_recovery_codes",
        "admin:logout",
        "set_language",
        "healthz",
    }
)


def owes_new_password(user) -> bool:
    return bool(user.is_authenticated and getattr(user, "must_change_password", False))


class AccessPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        view_name = request.resolver_match.view_name
        if policy.is_api_view(view_func, view_name):
            return None
        if owes_new_password(request.user) and view_name not in PASSWORD_OWED_OPEN_VIEWS:
            target = reverse("accounts:password_change")
            if request.method == "GET":
                target += "?" + urlencode({"next": request.get_full_path()})
            return redirect(target)
        if policy.allows(request.user, view_name, request.method):
            return None
        policy.mark_denied(request)
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        # Rendered without the context processors (inbox counts and the like): a refusal
        # costs one template, whatever the page would have needed.
        page = loader.get_template("accounts/forbidden.html")
        return HttpResponseForbidden(page.render({"role_label": request.user.get_role_display()}))
