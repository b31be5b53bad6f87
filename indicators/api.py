"""/api/v1/indicators/ and /api/v1/readings/ (read), with their filters.

An indicator is visible with its task (a plan-level one, attached to no task, with its
plan): Indicator.objects.visible_to. A reading is written as a report on the indicator's
task (workbench.api), with the same path, rules and audit trail as on the task page."""

import django_filters
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from api.filters import DateFilter, IdFilter, NameFilter, yes_no_choices
from api.viewsets import ScopedViewSet
from indicators.choices import Comparator
from indicators.models import Indicator, Reading
from indicators.serializers import IndicatorSerializer, ReadingCorrectionSerializer, ReadingSerializer
from indicators.services import correct_reading, with_latest_reading
from workplans.filters import YearFilter


class IndicatorFilterSet(django_filters.FilterSet):
    plan_id = IdFilter(field_name="plan_id", label=gettext_lazy("计划（编号）"))
    plan = NameFilter(field_name="plan__title", label=gettext_lazy("计划（标题）"))
    task_id = IdFilter(field_name="task_id", label=gettext_lazy("任务（编号）"))
    year = YearFilter(field_name="plan__year", label=gettext_lazy("年度"))
    comparator = django_filters.ChoiceFilter(choices=Comparator.choices, label=gettext_lazy("比较方式"))
    q = django_filters.CharFilter(
        field_name="name", lookup_expr="icontains", max_length=100, label=gettext_lazy("名称包含")
    )
    due_after = DateFilter(field_name="due_on", lookup_expr="gte", label=gettext_lazy("目标日期不早于"))
    due_before = DateFilter(field_name="due_on", lookup_expr="lte", label=gettext_lazy("目标日期不晚于"))

    class Meta:
        model = Indicator
        fields = []


class ReadingFilterSet(django_filters.FilterSet):
    indicator_id = IdFilter(field_name="indicator_id", label=gettext_lazy("指标（编号）"))
    indicator = NameFilter(field_name="indicator__name", label=gettext_lazy("指标（名称）"))
    task_id = IdFilter(field_name="indicator__task_id", label=gettext_lazy("任务（编号）"))
    plan_id = IdFilter(field_name="plan_id", label=gettext_lazy("计划（编号）"))
    plan = NameFilter(field_name="plan__title", label=gettext_lazy("计划（标题）"))
    reporter_id = IdFilter(field_name="reporter_id", label=gettext_lazy("填报人（编号）"))
    reporter = NameFilter(field_name="reporter__username", label=gettext_lazy("填报人（登录名）"))
    as_of_after = DateFilter(field_name="as_of", lookup_expr="gte", label=gettext_lazy("统计日期不早于"))
    as_of_before = DateFilter(field_name="as_of", lookup_expr="lte", label=gettext_lazy("统计日期不晚于"))
    current = django_filters.ChoiceFilter(
        choices=yes_no_choices(), method="filter_current", label=gettext_lazy("未被更正（当前有效的值）")
    )

    class Meta:
        model = Reading
        fields = []

    def filter_current(self, queryset, name, value):
        return queryset.current() if value == "1" else queryset.filter(superseded_by__isnull=False)


class IndicatorViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    queryset = with_latest_reading(Indicator.objects.all())
    serializer_class = IndicatorSerializer
    filterset_class = IndicatorFilterSet
    ordering_fields = ["plan", "task", "order", "name", "id"]
    ordering = ["plan", "task", "order", "id"]


class ReadingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Readings, read, and corrected. They are written as reports on their task (the
    route's create is workbench.api.ReadingReportViewSet's) and never changed or deleted:
    a wrong one is corrected by POST …/{id}/correct/, a new reading that supersedes it."""

    queryset = Reading.objects.select_related("reporter", "superseded_by")
    serializer_class = ReadingSerializer
    filterset_class = ReadingFilterSet
    ordering_fields = ["as_of", "created_at", "value", "id"]
    ordering = ["-as_of", "-id"]

    @extend_schema(
        request=ReadingCorrectionSerializer,
        responses={201: ReadingSerializer},
        description=gettext_lazy("更正一个指标值：新增一条更正值并注明原因，原值保留并标为“已更正”。"),
    )
    @action(detail=True, methods=["post"])
    def correct(self, request, pk=None):
        reading = self.get_object()
        serializer = ReadingCorrectionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        correction = correct_reading(
            reading.pk,
            request.user,
            value=data["value"],
            as_of=data.get("as_of"),
            reason=data["reason"],
            today=self.today,
        )
        correction = self.get_queryset().get(pk=correction.pk)
        body = ReadingSerializer(correction, context=self.get_serializer_context()).data
        location = request.path.replace(f"/{reading.pk}/correct/", f"/{correction.pk}/")
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": location})
