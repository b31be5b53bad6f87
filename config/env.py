"""Strict readers for settings that come from the environment.

django-environ does the URL parsing (DATABASE_URL, EMAIL_URL); these helpers add what it
does not: a boolean that is neither true nor false is an error, not a silent False.
"""

import decimal
import os

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use one of 1/0, true/false, yes/no, on/off)")


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_decimal(name: str, default: str, *, low: str = "0", high: str = "1") -> decimal.Decimal:
    """A decimal in [low, high] (a weight, a share); anything else is an error."""
    raw = os.environ.get(name)
    text = default if raw is None or not raw.strip() else raw.strip()
    try:
        value = decimal.Decimal(text)
    except decimal.InvalidOperation as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number") from exc
    if not value.is_finite() or not decimal.Decimal(low) <= value <= decimal.Decimal(high):
        raise ImproperlyConfigured(f"{name}={raw!r} must be between {low} and {high}")
    return value
