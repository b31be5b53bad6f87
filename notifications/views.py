"""The inbox, each user's reminder settings, and the admins' view of deliveries."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from core.jobs import enqueue
from core.lists import listing
from core.permissions import role_required
from core.roles import Role
from core.scope import get_visible_or_404
from notifications.choices import RESENDABLE_STATES, DeliveryState
from notifications.filters import DeliveryFilterSet, InboxFilterSet
from notifications.forms import PreferenceForm
from notifications.jobs import send_deliveries
from notifications.models import Delivery, Robot
from notifications.services import inbox as inbox_of
from notifications.services import mark_read, preference_for

PER_PAGE = 30


@login_required
@require_safe
def inbox(request):
    items = inbox_of(request.user).with_settled().select_related("task")
    found = listing(request, InboxFilterSet, items, per_page=PER_PAGE)
    unread_only = found.filters.form.is_valid() and found.filters.form.cleaned_data.get("unread") is True
    context = {"page": found.page, "unread_only": unread_only}
    return render(request, "notifications/inbox.html", context, status=400 if found.invalid else 200)


@login_required
@require_POST
def open_notification(request, pk):
    """Mark one item read and go where it points."""
    item = get_visible_or_404(request, inbox_of(request.user), pk=pk)
    mark_read(request.user, [item.pk])
    target = item.link or "notifications:inbox"
    if item.link and not url_has_allowed_host_and_scheme(item.link, allowed_hosts={request.get_host()}):
        target = "notifications:inbox"
    return redirect(target)


@login_required
@require_POST
def read(request):
    """Mark the chosen items (or, with all=1, every item) read."""
    if request.POST.get("all") == "1":
        count = mark_read(request.user)
    else:
        # Ids as the inbox sends them; anything else (or beyond any id) matches nothing.
        ids = [int(v) for v in request.POST.getlist("id") if v.isascii() and v.isdigit() and len(v) <= 18]
        count = mark_read(request.user, ids)
    messages.success(request, _("已将 %(n)d 条消息标为已读。") % {"n": count})
    return redirect("notifications:inbox")


@login_required
def preferences(request):
    preference = preference_for(request.user)
    robots = set()
    if request.user.agency_id:
        robots = set(
            Robot.objects.filter(agency_id=request.user.agency_id, is_active=True).values_list("kind", flat=True)
        )
    form = PreferenceForm(request.POST or None, instance=preference, user=request.user, robots=robots)
    if request.method == "POST":
        if form.is_valid():
            form.save()
            messages.success(request, _("提醒设置已保存。"))
            return redirect("notifications:preferences")
        messages.error(request, _("提醒设置未保存，请按提示修改。"))
    return render(request, "notifications/preferences.html", {"form": form, "robots": robots})


@role_required(Role.ADMIN)
@require_safe
def deliveries(request):
    """What went out and what did not. By default what needs an admin: failed deliveries
    and interrupted ones (may have arrived: check, then resend), with the reason."""
    rows = Delivery.objects.select_related("recipient", "robot__agency")
    found = listing(request, DeliveryFilterSet, rows, per_page=PER_PAGE)
    context = {"page": found.page, "filters": found.filters}
    return render(request, "notifications/deliveries.html", context, status=400 if found.invalid else 200)


@role_required(Role.ADMIN)
@require_POST
def retry_delivery(request, pk):
    """Send a failed delivery again, once the admin has fixed its cause, or an interrupted
    one, once the admin has checked that it did not arrive."""
    delivery = get_object_or_404(Delivery, pk=pk, state__in=RESENDABLE_STATES)
    note = _("%(user)s 于 %(time)s 重新发送；上次失败原因：%(reason)s") % {
        "user": request.user.display_name,
        "time": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
        "reason": delivery.last_error,
    }
    Delivery.objects.filter(pk=delivery.pk, state__in=RESENDABLE_STATES).update(
        state=DeliveryState.PENDING, attempts=0, not_before=timezone.now(), last_error=note[:2000]
    )
    # Not queued (Redis down): the row is pending and due, so the next dispatch sweep sends it.
    transaction.on_commit(lambda: enqueue(send_deliveries, [delivery.pk]))
    messages.success(request, _("已重新排队发送。"))
    return redirect("notifications:deliveries")
