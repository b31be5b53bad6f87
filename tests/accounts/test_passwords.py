"""Password rules: length, character classes, not common, not the username."""

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils import translation

from accounts.models import User

POLICY = settings.LOGIN_POLICY


def problems(password, username="zhangwei"):
    try:
        with translation.override("zh-hans"):
            validate_password(password, User(username=username))
    except ValidationError as error:
        return " ".join(error.messages)
    return ""


@pytest.mark.parametrize(
    "password, expected",
    [
        ("Ab1!xyz", "密码长度太短"),  # 7 characters
        ("abcdefgh12", "至少 3 类"),  # two classes
        ("Password1", "太常见"),  # common, though three classes
        ("Zhangwei#2026", "不能包含登录名"),
        ("iewgnahz#A1x", "不能包含登录名"),  # reversed
    ],
)
def test_weak_passwords_are_refused_with_a_chinese_reason(password, expected):
    assert expected in problems(password)


def test_a_strong_password_passes():
    assert problems("Qz7!rT9#kLm2") == ""


def test_the_minimum_length_is_the_policy_number():
    assert len("Ab1!xyzw") == POLICY["password_min_length"]
    assert problems("Ab1!xyzw") == ""
