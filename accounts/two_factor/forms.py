"""The forms of the second factor: a code from the authenticator, a recovery code, and the
proof asked before a user changes their own second factor."""

from django import forms
from django.utils.translation import gettext_lazy as _

ACTIONS = {"disable", "reenrol", "renew_codes"}


class TotpForm(forms.Form):
    token = forms.CharField(
        label=_("验证码"),
        max_length=12,
        widget=forms.TextInput(
            attrs={
                "autofocus": True,
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9 ]*",
                "maxlength": 12,
            }
        ),
        help_text=_(
            "打开手机上的验证器应用（如 Microsoft Authenticator、Google 身份验证器、FreeOTP），输入显示的 6 位数字。"
        ),
    )

    def clean_token(self):
        token = "".join(self.cleaned_data["token"].split())
        if not (token.isdigit() and len(token) == 6):
            raise forms.ValidationError(_("请输入验证器上显示的 6 位数字。"))
        return token


class RecoveryCodeForm(forms.Form):
    code = forms.CharField(
        label=_("恢复码"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}),
        help_text=_("启用两步验证时保存的恢复码之一，形如 ABCD-EFGH-JKLM-NPQR；每个只能用一次。"),
    )


class ProofForm(forms.Form):
    """An action on one's own second factor, and the code that proves it is theirs (not
    asked again of a session that signed in with a recovery code)."""

    action = forms.ChoiceField(choices=[(a, a) for a in sorted(ACTIONS)], widget=forms.HiddenInput)
    code = forms.CharField(
        label=_("验证码或恢复码"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "spellcheck": "false"}),
    )

    def __init__(self, *args, code_required=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.code_required = code_required

    def clean_code(self):
        code = self.cleaned_data["code"].strip()
        if self.code_required and not code:
            raise forms.ValidationError(_("请输入验证器上的 6 位数字或一个恢复码。"))
        return code
