"""How a value and its unit read: the one formatting rule for pages, exports, bulletins,
notices and messages. Pure functions on numbers and unit strings, so models, templates,
documents and jobs all call the same code."""

import decimal

# A rate's unit as the parser writes it starts with its base: "1/10万" (per 100,000),
# "1/万" (per 10,000). Shown after a value, the base's "1" is the value itself.
RATE_BASE = "1/"


def plain_number(value) -> str:
    """3.0900 → "3.09", 100.0000 → "100" (never "1E+2"); empty for None."""
    if value is None or value == "":
        return ""
    try:
        return f"{decimal.Decimal(value).normalize():f}"
    except (decimal.InvalidOperation, TypeError, ValueError):
        return str(value)


def unit_suffix(unit: str) -> str:
    """The unit as it follows a number: "1/10万" → "/10万", "%" → "%", "人次" → "人次"."""
    unit = unit or ""
    return unit[1:] if unit.startswith(RATE_BASE) else unit


def with_unit(value, unit: str) -> str:
    """A value with its unit as people write it: "95%", "30分钟", and a rate whose unit starts
    with its base ("1/10万", "1/万") as "8/10万", never glued into "81/10万". No value, no text: a bare unit
    reads like a value that is missing."""
    number = plain_number(value)
    if not number:
        return ""
    return f"{number}{unit_suffix(unit)}"
