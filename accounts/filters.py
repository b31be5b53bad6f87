"""Filters of the security admin's lists: users (by name, person, agency and role) and
lockouts (by login name)."""

import django_filters
from axes.models import AccessAttempt
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.lockout import login_key
from accounts.models import User
from core.roles import Role


class UserFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("搜索"),
        method="filter_search",
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("登录名、姓名、工号或单位")}),
    )
    role = django_filters.ChoiceFilter(label=_("角色"), choices=Role.choices, empty_label=_("全部角色"))

    class Meta:
        model = User
        fields = []

    def filter_search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(
            Q(username__icontains=value)
            | Q(full_name__icontains=value)
            | Q(person_id__icontains=value)
            | Q(agency__name__icontains=value)
        )


class LockoutFilterSet(django_filters.FilterSet):
    """Lockouts are per account (accounts.lockout.current_lockouts): searched by login name
    in any spelling."""

    q = django_filters.CharFilter(label=_("登录名"), method="filter_search", max_length=150)

    class Meta:
        model = AccessAttempt
        fields = []

    def filter_search(self, queryset, name, value):
        return queryset.filter(username__contains=login_key(value))
