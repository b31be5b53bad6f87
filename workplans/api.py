"""/api/v1/plans/ and /api/v1/sections/ (read-only): the plans a user has tasks in (admins:
every plan, drafts included: Plan.objects.visible_to) and their section trees."""

import django_filters
from django.utils.translation import gettext_lazy as _
from rest_framework import mixins

from accounts.models import Agency
from api.filters import IdFilter, NameFilter
from api.viewsets import ScopedViewSet
from workplans.choices import PlanStatus, ReportingCycle
from workplans.filters import YearFilter
from workplans.models import Plan, Section
from workplans.serializers import PlanSerializer, SectionSerializer


class PlanFilterSet(django_filters.FilterSet):
    year = YearFilter(label=_("年度"))
    status = django_filters.MultipleChoiceFilter(choices=PlanStatus.choices, distinct=False, label=_("状态"))
    reporting_cycle = django_filters.ChoiceFilter(choices=ReportingCycle.choices, label=_("报送周期"))
    issuer_id = IdFilter(field_name="issuer_id", label=_("印发单位（编号）"))
    issuer = NameFilter(field_name="issuer__name", label=_("印发单位（全称）"))
    # The plans in which an agency owns a task (lead or co-owner).
    agency_id = IdFilter(method="filter_agency_id", label=_("责任单位（编号）"))
    agency = NameFilter(method="filter_agency", label=_("责任单位（全称）"))
    title = django_filters.CharFilter(lookup_expr="icontains", label=_("标题包含"), max_length=100)

    class Meta:
        model = Plan
        fields = []

    def filter_agency_id(self, queryset, name, value):
        return queryset.with_tasks_owned_by([value])

    def filter_agency(self, queryset, name, value):
        return queryset.with_tasks_owned_by(Agency.objects.filter(name=value).values("pk"))


class PlanViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    queryset = Plan.objects.select_related("issuer")
    serializer_class = PlanSerializer
    filterset_class = PlanFilterSet
    ordering_fields = ["year", "title", "created_at", "updated_at", "id"]
    ordering = ["-year", "title", "id"]


class SectionFilterSet(django_filters.FilterSet):
    plan_id = IdFilter(field_name="plan_id", label=_("计划（编号）"))
    plan = NameFilter(field_name="plan__title", label=_("计划（标题）"))
    parent_id = IdFilter(field_name="parent_id", label=_("上级部分（编号）"))
    parent = NameFilter(field_name="parent__label", label=_("上级部分（编号文字，如“一”）"))
    top = django_filters.BooleanFilter(field_name="parent", lookup_expr="isnull", label=_("仅顶层部分"))
    year = YearFilter(field_name="plan__year", label=_("年度"))

    class Meta:
        model = Section
        fields = []


class SectionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    queryset = Section.objects.all()
    serializer_class = SectionSerializer
    filterset_class = SectionFilterSet
    ordering_fields = ["plan", "order", "id"]
    ordering = ["plan", "order", "id"]
