"""Login, logout, the role-based landing page and the auditor's login log."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection, transaction
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from accounts.choices import LoginOutcome, Role
from accounts.forms import LoginForm
from accounts.models import LoginEvent, User
from accounts.permissions import role_required

# Where each role lands after login.
ROLE_HOME = {
    Role.STAFF: "tasks:my_tasks",
    Role.LEADER: "dashboards:overview",
    Role.ADMIN: "workplans:plan_list",
    Role.AUDITOR: "accounts:audit_log",
}


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


@role_required(Role.AUDITOR, Role.ADMIN)
def audit_log(request):
    events = LoginEvent.objects.select_related("user")
    outcome = request.GET.get("outcome", "")
    if outcome in LoginOutcome.values:
        events = events.filter(outcome=outcome)
    username = request.GET.get("username", "").strip()
    if username:
        events = events.filter(username__icontains=username)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/audit_log.html",
        {"page": page, "outcomes": LoginOutcome.choices, "outcome": outcome, "username": username},
    )
