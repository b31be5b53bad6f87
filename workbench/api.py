"""/api/v1/progress-updates/ (list, read, create; never changed or deleted) and the create
of /api/v1/readings/: reports on tasks, through the API.

A report is written by supervision.progress.report_progress, the same call the task page
makes, so the same rules apply (who may change what, transitions, files, milestones,
readings, one transaction). Lost updates are prevented with the task's ETag (api.etag):
- changing status, percent or milestones needs `If-Match: <the task's ETag>`; without it
  the answer is 428, and with an old one 412 with the task's current state;
- a note, files or readings alone may omit it (like a co-owner's note on the page, it is
  added to the task as it is and never conflicts); sent, it is checked all the same."""

import django_filters
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from api.etag import check_if_match
from api.exceptions import PreconditionFailed
from api.filters import DateTimeFilter, IdFilter, NameFilter
from api.parsers import MultiPartParser
from api.viewsets import ScopedViewSet
from core.scope import get_visible_or_404
from indicators.api import ReadingViewSet
from indicators.models import Indicator, Reading
from indicators.serializers import ReadingCreateSerializer, ReadingSerializer
from supervision.progress import (
    ReadingEntry,
    ReadingInput,
    StaleVersion,
    check_readings,
    report_progress,
    updates_since,
)
from tasks.api import load_task
from tasks.choices import TaskStatus
from tasks.models import Attachment, Milestone, ProgressUpdate, Task
from tasks.quotas import QuotaExceeded
from tasks.serializers import TASK_TAG, TaskSerializer, task_etag
from tasks.services import TaskAccess, task_access
from workbench.serializers import (
    CreatedProgressUpdateSerializer,
    ProgressUpdateCreateSerializer,
    ProgressUpdateSerializer,
)
from workplans.choices import PlanStatus

IF_MATCH_PARAMETER = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=gettext_lazy(
        "任务的 ETag（GET /api/v1/tasks/{id}/ 的 ETag 响应头或 etag 字段）。修改状态、进度或时间节点时必填。"
    ),
)


class ProgressUpdateFilterSet(django_filters.FilterSet):
    task_id = IdFilter(field_name="task_id", label=gettext_lazy("任务（编号）"))
    plan_id = IdFilter(field_name="task__plan_id", label=gettext_lazy("计划（编号）"))
    plan = NameFilter(field_name="task__plan__title", label=gettext_lazy("计划（标题）"))
    author_id = IdFilter(field_name="author_id", label=gettext_lazy("填报人（编号）"))
    author = NameFilter(field_name="author__username", label=gettext_lazy("填报人（登录名）"))
    agency_id = IdFilter(field_name="author__agency_id", label=gettext_lazy("填报人单位（编号）"))
    agency = NameFilter(field_name="author__agency__name", label=gettext_lazy("填报人单位（全称）"))
    status = django_filters.MultipleChoiceFilter(choices=TaskStatus.choices, distinct=False, label=gettext_lazy("状态"))
    created_after = DateTimeFilter(field_name="created_at", lookup_expr="gte", label=gettext_lazy("填报时间不早于"))
    created_before = DateTimeFilter(field_name="created_at", lookup_expr="lte", label=gettext_lazy("填报时间不晚于"))

    class Meta:
        model = ProgressUpdate
        fields = []


# --- Writes: who may, and against which version ------------------------------------------


def check_report_access(view, access: TaskAccess, task: Task, *, changes_state: bool) -> None:
    """403 for a task the user sees but may not report on (or not change the state of)."""
    if not access.can_report:
        if task.plan.status != PlanStatus.ACTIVE:
            view.check_write(False, _("此任务所属计划不在执行中，只能查看。"))
        view.check_write(False, _("您无权填报此任务的进展。"))
    if changes_state:
        view.check_write(access.can_change_status, _("您无权修改此任务的状态或进度。"))


def _stale(view, task: Task, client_version: int | None, message: str) -> PreconditionFailed:
    task = load_task(view.request, task.pk)
    since = updates_since(task, client_version) if client_version is not None else []
    context = view.get_serializer_context()
    return PreconditionFailed(
        message,
        code="stale_version",
        extra={
            "task": TaskSerializer(task, context=context).data,
            "updates_since": ProgressUpdateSerializer(since, many=True, context=context).data,
        },
        headers={"ETag": task_etag(task)},
    )


def based_on_version(view, request, task: Task, *, required: bool) -> int:
    """The version the client's change is based on, from If-Match: the current one when the
    tag matches (or is *), 412 when it does not, 428 when it is missing but required."""
    if_match = check_if_match(
        request,
        kind=TASK_TAG,
        pk=task.pk,
        version=task.version,
        required=required,
        missing_message=_("修改状态、进度或时间节点时，请在 If-Match 请求头中带上任务的 ETag（先读取任务）。"),
    )
    if not if_match.current:
        raise _stale(view, task, if_match.client_version, _("任务已被他人更新：请按当前状态重新填报。"))
    return task.version


