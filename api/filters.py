"""Filter types shared by the API's filtersets: ids and dates with bounds, so that input no
database can hold (an id past 2^63, the year 1 moved across a time zone) is a 400, never a
server error."""

import datetime

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from api.models import ApiToken

MAX_ID = 2**63 - 1
EARLIEST = datetime.date(1900, 1, 1)
LATEST = datetime.date(2200, 12, 31)


class IdField(forms.IntegerField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class IdFilter(django_filters.NumberFilter):
    """An object's id (a positive whole number)."""

    field_class = IdField


class _InRange:
    def clean(self, value):
        value = super().clean(value)
        if value is not None:
            day = value.date() if isinstance(value, datetime.datetime) else value
            if not EARLIEST <= day <= LATEST:
                raise forms.ValidationError(
                    _("日期应在 %(start)s 至 %(end)s 之间。") % {"start": EARLIEST, "end": LATEST}, code="out_of_range"
                )
        return value


class DateField(_InRange, forms.DateField):
    pass


class DateTimeField(_InRange, django_filters.fields.IsoDateTimeField):
    def clean(self, value):
        value = super().clean(value)
        # In UTC: an offset Python accepts (up to ±24 h) may be one PostgreSQL refuses (±15:59).
        return value.astimezone(datetime.UTC) if value is not None else None


class DateFilter(django_filters.DateFilter):
    field_class = DateField


class DateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 date and time; without an offset it is read as Asia/Shanghai."""

    field_class = DateTimeField


def yes_no_choices():
    """The pages' 1/0 answers (是/否), as the task list's overdue and reported filters take them."""
    return [("1", _("是")), ("0", _("否"))]


class NameFilter(django_filters.CharFilter):
    """A related object by its name, title or login name, exactly as written: the partner of
    an `x_id` filter. Every relation a list filters by has both (`plan_id` and `plan`)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 200)
        super().__init__(*args, **kwargs)


class ApiTokenPageFilterSet(django_filters.FilterSet):
    """A user's token page: the ones still in use, or all."""

    active = django_filters.BooleanFilter(method="filter_active", label=_("有效"))

    class Meta:
        model = ApiToken
        fields = []

    def filter_active(self, queryset, name, value):
        """Usable (neither revoked nor expired), or not."""
        return queryset.usable() if value else queryset.unusable()
