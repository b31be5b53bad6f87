"""Template filters for indicator values: decimals without trailing zeros or exponents."""

import decimal

from django import template

register = template.Library()


@register.filter
def plain(value):
    """3.0900 → "3.09", 100.0000 → "100" (never "1E+2"); empty for None."""
    if value is None or value == "":
        return ""
    try:
        return f"{decimal.Decimal(value).normalize():f}"
    except (decimal.InvalidOperation, TypeError, ValueError):
        return str(value)
