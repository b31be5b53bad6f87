"""Login, logout, the role-based landing page, the auditor's login log, and the security
admin's pages: users and their roles, lockouts and unlocking."""

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import lockout, roles
from accounts.filters import LockoutFilterSet, UserFilterSet
from accounts.forms import LoginForm, RoleChangeForm, UnlockForm
from accounts.models import User
from core.lists import listing
from core.permissions import role_required
from core.roles import Role

logger = logging.getLogger(__name__)

# Where each role lands after login.
ROLE_HOME = {
    Role.STAFF: "tasks:my_tasks",
    Role.LEADER: "dashboards:overview",
    # The supervision office lands on what waits for it: reviews, close-outs, requests.
    Role.SUPERVISOR: "supervision:worklist",
    Role.ADMIN: "workplans:plan_list",
    Role.SECURITY: "accounts:user_list",
    Role.AUDITOR: "audit:events",
}
USERS_PER_PAGE = 30
LOCKOUTS_PER_PAGE = 50


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        # One transaction for the try: accounts.backends.LockoutBackend locks the account's
        # row in it, so tries at one account take turns until each failure is counted.
        with transaction.atomic():
            return super().post(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # A new CAPTCHA picture whenever the address needs one (this failure may have been
        # the one that makes it need one).
        context["form"].refresh_captcha(self.request)
        return context


class LogoutView(auth_views.LogoutView):
    pass


def admin_login(request, extra_context=None):
    """The Django admin's login (admin.site.login): the platform's login page, so the admin
    has the one door with the CAPTCHA, the lockout and the second factor."""
    if request.user.is_authenticated:
        return redirect("home")
    return redirect_to_login(request.GET.get("next") or reverse("admin:index"), reverse("accounts:login"))


@login_required
def home(request):
    return redirect(ROLE_HOME[request.user.role])


@never_cache
def healthz(request):
    """Liveness for docker-compose and load balancers: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


# --- The security admin's pages -------------------------------------------------------


@role_required(Role.SECURITY)
@require_safe
def user_list(request):
    """Every account with its role, person and agency; search and a role filter."""
    found = listing(request, UserFilterSet, User.objects.order_by("username"), per_page=USERS_PER_PAGE)
    context = {"page": found.page, "filters": found.filters}
    return render(request, "accounts/user_list.html", context, status=400 if found.invalid else 200)


@role_required(Role.SECURITY)
@require_http_methods(["GET", "POST"])
def user_role(request, pk):
    """One user's role (and the person behind an administrator account)."""
    target = get_object_or_404(User, pk=pk)
    initial = {"role": target.role, "person_id": target.person_id, "is_unit_reviewer": target.is_unit_reviewer}
    form = RoleChangeForm(request.POST or None, target=target, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                changed = roles.change_role(
                    request.user,
                    target,
                    form.cleaned_data["role"],
                    form.cleaned_data["person_id"],
                    form.cleaned_data["is_unit_reviewer"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                if changed:
                    messages.success(request, _("已修改 %(user)s：%(changes)s") % {"user": target, "changes": changed})
                else:
                    messages.info(request, _("没有变化。"))
                return redirect("accounts:user_list")
        status = 400
    return render(
        request,
        "accounts/user_role.html",
        {"target": target, "form": form, "is_self": target.pk == request.user.pk},
        status=status,
    )


@role_required(Role.SECURITY)
@require_safe
def lockout_list(request):
    """Accounts locked now (failures at the limit within the window, every spelling of a
    login name counted as one), newest first."""
    found = listing(request, LockoutFilterSet, lockout.current_lockouts(), per_page=LOCKOUTS_PER_PAGE)
    accounts = {
        lockout.login_key(user.username): user
        for user in User.objects.filter(username__in=[row["username"] for row in found.page])
    }
    for row in found.page:
        row["locked_until"] = row["last_attempt"] + settings.AXES_COOLOFF_TIME
        row["account"] = accounts.get(row["username"])
    context = {"page": found.page, "filters": found.filters, "form": UnlockForm()}
    return render(request, "accounts/lockout_list.html", context, status=400 if found.invalid else 200)


@role_required(Role.SECURITY)
@require_POST
def unlock(request):
    """Clear the failures of an account (any spelling of its name), or of an address (which
    takes that address's CAPTCHA away)."""
    form = UnlockForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("__all__", []) + form.errors.get("ip_address", []):
            messages.error(request, error)
        return redirect("accounts:lockout_list")
    username, ip_address = form.cleaned_data["username"], form.cleaned_data["ip_address"] or ""
    cleared = lockout.unlock(username=username, ip_address=ip_address)
    target = "、".join(filter(None, [username, ip_address]))
    lockout.record_unlock(username=username, ip_address=ip_address, cleared=cleared, request=request)
    if cleared:
        messages.success(request, _("已解锁：%(target)s（清除 %(n)d 条失败记录）。") % {"target": target, "n": cleared})
    else:
        messages.info(request, _("%(target)s 没有失败记录，无需解锁。") % {"target": target})
    return redirect("accounts:lockout_list")
