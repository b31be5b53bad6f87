"""Indicator rules shared by pages, jobs and the API: checking a reported value, the latest
reading of each indicator, whether a target is met (direction-aware), and how a value with
its unit reads."""

import datetime
import decimal
import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext as _

from core.roles import Role
from indicators.choices import Comparator
from indicators.models import Indicator, Reading
from indicators.units import with_unit
from tasks.models import Task
from tasks.services import task_access
from workplans.choices import PlanStatus

# Reading.value is DECIMAL(14, 4): ten digits before the point, four after.
MAX_INTEGER_DIGITS = 10
MAX_DECIMAL_PLACES = 4
PERCENT_UNITS = {"%", "％", "百分比"}
# Indicators whose value may fall below zero: changes and growth rates.
SIGNED_NAME = re.compile(r"增长|增幅|增速|变化|变动|涨幅|降幅")


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
        _sign, digits, exponent = value.as_tuple()
        assert isinstance(exponent, int)  # a finite value: checked above
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
    if errors or value is None or as_of is None:
        raise ValidationError(errors)
    return value, as_of


def _as_date(raw) -> datetime.date | None:
    if isinstance(raw, datetime.date):
        return raw
    try:
        return datetime.date.fromisoformat(str(raw or "").strip())
    except ValueError:
        return None


def _latest(day: datetime.date | None) -> QuerySet[Reading]:
    latest = Reading.objects.current().filter(indicator=OuterRef("pk"))
    if day is not None:
        latest = latest.filter(as_of__lte=day)
    return latest.order_by("-as_of", "-id")


def with_latest_reading(indicators: QuerySet[Indicator], day: datetime.date | None = None) -> QuerySet[Indicator]:
    """Each indicator with its latest reading's `latest_value`, `latest_as_of` and
    `latest_id` (None when nothing is reported), in the same query: the greatest (as_of,
    id) among the readings no correction supersedes, counting only readings as of `day` or
    before when a day is given (the nightly rollup of a past day). A correction replaces
    the value it corrects wherever it is counted, past days included."""
    latest = _latest(day)
    return indicators.annotate(
        latest_value=Subquery(latest.values("value")[:1]),
        latest_as_of=Subquery(latest.values("as_of")[:1]),
        latest_id=Subquery(latest.values("pk")[:1]),
    )


def with_latest_value(indicators: QuerySet[Indicator], day: datetime.date | None = None) -> QuerySet[Indicator]:
    """with_latest_reading's `latest_value` alone, for counting over many indicators: one
    index lookup per indicator (reading_indicator_asof_idx), where the three annotations
    cost three. Aggregating over it (attained_q, `latest_value__isnull`) makes Django
    select it once in a subquery and count over that, rather than repeat the lookup in
    every FILTER."""
    return indicators.annotate(latest_value=Subquery(_latest(day).values("value")[:1]))


# A LIMIT no scope reaches: a subquery with a LIMIT is computed as it stands, where
# PostgreSQL would otherwise merge it into the outer query and copy each reference to its
# latest value — one correlated lookup per FILTER (attainment_counts).
NO_LIMIT = 2**62


def attainment_counts(indicators: QuerySet[Indicator]) -> tuple[int, int, int]:
    """(met, missed, unreported) over `indicators` by each one's latest reading, in one
    query: the latest value looked up once per indicator (with_latest_value, in a subquery
    kept apart by NO_LIMIT, as a lateral join would), then counted by attained_q."""
    counts = with_latest_value(indicators.order_by())[:NO_LIMIT].aggregate(
        met=Count("id", filter=attained_q()),
        reported=Count("id", filter=Q(latest_value__isnull=False)),
        total=Count("id"),
    )
    met = counts["met"]
    return met, counts["reported"] - met, counts["total"] - counts["reported"]


def correct_reading(reading_id: int, user, *, value, as_of, reason: str, today: datetime.date) -> Reading:
    """Correct a reading: a new reading that supersedes it, with the reason; the old one is
    kept (readings are never changed). Who may report on the indicator's task may correct
    its readings (an indicator of the whole plan: the system admin), while its plan is
    active. `value` and `as_of` are checked as a new reading is (check_reading); an empty
    `as_of` keeps the corrected reading's. The page and the API both call this.
    PermissionDenied or ValidationError (by field: value, as_of, reason) otherwise."""
    reason = (reason or "").strip()
    with transaction.atomic():
        reading = Reading.objects.select_for_update().get(pk=reading_id)
        indicator = Indicator.objects.select_related("plan").get(pk=reading.indicator_id)
        if indicator.task_id is not None:
            task = Task.objects.select_related("plan").prefetch_related("task_owners").get(pk=indicator.task_id)
            allowed = task_access(user, task).can_report
        else:
            allowed = user.is_authenticated and user.role == Role.ADMIN and indicator.plan.status == PlanStatus.ACTIVE
        if not allowed:
            raise PermissionDenied(_("您无权更正此指标值。"))
        if Reading.objects.filter(supersedes=reading).exists():
            raise ValidationError({"__all__": [_("此指标值已被更正过，请更正最新的一条。")]})
        errors = {}
        try:
            new_value, new_as_of = check_reading(
                indicator, value, as_of if as_of not in (None, "") else reading.as_of, today=today
            )
        except ValidationError as error:
            errors.update(error.message_dict)
        if not reason:
            errors["reason"] = [_("请填写更正原因。")]
        if not errors and (new_value, new_as_of) == (reading.value, reading.as_of):
            errors["value"] = [_("更正后的数值和统计日期与原值相同。")]
        if errors:
            raise ValidationError(errors)
        correction = Reading(
            plan_id=reading.plan_id,
            indicator=indicator,
            value=new_value,
            as_of=new_as_of,
            reporter=user,
            supersedes=reading,
            correction_reason=reason[:500],
        )
        correction.save()
    return correction


# --- Attainment: one rule, in Python for one value and in SQL for counting -----------------


def attained(comparator: str, target: decimal.Decimal, value: decimal.Decimal | None) -> bool | None:
    """Whether `value` meets the target: at least it for >=, at most it for <= (a death rate
    of 6.8 meets "<= 7"), equal to it for =. None when nothing has been reported.
    `attained_q` is the same rule for the database; the tests hold the two together."""
    if value is None:
        return None
    if comparator == Comparator.AT_MOST:
        return value <= target
    if comparator == Comparator.EQUAL:
        return value == target
    return value >= target


def attained_q(value: str = "latest_value") -> Q:
    """`attained` as a condition on an indicator queryset annotated with `value` (by default
    with_latest_reading's): true where the target is met. An unreported indicator (NULL)
    matches neither this nor its negation's reported part, as attained() gives None."""
    return (
        Q(comparator=Comparator.AT_LEAST, **{f"{value}__gte": F("target")})
        | Q(comparator=Comparator.AT_MOST, **{f"{value}__lte": F("target")})
        | Q(comparator=Comparator.EQUAL, **{value: F("target")})
    )


def missed_q(value: str = "latest_value") -> Q:
    """Reported and not attained: what a leader has to act on."""
    return Q(**{f"{value}__isnull": False}) & ~attained_q(value)


# --- How a value reads (the rule itself is indicators.units) ----------------------------------


def target_text(indicator: Indicator) -> str:
    """The target as a sentence's object: "不低于 95%", "不高于 8/10万"."""
    return f"{indicator.get_comparator_display()} {with_unit(indicator.target, indicator.unit)}"
