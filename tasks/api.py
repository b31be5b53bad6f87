"""/api/v1/tasks/ (read; ETag per task) and /api/v1/progress-updates/ (list, read, create;
never changed or deleted), with the task list's filters.

A progress update is written by tasks.services.report_progress, the same call the task page
makes, so the same rules apply (who may change what, transitions, files, milestones,
readings, one transaction). Lost updates are prevented with the task's ETag:
- changing status, percent or milestones needs `If-Match: <the task's ETag>`; without it
  the answer is 428, and with an old one 412 with the task's current state;
- a note, files or readings alone may omit it (like a co-owner's note on the page, it is
  added to the task as it is and never conflicts); sent, it is checked all the same."""

import re

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from accounts.models import User
from api.exceptions import PreconditionFailed, PreconditionRequired
from api.filters import DateFilter, DateTimeFilter, IdFilter, yes_no_choices
from api.parsers import MultiPartParser
from api.viewsets import ScopedViewSet
from indicators.models import Indicator, Reading
from indicators.services import check_reading
from tasks.choices import TaskStatus
from tasks.filters import TaskFilterSet
from tasks.models import Attachment, Milestone, ProgressUpdate, Task, TaskOwner
from tasks.risk import Risk, risk_annotation
from tasks.serializers import (
    CreatedProgressUpdateSerializer,
    ProgressUpdateCreateSerializer,
    ProgressUpdateSerializer,
    TaskSerializer,
    task_etag,
)
from tasks.services import ReadingInput, StaleVersion, TaskAccess, report_progress, task_access, updates_since
from workplans.choices import PlanStatus

IF_MATCH_PARAMETER = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=gettext_lazy(
        "任务的 ETag（GET /api/v1/tasks/{id}/ 的 ETag 响应头或 etag 字段）。修改状态、进度或时间节点时必填。"
    ),
)


# --- Filters ---------------------------------------------------------------------------


class TaskApiFilterSet(TaskFilterSet):
    """The task list's filters (tasks.filters: search in either script, section subtree,
    overdue, due within, role, risk, reported this cycle) plus what systems ask for: owner
    by id or name, at risk, due range, changed since, plan status."""

    plan = IdFilter(field_name="plan_id", label=gettext_lazy("计划"))
    # Columns of the task and its plan: a row never repeats, so no DISTINCT (which would make
    # the page's count and rows compare every column at 50,000 tasks).
    status = django_filters.MultipleChoiceFilter(choices=TaskStatus.choices, distinct=False, label=gettext_lazy("状态"))
    plan_status = django_filters.MultipleChoiceFilter(
        field_name="plan__status", choices=PlanStatus.choices, distinct=False, label=gettext_lazy("计划状态")
    )
    section = IdFilter(method="filter_section", label=gettext_lazy("部分（含下级部分）"))
    owner_id = IdFilter(method="filter_owner_id", label=gettext_lazy("责任单位（编号）"))
    owner = django_filters.CharFilter(
        method="filter_owner_name", max_length=100, label=gettext_lazy("责任单位（全称、简称或别名，繁简均可）")
    )
    at_risk = django_filters.ChoiceFilter(
        choices=yes_no_choices(), method="filter_at_risk", label=gettext_lazy("有风险（黄色，同督办总览）")
    )
    due_after = DateFilter(field_name="due_on", lookup_expr="gte", label=gettext_lazy("完成时限不早于"))
    due_before = DateFilter(field_name="due_on", lookup_expr="lte", label=gettext_lazy("完成时限不晚于"))
    updated_since = DateTimeFilter(field_name="updated_at", lookup_expr="gte", label=gettext_lazy("此时间后有变化"))
    responsible = IdFilter(field_name="responsible_users", label=gettext_lazy("责任人（用户编号）"))
    # Ordering is the API's `ordering` parameter, the same on every list.
    sort = None

    class Meta:
        model = Task
        fields = []

    def filter_owner_id(self, queryset, name, value):
        return queryset.filter(Exists(TaskOwner.objects.filter(task=OuterRef("pk"), agency_id=value)))

    def filter_owner_name(self, queryset, name, value):
        from workplans.services.matching import AgencyMatcher

        match = AgencyMatcher.load().match(value)
        if match.candidates:
            names = "、".join(agency.name for agency in match.candidates)
            raise serializers.ValidationError(
                {
                    "owner": [
                        _("“%(name)s”可能是多个单位：%(names)s。请写全称或改用 owner_id。")
                        % {"name": value, "names": names}
                    ]
                }
            )
        if match.agency is None:
            return queryset.none()
        return self.filter_owner_id(queryset, name, match.agency.pk)

    def filter_at_risk(self, queryset, name, value):
        amber = Q(risk=Risk.AMBER.value)
        queryset = queryset.alias(risk=risk_annotation(self.today))
        return queryset.filter(amber) if value == "1" else queryset.exclude(amber)


class ProgressUpdateFilterSet(django_filters.FilterSet):
    task = IdFilter(field_name="task_id", label=gettext_lazy("任务"))
    plan = IdFilter(field_name="task__plan_id", label=gettext_lazy("计划"))
    author = IdFilter(field_name="author_id", label=gettext_lazy("填报人"))
    agency = IdFilter(field_name="author__agency_id", label=gettext_lazy("填报人单位"))
    status = django_filters.MultipleChoiceFilter(choices=TaskStatus.choices, distinct=False, label=gettext_lazy("状态"))
    created_after = DateTimeFilter(field_name="created_at", lookup_expr="gte", label=gettext_lazy("填报时间不早于"))
    created_before = DateTimeFilter(field_name="created_at", lookup_expr="lte", label=gettext_lazy("填报时间不晚于"))

    class Meta:
        model = ProgressUpdate
        fields = ["task", "plan", "author", "agency", "status", "created_after", "created_before"]


