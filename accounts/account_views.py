"""The security admin's account pages: one user's standing (active or not, API tokens) and
the changes only the security admin makes to the three administrators' accounts (三员分立):
a new password, a new login name, disabling or enabling the account, revoking its API
tokens. The system
admin manages ordinary accounts in the Django admin; core.roles.can_manage_account is the
one rule both ask. Every change here is in the audit trail."""

from django import forms
from django.contrib import messages
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from accounts.lockout import login_key, login_name_taken
from accounts.models import User
from accounts.roles import is_last_active_security_admin
from api.choices import RevokeReason
from api.models import ApiToken
from audit.choices import EventType
from audit.services import record
from core.permissions import role_required
from core.roles import ADMIN_ROLES, Role, can_manage_account

TOKENS_SHOWN = 50


class ActiveForm(forms.Form):
    active = forms.TypedChoiceField(
        label=gettext_lazy("账户状态"),
        choices=[("1", gettext_lazy("启用")), ("0", gettext_lazy("停用"))],
        coerce=lambda value: value == "1",
    )


class UsernameForm(forms.Form):
    username = forms.CharField(
        label=gettext_lazy("新登录名"),
        max_length=150,
        validators=[User.username_validator],
        help_text=gettext_lazy("字母、数字和 @ . + - _，不区分大小写和全角半角。"),
    )

    def __init__(self, target: User, *args, **kwargs):
        self.target = target
        super().__init__(*args, **kwargs)

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        if login_key(username) == login_key(self.target.username):
            raise forms.ValidationError(_("新登录名与现在的相同。"))
        if login_name_taken(username, excluding=self.target):
            raise forms.ValidationError(_("登录名“%(name)s”已被其他账户使用。") % {"name": username})
        return username


def _target(request, pk) -> User:
    """The account to change, when the signed-in security admin may change it; 403 else."""
    target = get_object_or_404(User, pk=pk)
    if not can_manage_account(request.user, target):
        request.denial_reason = "protected_account"
        raise PermissionDenied(_("不能在此修改自己的账户：请由另一位安全管理员操作。"))
    return target


def _render(request, target: User, password_form=None, username_form=None, status: int = 200):
    tokens = ApiToken.objects.filter(user=target).order_by("-created_at", "-id")[:TOKENS_SHOWN]
    context = {
        "target": target,
        "is_self": target.pk == request.user.pk,
        "is_administrator": target.role in ADMIN_ROLES,
        "password_form": password_form or SetPasswordForm(target),
        "username_form": username_form or UsernameForm(target),
        "tokens": tokens,
        "usable_tokens": ApiToken.objects.filter(user=target).usable().count(),
    }
    return render(request, "accounts/account.html", context, status=status)


@never_cache
@role_required(Role.SECURITY)
@require_safe
def account(request, pk):
    """One account: its state, its tokens, and the security admin's three actions."""
    return _render(request, get_object_or_404(User, pk=pk))


@never_cache
@role_required(Role.SECURITY)
@require_POST
def account_password(request, pk):
    """Set a new password (the password policy applies), which the user must change at their
    next sign-in (must_change_password). The user's sessions elsewhere end
    (the session is bound to the password hash) and their API tokens are revoked
    (api.receivers)."""
    target = _target(request, pk)
    form = SetPasswordForm(target, request.POST)
    if not form.is_valid():
        return _render(request, target, password_form=form, status=400)
    # Someone else chose it: the user picks their own at the next sign-in (accounts.middleware).
    target.must_change_password = True
    target._change_reason = _("安全管理员重置密码")
    form.save()
    record(EventType.ADMIN_ACTION, request=request, obj=target, detail={"action": "password_reset"})
    messages.success(request, _("已为 %(user)s 设置新密码；其 API 令牌已全部失效。") % {"user": target})
    return redirect("accounts:account", pk=target.pk)


@never_cache
@role_required(Role.SECURITY)
@require_POST
def account_username(request, pk):
    """Rename the account. The user's history records old and new name (权限变更), and the
    trail an administrative act; sessions and tokens are unaffected."""
    target = _target(request, pk)
    form = UsernameForm(target, request.POST)
    if not form.is_valid():
        return _render(request, target, username_form=form, status=400)
    old = target.username
    target.username = form.cleaned_data["username"]
    target._change_reason = _("修改登录名")
    target.save(update_fields=["username"])
    record(
        EventType.ADMIN_ACTION,
        request=request,
        obj=target,
        detail={"action": "username_change", "old": old, "new": target.username},
    )
    messages.success(request, _("登录名已由 %(old)s 改为 %(new)s。") % {"old": old, "new": target.username})
    return redirect("accounts:account", pk=target.pk)


@never_cache
@role_required(Role.SECURITY)
@require_POST
def account_active(request, pk):
    """Disable or enable the account. Disabled: signed out at the next request, tokens
    revoked. Never the last active security admin."""
    target = _target(request, pk)
    form = ActiveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择启用或停用。"))
        return redirect("accounts:account", pk=target.pk)
    active = form.cleaned_data["active"]
    with transaction.atomic():
        target = User.objects.select_for_update(of=("self",)).get(pk=target.pk)
        if target.is_active == active:
            messages.info(request, _("没有变化。"))
            return redirect("accounts:account", pk=target.pk)
        if not active and is_last_active_security_admin(target, lock=True):
            messages.error(request, _("不能停用最后一位在用的安全管理员。"))
            return redirect("accounts:account", pk=target.pk)
        target.is_active = active
        # The user's history records the change (权限变更), by whom and why.
        target._change_reason = _("启用账户") if active else _("停用账户")
        target.save(update_fields=["is_active"])
    if active:
        messages.success(request, _("已启用 %(user)s。") % {"user": target})
    else:
        messages.success(request, _("已停用 %(user)s；其 API 令牌已全部失效。") % {"user": target})
    return redirect("accounts:account", pk=target.pk)


@never_cache
@role_required(Role.SECURITY)
@require_POST
def account_tokens_revoke(request, pk):
    """Revoke every token of the account still in force (each one recorded)."""
    target = _target(request, pk)
    count = sum(token.revoke(RevokeReason.MANUAL) for token in ApiToken.objects.filter(user=target).usable())
    if count:
        messages.success(request, _("已撤销 %(user)s 的 %(n)d 个令牌。") % {"user": target, "n": count})
    else:
        messages.info(request, _("%(user)s 没有有效的令牌。") % {"user": target})
    return redirect("accounts:account", pk=target.pk)
