"""What a phone number may look like: a mainland mobile number (11 digits, 1[3-9]…) or a
fixed line with its area code (0531-12345678, an extension after a dash). The profile page
and the bulk user import both check with it."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")


def normal_phone(raw: str) -> str:
    """The number without spaces and with a leading +86 dropped ("" for nothing)."""
    text = "".join(str(raw or "").split()).replace("－", "-")
    if text.startswith("+86"):
        text = text[3:].lstrip("-")
    return text


def validate_phone(raw: str) -> str:
    """The number as stored, or ValidationError in Chinese."""
    text = normal_phone(raw)
    if text and not (_MOBILE.match(text) or _LANDLINE.match(text)):
        raise ValidationError(
            _("手机号“%(phone)s”格式不正确：应为 11 位手机号或带区号的固定电话。") % {"phone": raw}, code="phone"
        )
    return text
