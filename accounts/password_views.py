"""A user's own account: their password (changed at will, and forced at the first sign-in
and after an administrator set it: User.must_change_password, enforced by
accounts.middleware) and their contact details (the profile page)."""

from django import forms
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.forms import PasswordChangeForm as DjangoPasswordChangeForm
from django.contrib.auth.password_validation import password_validators_help_text_html
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.models import User
from accounts.phones import validate_phone
from audit.choices import EventType
from audit.services import record
from core.permissions import role_required
from core.roles import ALL_ROLES


class PasswordChangeForm(DjangoPasswordChangeForm):
    """Old password, new one twice; the password validators apply (settings)."""

    error_messages = {
        "password_incorrect": gettext_lazy("原密码不正确，请重新输入。"),
        "password_mismatch": gettext_lazy("两次输入的新密码不一致。"),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = gettext_lazy("原密码")
        self.fields["new_password1"].label = gettext_lazy("新密码")
        self.fields["new_password1"].help_text = ""
        self.fields["new_password2"].label = gettext_lazy("再次输入新密码")
        self.fields["new_password2"].help_text = ""

    def clean_new_password1(self):
        new = self.cleaned_data.get("new_password1") or ""
        if new and self.user.check_password(new):
            raise forms.ValidationError(_("新密码不能与原密码相同。"), code="password_unchanged")
        return new


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["phone", "email"]
        labels = {"phone": gettext_lazy("手机号"), "email": gettext_lazy("电子邮箱")}
        error_messages = {"email": {"invalid": gettext_lazy("电子邮箱格式不正确。")}}

    def clean_phone(self):
        return validate_phone(self.cleaned_data.get("phone") or "")

    def clean_email(self):
        return (self.cleaned_data.get("email") or "").strip()


@never_cache
@role_required(*ALL_ROLES)
@require_http_methods(["GET", "POST"])
def password_change(request):
    """Change one's own password. The session stays signed in (its hash is renewed); the
    sessions elsewhere end and the API tokens are revoked (api.receivers), as after the
    security admin's reset. A forced change (must_change_password) clears here."""
    user = request.user
    form = PasswordChangeForm(user, request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            was_forced = user.must_change_password
            user.must_change_password = False
            user._change_reason = _("修改本人密码")
            form.save()
            update_session_auth_hash(request, user)
            record(
                EventType.UPDATE,
                request=request,
                obj=user,
                detail={"action": "password_change", "forced": was_forced},
            )
            messages.success(request, _("密码已修改；您的 API 令牌已全部失效，其他地方的登录需重新登录。"))
            next_url = request.POST.get("next") or ""
            if url_has_allowed_host_and_scheme(next_url, {request.get_host()}, require_https=request.is_secure()):
                return redirect(next_url)
            return redirect("home" if was_forced else "accounts:profile")
        status = 400
    else:
        status = 200
    context = {
        "form": form,
        "forced": user.must_change_password,
        "rules": password_validators_help_text_html(),
        "next": request.POST.get("next") or request.GET.get("next") or "",
    }
    return render(request, "accounts/password_change.html", context, status=status)


@never_cache
@role_required(*ALL_ROLES)
@require_http_methods(["GET", "POST"])
def profile(request):
    """One's own account: name, agency and role (shown), phone and email (edited), and the
    way to the password change and the second factor."""
    user = request.user
    form = ProfileForm(request.POST or None, instance=user)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            if form.has_changed():
                before = {name: getattr(User.objects.get(pk=user.pk), name) for name in form.changed_data}
                user._change_reason = _("修改本人联系方式")
                form.save()
                record(
                    EventType.UPDATE,
                    request=request,
                    obj=user,
                    detail={
                        "action": "profile_change",
                        "changes": {name: [before[name], getattr(user, name)] for name in form.changed_data},
                    },
                )
                messages.success(request, _("联系方式已保存。"))
            else:
                messages.info(request, _("没有变化。"))
            return redirect("accounts:profile")
        status = 400
        user.refresh_from_db()
    return render(request, "accounts/profile.html", {"form": form, "profile_user": user}, status=status)
