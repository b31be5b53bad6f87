"""Login form with Chinese labels and messages (and a picture CAPTCHA when the address
has failed often); the security admin's role and unlock forms."""

import base64

from captcha.models import CaptchaStore
from captcha.views import captcha_image
from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.lockout import captcha_required, login_key
from core.roles import ADMIN_ROLES, Role


def new_captcha() -> tuple[str, str]:
    """A fresh challenge (django-simple-captcha's store, generated here, no outside service):
    its key and its picture as a data: URL, so the login page needs no image route."""
    key = CaptchaStore.generate_key()
    picture = captcha_image(None, key).content
    return key, "data:image/png;base64," + base64.b64encode(picture).decode()


def captcha_answer_is_right(key: str, answer: str) -> bool:
    """One try per picture: the challenge is used up whether the answer is right or not."""
    CaptchaStore.remove_expired()
    store = CaptchaStore.objects.filter(hashkey=key, expiration__gt=timezone.now()).first()
    if store is None:
        return False
    store.delete()
    return login_key(answer) == store.response


class LoginForm(AuthenticationForm):
    """The login name is read as accounts.lockout.login_key reads it. When the client's
    address has failed LOGIN_POLICY["captcha_after_failures"] times, the form also asks for
    the characters in a picture, and a wrong answer is refused before the password is
    checked (and is not counted against the account)."""

    error_messages = {
        "invalid_login": _("登录名或密码不正确。连续失败多次后账户将被临时锁定。"),
        "inactive": _("该账户已停用，请联系管理员。"),
        "captcha": _("验证码不正确或已过期，请输入新图片中的字符。"),
    }

    username = forms.CharField(
        label=_("登录名"), max_length=150, widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"})
    )
    password = forms.CharField(
        label=_("密码"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.captcha_required = request is not None and captcha_required(request)
        self.captcha_picture = ""
        if self.captcha_required:
            self._add_captcha_fields()

    def _add_captcha_fields(self) -> None:
        self.fields["captcha_key"] = forms.CharField(widget=forms.HiddenInput, required=False)
        self.fields["captcha"] = forms.CharField(
            label=_("验证码"),
            max_length=32,
            required=False,
            widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "off", "spellcheck": "false"}),
        )

    def clean_username(self):
        return login_key(self.cleaned_data["username"])

    def clean(self):
        if self.captcha_required:
            key, answer = self.cleaned_data.get("captcha_key") or "", self.cleaned_data.get("captcha") or ""
            if not captcha_answer_is_right(key, answer):
                raise forms.ValidationError(self.error_messages["captcha"], code="captcha")
        return super().clean()

    def refresh_captcha(self, request) -> None:
        """Before the form is shown: a new picture when the address needs one now (this
        try may just have been the failure that makes it need one)."""
        if not self.captcha_required:
            if not captcha_required(request):
                return
            self.captcha_required = True
            self._add_captcha_fields()
        key, self.captcha_picture = new_captcha()
        # A bound form shows its data: the new key must be what the page posts back.
        if self.is_bound:
            self.data = self.data.copy()
            self.data["captcha_key"] = key
            self.data["captcha"] = ""
        else:
            self.initial["captcha_key"] = key


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
    is_unit_reviewer = forms.BooleanField(
        label=_("单位审核人"),
        required=False,
        help_text=_("仅经办人：可代表本单位审核报送材料和延期、调整申请（不能审核自己提交的）。"),
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
        if cleaned.get("is_unit_reviewer") and role != Role.STAFF:
            self.add_error("is_unit_reviewer", _("只有经办人可以设为单位审核人（领导本身即可审核本单位的报送）。"))
        if role in (Role.STAFF, Role.LEADER) and self.target is not None and self.target.agency_id is None:
            self.add_error("role", _("该用户没有所属单位，不能设为经办人或领导；请系统管理员先为其设置单位。"))
        return cleaned


class UnlockForm(forms.Form):
    """Unlock an account by its login name (any spelling), or clear an address's failures,
    which takes its login CAPTCHA away (addresses are never locked)."""

    username = forms.CharField(label=_("登录名"), max_length=150, required=False)
    ip_address = forms.GenericIPAddressField(label=_("地址"), required=False)

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("username") and not cleaned.get("ip_address") and not self.errors:
            raise forms.ValidationError(_("请指定要解锁的登录名或地址。"))
        return cleaned
