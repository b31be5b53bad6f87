"""Login form with Chinese labels and messages."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


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
