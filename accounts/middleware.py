"""The access policy (accounts.policy) enforced on every page and the Django admin, before
the view runs: someone not signed in is sent to the login page, a signed-in role the
policy does not let in gets a 403 page in Chinese."""

from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseForbidden
from django.template import loader

from accounts import policy


class AccessPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        view_name = request.resolver_match.view_name
        if policy.is_api_view(view_func, view_name):
            return None
        if policy.allows(request.user, view_name, request.method):
            return None
        policy.mark_denied(request)
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        # Rendered without the context processors (inbox counts and the like): a refusal
        # costs one template, whatever the page would have needed.
        page = loader.get_template("accounts/forbidden.html")
        return HttpResponseForbidden(page.render({"role_label": request.user.get_role_display()}))
