"""/api/v1/agencies/: the agency directory (read-only), with filters.

Agencies are the directory every task names its owners from, shown on every task page; a
system mapping owners needs all of them, so staff, leaders and admins read the whole tree.
`in_scope=1` narrows it to the agencies whose work the caller reads."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from rest_framework import mixins

from accounts.choices import AgencyLevel
from accounts.models import Agency
from accounts.serializers import AgencySerializer
from accounts.services import scope_agency_ids
from api.filters import IdFilter, NameFilter
from api.viewsets import ScopedViewSet
from core.text import to_simplified


class AgencyFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("搜索"), method="filter_search", max_length=100)
    parent_id = IdFilter(field_name="parent_id", label=_("上级单位（编号）"))
    parent = NameFilter(field_name="parent__name", label=_("上级单位（全称）"))
    level = django_filters.MultipleChoiceFilter(choices=AgencyLevel.choices, distinct=False, label=_("层级"))
    is_active = django_filters.BooleanFilter(label=_("启用"))
    in_scope = django_filters.BooleanFilter(method="filter_in_scope", label=_("仅本人可见范围内的单位"))

    class Meta:
        model = Agency
        fields = []

    def filter_search(self, queryset, name, value):
        terms = {value.strip(), to_simplified(value.strip())}
        match = Q()
        for term in terms:
            match |= Q(name__icontains=term) | Q(short_name__icontains=term) | Q(aliases__name__icontains=term)
        return queryset.filter(pk__in=Agency.objects.filter(match).values("pk"))

    def filter_in_scope(self, queryset, name, value):
        scope = scope_agency_ids(self.request.user)
        if scope is None:
            return queryset if value else queryset.none()
        return queryset.filter(pk__in=scope) if value else queryset.exclude(pk__in=scope)


class AgencyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    queryset = Agency.objects.prefetch_related("aliases")
    serializer_class = AgencySerializer
    filterset_class = AgencyFilterSet
    ordering_fields = ["order", "name", "id"]
    ordering = ["order", "name"]

    def restrict(self, queryset):
        return queryset
