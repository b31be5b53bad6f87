"""Login form with Chinese labels and messages; the security admin's role and unlock forms."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from core.roles import ADMIN_ROLES, Role


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _("登录名或密码不正确。连续失败多次后账户将被临时锁定。"),
        "inactive": _("该账户已停用，请联系管理员。"),
    }

    username = forms.CharField(
        label=_("登录名"), max_length=150, widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"})
    )
    password = forms.CharField(
        label=_("密码"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class RoleChangeForm(forms.Form):
    """The security admin's change of one user's role (and of the person behind an
    administrator account). The rules that need the database are in views.change_role."""

    role = forms.ChoiceField(label=_("角色"), choices=Role.choices)
    person_id = forms.CharField(
        label=_("工号/证件号"),
        max_length=32,
        required=False,
        help_text=_("设为系统管理员、安全管理员或审计管理员时必填；同一人只能担任其中一个角色。"),
    )

    def __init__(self, *args, target=None, **kwargs):
        self.target = target
        super().__init__(*args, **kwargs)

    def clean_person_id(self):
        return self.cleaned_data["person_id"].strip()

    def clean(self):
        cleaned = super().clean()
        role, person_id = cleaned.get("role"), cleaned.get("person_id", "")
        if role in ADMIN_ROLES and not person_id:
            self.add_error("person_id", _("设为系统管理员、安全管理员或审计管理员时，必须填写工号/证件号。"))
        if role in (Role.STAFF, Role.LEADER) and self.target is not None and self.target.agency_id is None:
            self.add_error("role", _("该用户没有所属单位，不能设为经办人或领导；请系统管理员先为其设置单位。"))
        return cleaned


class UnlockForm(forms.Form):
    """Unlock by login name or by address: django-axes counts failures per account and,
    separately, per address (settings.AXES_LOCKOUT_PARAMETERS)."""

    username = forms.CharField(label=_("登录名"), max_length=150, required=False)
    ip_address = forms.GenericIPAddressField(label=_("地址"), required=False)

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("username") and not cleaned.get("ip_address") and not self.errors:
            raise forms.ValidationError(_("请指定要解锁的登录名或地址。"))
        return cleaned
