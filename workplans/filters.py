"""Filters over plans: a plan year within the years a plan may have (Plan's own
constraint, so a year no plan can hold is refused), and the admin's list of plans."""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from workplans.choices import PlanStatus
from workplans.models import MAX_YEAR, MIN_YEAR, Plan


class YearField(forms.IntegerField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", MIN_YEAR)
        kwargs.setdefault("max_value", MAX_YEAR)
        super().__init__(*args, **kwargs)


class YearFilter(django_filters.NumberFilter):
    """A plan year (2000–2100)."""

    field_class = YearField


class PlanListFilterSet(django_filters.FilterSet):
    """The system admin's list of plans: by words of the title, year and status."""

    q = django_filters.CharFilter(field_name="title", lookup_expr="icontains", label=_("标题"), max_length=100)
    year = YearFilter(label=_("年度"))
    status = django_filters.ChoiceFilter(choices=PlanStatus.choices, label=_("状态"), empty_label=_("全部状态"))

    class Meta:
        model = Plan
        fields = []
