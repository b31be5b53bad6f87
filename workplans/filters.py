"""Filter types over plans shared by the API's filtersets: a plan year within the years a
plan may have (Plan's own constraint), so a year no plan can hold is a 400."""

import django_filters
from django import forms

from workplans.models import MAX_YEAR, MIN_YEAR


class YearField(forms.IntegerField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", MIN_YEAR)
        kwargs.setdefault("max_value", MAX_YEAR)
        super().__init__(*args, **kwargs)


class YearFilter(django_filters.NumberFilter):
    """A plan year (2000–2100)."""

    field_class = YearField
