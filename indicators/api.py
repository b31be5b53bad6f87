"""/api/v1/indicators/ (read) and /api/v1/readings/ (list, read, create).

An indicator is visible with its task (a plan-level one, attached to no task, with its
plan). A reading is written as a progress update of the indicator's task through
tasks.services.report_progress, checked by indicators.services.check_reading: the same
path, rules and audit trail as a reading entered on the task page."""

import django_filters
from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.response import Response

from api.filters import DateFilter, IdFilter, YearFilter
from api.viewsets import ScopedViewSet
from indicators.choices import Comparator
from indicators.models import Indicator, Reading
from indicators.serializers import IndicatorSerializer, ReadingCreateSerializer, ReadingSerializer
from indicators.services import check_reading, with_latest_reading
from tasks.api import IF_MATCH_PARAMETER, TaskQueryMixin, based_on_version, check_report_access
from tasks.services import ReadingInput, report_progress, task_access


class IndicatorFilterSet(django_filters.FilterSet):
    plan = IdFilter(field_name="plan_id", label=gettext_lazy("计划"))
    task = IdFilter(field_name="task_id", label=gettext_lazy("任务"))
    year = YearFilter(field_name="plan__year", label=gettext_lazy("年度"))
    comparator = django_filters.ChoiceFilter(choices=Comparator.choices, label=gettext_lazy("比较方式"))
    q = django_filters.CharFilter(
        field_name="name", lookup_expr="icontains", max_length=100, label=gettext_lazy("名称包含")
    )
    due_after = DateFilter(field_name="due_on", lookup_expr="gte", label=gettext_lazy("目标日期不早于"))
    due_before = DateFilter(field_name="due_on", lookup_expr="lte", label=gettext_lazy("目标日期不晚于"))

    class Meta:
        model = Indicator
        fields = ["plan", "task", "year", "comparator", "q", "due_after", "due_before"]


class ReadingFilterSet(django_filters.FilterSet):
    indicator = IdFilter(field_name="indicator_id", label=gettext_lazy("指标"))
    task = IdFilter(field_name="indicator__task_id", label=gettext_lazy("任务"))
    plan = IdFilter(field_name="plan_id", label=gettext_lazy("计划"))
    reporter = IdFilter(field_name="reporter_id", label=gettext_lazy("填报人"))
    as_of_after = DateFilter(field_name="as_of", lookup_expr="gte", label=gettext_lazy("统计日期不早于"))
    as_of_before = DateFilter(field_name="as_of", lookup_expr="lte", label=gettext_lazy("统计日期不晚于"))

    class Meta:
        model = Reading
        fields = ["indicator", "task", "plan", "reporter", "as_of_after", "as_of_before"]


class IndicatorScopeMixin:
    def visible_indicator_ids(self):
        """A subquery of the indicators the user may see: their task's, or their plan's."""
        indicators = Indicator.objects.all()
        if self.scope is None:
            return indicators.values("pk")
        return indicators.filter(
            Q(task__in=self.visible_tasks().values("pk")) | Q(task__isnull=True, plan__in=self.visible_plan_ids())
        ).values("pk")


class IndicatorViewSet(IndicatorScopeMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    queryset = with_latest_reading(Indicator.objects.all())
    serializer_class = IndicatorSerializer
    filterset_class = IndicatorFilterSet
    ordering_fields = ["plan", "task", "order", "name", "id"]
    ordering = ["plan", "task", "order", "id"]

    def restrict(self, queryset):
        if self.scope is None:
            return queryset
        return queryset.filter(pk__in=self.visible_indicator_ids())


@extend_schema_view(
    create=extend_schema(
        request=ReadingCreateSerializer,
        parameters=[IF_MATCH_PARAMETER],
        responses={
            201: ReadingSerializer,
            412: OpenApiResponse(description=gettext_lazy("If-Match 已过期：响应中有任务当前状态")),
        },
        description=gettext_lazy("填报一个指标值：按任务页面的规则检查，作为该任务的一条进展保存。"),
    )
)
class ReadingViewSet(
    IndicatorScopeMixin, TaskQueryMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet
):
    queryset = Reading.objects.select_related("reporter")
    serializer_class = ReadingSerializer
    filterset_class = ReadingFilterSet
    ordering_fields = ["as_of", "created_at", "value", "id"]
    ordering = ["-as_of", "-id"]

    def restrict(self, queryset):
        if self.scope is None:
            return queryset
        return queryset.filter(indicator__in=self.visible_indicator_ids())

    def create(self, request, *args, **kwargs):
        serializer = ReadingCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        visible = Indicator.objects.filter(pk__in=self.visible_indicator_ids()).select_related("plan")
        indicator = get_object_or_404(visible, pk=data["indicator"])
        if indicator.task_id is None:
            raise serializers.ValidationError({"indicator": [_("此指标未关联任务，不能填报。")]})
        task = self.load_task(indicator.task_id)
        access = task_access(request.user, task, scope=self.scope)
        check_report_access(self, access, task, changes_state=False)
        version = based_on_version(self, request, task, required=False)
        value, as_of = check_reading(indicator, data["value"], data.get("as_of"), today=self.today)
        update = report_progress(
            task.pk,
            request.user,
            based_on_version=version,
            readings=[ReadingInput(indicator.pk, value, as_of, data["note"])],
        )
        reading = self.get_queryset().get(progress_update=update, indicator=indicator)
        body = ReadingSerializer(reading, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": f"{request.path}{reading.pk}/"})
