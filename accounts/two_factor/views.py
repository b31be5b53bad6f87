"""The pages of the second factor: the second step of a sign-in, enrolling an
authenticator (QR code, then recovery codes shown once), one's own settings, and the
security admin's reset of someone else's."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from accounts.models import User
from accounts.two_factor import services
from accounts.two_factor.forms import ProofForm, RecoveryCodeForm, TotpForm
from core.permissions import role_required
from core.roles import Role


def next_url(request) -> str:
    """Where to go once the second factor is done: `next` if it is a page of this site."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url("home")


def with_next(view_name: str, request) -> str:
    url = reverse(view_name)
    target = request.POST.get("next") or request.GET.get("next")
    return f"{url}?{urlencode({'next': target})}" if target else url


def _refusal(check: services.Check, wrong: str) -> str:
    if check.wait_seconds:
        return _("错误次数过多，请 %(seconds)d 秒后再试。") % {"seconds": check.wait_seconds}
    return wrong


WRONG_CODE = gettext_lazy("验证码不正确或已过期：请输入验证器上当前显示的 6 位数字（注意手机时间要准确）。")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def verify(request):
    """The second step of a sign-in: a code from the authenticator, or a recovery code."""
    user = request.user
    if user.is_verified():
        return redirect(next_url(request))
    if not services.has_second_factor(user):
        if services.required_for(user):
            return redirect(with_next("accounts:two_factor_enrol", request))
        return redirect(next_url(request))
    method = request.POST.get("method") if request.method == "POST" else None
    totp_form = TotpForm(request.POST if method == "totp" else None)
    recovery_form = RecoveryCodeForm(request.POST if method == "recovery" else None)
    status = 200
    if method == "totp":
        if totp_form.is_valid():
            check = services.verify_code(request, totp_form.cleaned_data["token"])
            if check.ok:
                return redirect(next_url(request))
            totp_form.add_error("token", _refusal(check, str(WRONG_CODE)))
        status = 400
    elif method == "recovery":
        if recovery_form.is_valid():
            check = services.verify_recovery_code(request, recovery_form.cleaned_data["code"])
            if check.ok:
                messages.warning(
                    request,
                    _("您已使用恢复码登录，还剩 %(n)d 个恢复码。如果手机丢失，请在本页重新绑定验证器。")
                    % {"n": check.remaining_codes},
                )
                return redirect("accounts:two_factor")
            recovery_form.add_error("code", _refusal(check, _("恢复码不正确或已经用过。")))
        status = 400
    elif request.method == "POST":
        status = 400
    context = {
        "totp_form": totp_form,
        "recovery_form": recovery_form,
        "recovery_open": method == "recovery",
        "next": request.POST.get("next") or request.GET.get("next") or "",
    }
    return render(request, "accounts/two_factor/verify.html", context, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def enrol(request):
    """Bind an authenticator app: scan the QR code (or type the key), confirm with a code."""
    user = request.user
    if services.has_second_factor(user):
        if user.is_verified():
            messages.info(request, _("您已启用两步验证。如需更换手机，请在本页重新绑定验证器。"))
            return redirect("accounts:two_factor")
        return redirect(with_next("accounts:two_factor_verify", request))
    device = services.pending_authenticator(user)
    form = TotpForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            check = services.confirm_authenticator(request, device, form.cleaned_data["token"])
            if check.ok:
                return redirect(with_next("accounts:two_factor_recovery_codes", request))
            form.add_error("token", _refusal(check, str(WRONG_CODE)))
        status = 400
    context = {
        "form": form,
        "qr": services.qr_data_uri(device),
        "key": services.manual_key(device),
        "required": services.required_for(user),
        "next": request.POST.get("next") or request.GET.get("next") or "",
    }
    return render(request, "accounts/two_factor/enrol.html", context, status=status)


@never_cache
@login_required
@require_safe
def recovery_codes(request):
    """The recovery codes just issued, shown this once (only their digests are kept)."""
    codes = request.session.pop(services.NEW_CODES_SESSION_KEY, None)
    if not codes:
        messages.info(request, _("恢复码只在生成时显示一次。如已遗失，可在本页生成新的一组。"))
        return redirect("accounts:two_factor")
    context = {"codes": codes, "next": next_url(request)}
    return render(request, "accounts/two_factor/recovery_codes.html", context)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def settings_page(request):
    """One's own second factor: turn it on, enrol a new phone, new recovery codes, turn it
    off (not for those who must use it). Every change asks for a current code first."""
    user = request.user
    enrolled = services.has_second_factor(user)
    required = services.required_for(user)
    by_recovery = services.verified_by_recovery_code(request)
    form = ProofForm(request.POST or None, code_required=not by_recovery)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            action = form.cleaned_data["action"]
            if not enrolled:
                form.add_error(None, _("您尚未启用两步验证。"))
            elif action == "disable" and required:
                form.add_error(None, _("您的角色必须使用两步验证，不能停用；如更换了手机，请重新绑定。"))
            else:
                check = services.prove_possession(request, form.cleaned_data["code"])
                if check.ok:
                    return _do_own_action(request, action)
                form.add_error("code", _refusal(check, _("验证码或恢复码不正确。")))
    context = {
        "enrolled": enrolled,
        "required": required,
        "by_recovery": by_recovery,
        "remaining": services.remaining_recovery_codes(user) if enrolled else 0,
        "form": form,
    }
    return render(request, "accounts/two_factor/settings.html", context, status=status)


def _do_own_action(request, action: str):
    if action == "renew_codes":
        services.renew_recovery_codes(request)
        return redirect("accounts:two_factor_recovery_codes")
    services.remove_own(request, action)
    if action == "reenrol":
        messages.info(request, _("原验证器已解除绑定，请用手机扫描新的二维码。"))
        return redirect("accounts:two_factor_enrol")
    messages.success(request, _("已停用两步验证。"))
    return redirect("accounts:two_factor")


@role_required(Role.SECURITY)
@require_http_methods(["GET", "POST"])
def reset(request, pk):
    """The security admin resets another user's second factor (a lost phone and no recovery
    code left): at their next sign-in they enrol again. Nobody resets their own here."""
    target = get_object_or_404(User, pk=pk)
    is_self = target.pk == request.user.pk
    enrolled = services.has_second_factor(target)
    status = 200
    if request.method == "POST":
        if is_self:
            messages.error(request, _("不能重置自己的两步验证：请使用恢复码登录后重新绑定，或由另一位安全管理员操作。"))
            status = 400
        elif not enrolled:
            messages.info(request, _("%(user)s 尚未启用两步验证，无需重置。") % {"user": target})
            return redirect("accounts:user_list")
        else:
            services.reset_for(request, target)
            messages.success(
                request, _("已重置 %(user)s 的两步验证：其下次登录时需重新绑定验证器。") % {"user": target}
            )
            return redirect("accounts:user_list")
    context = {
        "target": target,
        "is_self": is_self,
        "enrolled": enrolled,
        "required": services.required_for(target),
        "remaining": services.remaining_recovery_codes(target) if enrolled else 0,
    }
    return render(request, "accounts/two_factor/reset.html", context, status=status)
