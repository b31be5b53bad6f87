"""Login, logout, the role-based landing page, the auditor's login log, and the security
admin's pages: users and their roles, lockouts and unlocking."""

import logging

from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import roles
from accounts.filters import LockoutFilterSet, UserFilterSet
from accounts.forms import LoginForm, RoleChangeForm, UnlockForm
from accounts.models import User
from audit.choices import EventType
from audit.services import record
from core.lists import listing
from core.permissions import role_required
from core.roles import Role

logger = logging.getLogger(__name__)

# Where each role lands after login.
ROLE_HOME = {
    Role.STAFF: "tasks:my_tasks",
    Role.LEADER: "dashboards:overview",
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
        # Tries at one account take turns: the account row stays locked until this try's
        # failure is counted, so 20 parallel guesses cannot all slip past the limit.
        with transaction.atomic():
            username = request.POST.get("username", "")
            list(User.objects.select_for_update().filter(username=username).values_list("pk"))
            return super().post(request, *args, **kwargs)


class LogoutView(auth_views.LogoutView):
    pass


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
    initial = {"role": target.role, "person_id": target.person_id}
    form = RoleChangeForm(request.POST or None, target=target, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                changed = roles.change_role(
                    request.user, target, form.cleaned_data["role"], form.cleaned_data["person_id"]
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


def _lockouts():
    """Current lockouts: failure counts at the limit within the cool-off (django-axes
    counts per login name and, separately, per address)."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    return AccessAttempt.objects.filter(
        failures_since_start__gte=settings.AXES_FAILURE_LIMIT, attempt_time__gte=since
    ).order_by("-attempt_time", "-id")


@role_required(Role.SECURITY)
@require_safe
def lockout_list(request):
    found = listing(request, LockoutFilterSet, _lockouts(), per_page=LOCKOUTS_PER_PAGE)
    for attempt in found.page:
        attempt.locked_until = attempt.attempt_time + settings.AXES_COOLOFF_TIME
    context = {"page": found.page, "filters": found.filters, "form": UnlockForm()}
    return render(request, "accounts/lockout_list.html", context, status=400 if found.invalid else 200)


@role_required(Role.SECURITY)
@require_POST
def unlock(request):
    """Clear django-axes' failure records for a login name or an address."""
    form = UnlockForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("__all__", []) + form.errors.get("ip_address", []):
            messages.error(request, error)
        return redirect("accounts:lockout_list")
    username, ip_address = form.cleaned_data["username"], form.cleaned_data["ip_address"]
    cleared = 0
    if username:
        cleared += reset(username=username)
    if ip_address:
        cleared += reset(ip=ip_address)
    target = "、".join(filter(None, [username, ip_address]))
    _record_unlock(request, username, ip_address, cleared)
    if cleared:
        messages.success(request, _("已解锁：%(target)s（清除 %(n)d 条失败记录）。") % {"target": target, "n": cleared})
    else:
        messages.info(request, _("%(target)s 没有失败记录，无需解锁。") % {"target": target})
    return redirect("accounts:lockout_list")


def _record_unlock(request, username: str, ip_address: str | None, cleared: int) -> None:
    """An unlock is an administrative act on someone's account: into the audit trail."""
    logger.info("unlock by %s: username=%r ip=%r cleared=%d", request.user.username, username, ip_address, cleared)
    user = User.objects.filter(username=username).first() if username else None
    record(
        EventType.ADMIN_ACTION,
        request=request,
        obj=user,
        object_type="" if user else "axes.accessattempt",
        object_repr="" if user else (username or ip_address or ""),
        detail={"action": "unlock", "username": username, "ip_address": ip_address or "", "cleared": cleared},
    )