class QuotaRefused(exceptions.APIException):
    """429 for a used-up reporting quota (tasks.quotas), with Retry-After."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "quota_exceeded"

    def __init__(self, refused: QuotaExceeded):
        super().__init__(refused.message, "quota_exceeded")
        self.headers = {"Retry-After": str(refused.retry_after)}


def reported(**kwargs) -> ProgressUpdate:
    """report_progress, with a used-up quota answered 429."""
    try:
        return report_progress(**kwargs)
    except QuotaExceeded as refused:
        raise QuotaRefused(refused) from None


# --- Viewsets ----------------------------------------------------------------------------


@extend_schema_view(
    create=extend_schema(
        request={
            "application/json": ProgressUpdateCreateSerializer,
            "multipart/form-data": ProgressUpdateCreateSerializer,
        },
        parameters=[IF_MATCH_PARAMETER],
        responses={
            201: CreatedProgressUpdateSerializer,
            412: OpenApiResponse(description=gettext_lazy("If-Match 已过期：响应中有任务当前状态和之后的进展")),
            428: OpenApiResponse(description=gettext_lazy("修改状态、进度或时间节点时缺少 If-Match")),
        },
        description=gettext_lazy("填报一条进展（与任务页面的规则相同）。"),
    )
)
class ProgressUpdateViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """The progress log of the tasks the caller may open: added to, never changed."""

    queryset = ProgressUpdate.objects.select_related("author").prefetch_related(
        Prefetch("attachments", queryset=Attachment.objects.order_by("id")),
        Prefetch("readings", queryset=Reading.objects.order_by("id")),
        Prefetch("milestones_done", queryset=Milestone.objects.order_by("due_on", "id")),
    )
    serializer_class = ProgressUpdateSerializer
    filterset_class = ProgressUpdateFilterSet
    parser_classes = [JSONParser, MultiPartParser]
    ordering_fields = ["created_at", "id"]
    ordering = ["-created_at", "-id"]

    def create(self, request, *args, **kwargs):
        serializer = ProgressUpdateCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        task = load_task(request, data["task"])
        access = task_access(request.user, task)
        check_report_access(self, access, task, changes_state=serializer.changes_state)
        version = based_on_version(self, request, task, required=serializer.changes_state)
        readings = self._readings(task, data["readings"])
        try:
            update = reported(
                task_id=task.pk,
                user=request.user,
                based_on_version=version,
                status=data.get("status"),
                percent=data.get("percent"),
                note=data["note"],
                evidence=data["files"],
                milestone_ids=data["milestones"],
                readings=readings,
                explanation=data["explanation"],
            )
        except StaleVersion:
            raise _stale(self, task, version, _("任务已被他人更新：请按当前状态重新填报。")) from None
        update = self.get_queryset().select_related("task").get(pk=update.pk)
        body = CreatedProgressUpdateSerializer(update, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": f"{request.path}{update.pk}/"})

    def _readings(self, task: Task, entries: list[dict]) -> list[ReadingInput]:
        wanted = [entry["indicator"] for entry in entries]
        indicators = {i.pk: i for i in Indicator.objects.filter(task=task, pk__in=wanted).select_related("plan")}
        readings, errors = check_readings(
            indicators,
            (ReadingEntry(e["indicator"], e["value"], e.get("as_of"), e.get("note", "")) for e in entries),
            today=self.today,
        )
        if any(errors):
            raise serializers.ValidationError({"readings": errors})
        return readings


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
class ReadingReportViewSet(ReadingViewSet):
    """/api/v1/readings/ with create: a reading of a task's indicator is written as a report
    on that task (report_progress), with the same checks, rights and audit trail as one
    entered on the task page."""

    def create(self, request, *args, **kwargs):
        serializer = ReadingCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        visible = Indicator.objects.visible_to(request.user).select_related("plan")
        indicator = get_visible_or_404(request, visible, pk=data["indicator"])
        if indicator.task_id is None:
            raise serializers.ValidationError({"indicator": [_("此指标未关联任务，不能填报。")]})
        task = load_task(request, indicator.task_id)
        access = task_access(request.user, task)
        check_report_access(self, access, task, changes_state=False)
        version = based_on_version(self, request, task, required=False)
        readings, errors = check_readings(
            {indicator.pk: indicator},
            [ReadingEntry(indicator.pk, data["value"], data.get("as_of"), data["note"])],
            today=self.today,
        )
        if errors[0]:
            raise serializers.ValidationError(errors[0])
        update = reported(task_id=task.pk, user=request.user, based_on_version=version, readings=readings)
        reading = self.get_queryset().get(progress_update=update, indicator=indicator)
        body = ReadingSerializer(reading, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": f"{request.path}{reading.pk}/"})