# --- Writes: who may, and against which version ------------------------------------------


def check_report_access(view, access: TaskAccess, task: Task, *, changes_state: bool) -> None:
    """403 for a task the user sees but may not report on (or not change the state of)."""
    if not access.can_report:
        if task.plan.status != PlanStatus.ACTIVE:
            view.check_write(False, _("此任务所属计划不在执行中，只能查看。"))
        view.check_write(False, _("您无权填报此任务的进展。"))
    if changes_state:
        view.check_write(access.can_change_status, _("您无权修改此任务的状态或进度。"))


ETAG_VERSION = re.compile(r'^(?:W/)?"task-(\d+)-v(\d+)"$')


def _stale(view, task: Task, client_version: int | None, message: str) -> PreconditionFailed:
    task = view.load_task(task.pk)
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
    header = request.headers.get("If-Match")
    if header is None or not header.strip():
        if required:
            raise PreconditionRequired(
                _("修改状态、进度或时间节点时，请在 If-Match 请求头中带上任务的 ETag（先读取任务）。")
            )
        return task.version
    tags = [tag.strip() for tag in header.split(",")]
    current = task_etag(task)
    if "*" in tags or any(tag.removeprefix("W/") == current for tag in tags):
        return task.version
    versions = [int(m[2]) for tag in tags if (m := ETAG_VERSION.match(tag)) and int(m[1]) == task.pk]
    raise _stale(view, task, min(versions) if versions else None, _("任务已被他人更新：请按当前状态重新填报。"))


# --- Viewsets ----------------------------------------------------------------------------


# Tasks with what their serializer reads, loaded in a fixed number of queries.
TASKS = (
    Task.objects.select_related("plan")
    .defer("search_text")
    .prefetch_related(
        Prefetch("task_owners", queryset=TaskOwner.objects.select_related("agency").order_by("order", "id")),
        Prefetch("milestones", queryset=Milestone.objects.order_by("due_on", "order", "id")),
        Prefetch(
            "responsible_users",
            queryset=User.objects.select_related(None)
            .only("id", "username", "full_name")
            .order_by("full_name", "username"),
        ),
    )
)


class TaskQueryMixin:
    def load_task(self, pk) -> Task:
        """A task the user may open, ready to serialize; 404 for any other."""
        return get_object_or_404(self.visible_tasks(TASKS.all()), pk=pk)


@extend_schema_view(
    retrieve=extend_schema(description=gettext_lazy("任务详情；ETag 响应头为任务当前版本，填报时放入 If-Match。")),
)
class TaskViewSet(TaskQueryMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Tasks the caller may open, with owners, milestones, 责任人, risk and the caller's rights."""

    queryset = TASKS
    serializer_class = TaskSerializer
    filterset_class = TaskApiFilterSet
    ordering_fields = ["due_on", "number", "status", "percent", "last_progress_at", "updated_at", "created_at", "id"]
    ordering = ["due_on"]

    def restrict(self, queryset):
        return self.visible_tasks(queryset)

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        # The task's place in its plan breaks ties, so pages never overlap.
        return queryset.order_by(*queryset.query.order_by, "plan_id", "order", "id")

    def retrieve(self, request, *args, **kwargs):
        task = self.get_object()
        return Response(self.get_serializer(task).data, headers={"ETag": task_etag(task)})


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
class ProgressUpdateViewSet(TaskQueryMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
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

    def restrict(self, queryset):
        if self.scope is None:
            return queryset
        return queryset.filter(task__in=self.visible_tasks().values("pk"))

    def create(self, request, *args, **kwargs):
        serializer = ProgressUpdateCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        task = self.load_task(data["task"])
        access = task_access(request.user, task, scope=self.scope)
        check_report_access(self, access, task, changes_state=serializer.changes_state)
        version = based_on_version(self, request, task, required=serializer.changes_state)
        readings = self._readings(task, data["readings"])
        try:
            update = report_progress(
                task.pk,
                request.user,
                based_on_version=version,
                status=data.get("status"),
                percent=data.get("percent"),
                note=data["note"],
                evidence=data["files"],
                milestone_ids=data["milestones"],
                readings=readings,
            )
        except StaleVersion:
            raise _stale(self, task, version, _("任务已被他人更新：请按当前状态重新填报。")) from None
        update = self.get_queryset().select_related("task").get(pk=update.pk)
        body = CreatedProgressUpdateSerializer(update, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": f"{request.path}{update.pk}/"})

    def _readings(self, task: Task, entries: list[dict]) -> list[ReadingInput]:
        wanted = [entry["indicator"] for entry in entries]
        indicators = Indicator.objects.filter(task=task, pk__in=wanted).select_related("plan")
        by_id = {indicator.pk: indicator for indicator in indicators}
        errors, readings = [], []
        for entry in entries:
            indicator = by_id.get(entry["indicator"])
            if indicator is None:
                errors.append({"indicator": [_("所填指标不属于此任务。")]})
                continue
            try:
                value, as_of = check_reading(indicator, entry["value"], entry.get("as_of"), today=self.today)
            except ValidationError as error:
                errors.append(error.message_dict)
                continue
            errors.append({})
            readings.append(ReadingInput(indicator.pk, value, as_of, entry.get("note", "")))
        if any(errors):
            raise serializers.ValidationError({"readings": errors})
        return readings
