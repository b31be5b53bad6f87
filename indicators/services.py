"""Indicator rules shared by pages, jobs and the API: checking a reported value, the latest
reading of each indicator, and whether a target is met (direction-aware)."""

import datetime
import decimal
import re

from django.core.exceptions import ValidationError
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils.translation import gettext as _

from indicators.choices import Comparator
from indicators.models import Indicator, Reading

# Reading.value is DECIMAL(14, 4): ten digits before the point, four after.
MAX_INTEGER_DIGITS = 10
MAX_DECIMAL_PLACES = 4
PERCENT_UNITS = {"%", "％", "百分比"}
# Indicators whose value may fall below zero: changes and growth rates.
SIGNED_NAME = re.compile(r"增长|增幅|增速|变化|变动|涨幅|降幅")


def _fmt(value: decimal.Decimal) -> str:
    return f"{value.normalize():f}"


def check_reading(
    indicator: Indicator, raw_value, raw_as_of, *, today: datetime.date
) -> tuple[decimal.Decimal, datetime.date]:
    """The value and date of a reading, or ValidationError with a Chinese message for each
    field that is wrong: not a number, too many decimals, below zero for a count or a rate,
    over 100 for a percentage, too large to store, a date outside the plan year or ahead."""
    errors = {}
    value = None
    text = str(raw_value if raw_value is not None else "").strip().replace(",", "").replace("，", "")
    text = text.translate(str.maketrans("０１２３４５６７８９．－", "0123456789.-"))
    if text.endswith(("%", "％")) and indicator.unit in PERCENT_UNITS:
        text = text[:-1]
    try:
        value = decimal.Decimal(text)
        if not value.is_finite():
            raise decimal.InvalidOperation
    except (decimal.InvalidOperation, ValueError):
        errors["value"] = _("“%(text)s”不是数字，请填写数值（如 3.09），单位“%(unit)s”不用填写。") % {
            "text": str(raw_value)[:30],
            "unit": indicator.unit or _("无"),
        }
    if value is not None:
        sign, digits, exponent = value.as_tuple()
        places = -exponent if exponent < 0 else 0
        integer_digits = len(digits) - places
        if places > MAX_DECIMAL_PLACES and value != value.quantize(decimal.Decimal(1).scaleb(-MAX_DECIMAL_PLACES)):
            errors["value"] = _("最多保留 %(n)d 位小数。") % {"n": MAX_DECIMAL_PLACES}
        elif integer_digits > MAX_INTEGER_DIGITS:
            errors["value"] = _("数值过大，请检查单位和数量级。")
        elif value < 0 and not SIGNED_NAME.search(indicator.name):
            errors["value"] = _("“%(name)s”不能为负数。") % {"name": indicator.name}
        elif indicator.unit in PERCENT_UNITS and value > 100 and not SIGNED_NAME.search(indicator.name):
            errors["value"] = _("百分比不能超过 100。")
        else:
            value = value.quantize(decimal.Decimal(1).scaleb(-MAX_DECIMAL_PLACES)).normalize()
    as_of = _as_date(raw_as_of)
    if as_of is None:
        errors["as_of"] = _("请填写统计日期（年-月-日）。")
    else:
        earliest = datetime.date(indicator.plan.year, 1, 1)
        if as_of > today:
            errors["as_of"] = _("统计日期不能晚于今天。")
        elif as_of < earliest:
            errors["as_of"] = _("统计日期应在 %(start)s 之后（计划年度内）。") % {"start": earliest.isoformat()}
    if errors:
        raise ValidationError(errors)
    return value, as_of


def _as_date(raw) -> datetime.date | None:
    if isinstance(raw, datetime.date):
        return raw
    try:
        return datetime.date.fromisoformat(str(raw or "").strip())
    except ValueError:
        return None


def with_latest_reading(indicators: QuerySet[Indicator]) -> QuerySet[Indicator]:
    """Each indicator with its latest reading's value and date, in the same query."""
    latest = Reading.objects.filter(indicator=OuterRef("pk")).order_by("-as_of", "-id")
    return indicators.annotate(
        latest_value=Subquery(latest.values("value")[:1]),
        latest_as_of=Subquery(latest.values("as_of")[:1]),
    )


def attained(comparator: str, target: decimal.Decimal, value: decimal.Decimal | None) -> bool | None:
    """Whether `value` meets the target: at least it for >=, at most it for <= (a death rate
    of 6.8 meets "<= 7"), equal to it for =. None when nothing has been reported."""
    if value is None:
        return None
    if comparator == Comparator.AT_MOST:
        return value <= target
    if comparator == Comparator.EQUAL:
        return value == target
    return value >= target


def target_text(indicator: Indicator) -> str:
    return f"{indicator.get_comparator_display()} {_fmt(indicator.target)}{indicator.unit}"
