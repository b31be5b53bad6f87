"""/api/v1/tasks/ (read; an ETag per task), with the task list's filters.

A task's ETag is its version (api.etag): a report that changes its status, percent or
milestones sends it back in If-Match (workbench.api)."""

import django_filters
from django.db.models import Exists, OuterRef, Prefetch
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.response import Response

from accounts.matching import AgencyMatcher
from accounts.models import User
from api.filters import DateFilter, DateTimeFilter, IdFilter, NameFilter, yes_no_choices
from api.viewsets import ScopedViewSet
from core.scope import get_visible_or_404
from tasks.choices import TaskStatus
from tasks.filters import PagedByKeys, TaskFilterSet
from tasks.models import Milestone, Task, TaskOwner
from tasks.risk import Risk, risk_q
from tasks.serializers import TaskSerializer, task_etag
from workplans.choices import PlanStatus
from workplans.models import Section

# --- Filters ---------------------------------------------------------------------------


class TaskApiFilterSet(TaskFilterSet):
    """The task list's filters (tasks.filters: search in either script, section subtree,
    overdue, due within, role, risk, reported this cycle) plus what systems ask for: owner
    by id or name, at risk, due range, changed since, plan status."""

    plan_id = IdFilter(field_name="plan_id", label=gettext_lazy("计划（编号）"))
    plan = NameFilter(field_name="plan__title", label=gettext_lazy("计划（标题）"))
    # Columns of the task and its plan: a row never repeats, so no DISTINCT (which would make
    # the page's count and rows compare every column at 50,000 tasks).
    status = django_filters.MultipleChoiceFilter(choices=TaskStatus.choices, distinct=False, label=gettext_lazy("状态"))
    plan_status = django_filters.MultipleChoiceFilter(
        field_name="plan__status", choices=PlanStatus.choices, distinct=False, label=gettext_lazy("计划状态")
    )
    section_id = IdFilter(method="filter_section", label=gettext_lazy("部分（编号，含下级部分）"))
    section = NameFilter(method="filter_section_label", label=gettext_lazy("部分（编号文字，如“一”，含下级部分）"))
    owner_id = IdFilter(method="filter_owner_id", label=gettext_lazy("责任单位（编号）"))
    owner = NameFilter(
        method="filter_owner_name", max_length=100, label=gettext_lazy("责任单位（全称、简称或别名，繁简均可）")
    )
    at_risk = django_filters.ChoiceFilter(
        choices=yes_no_choices(), method="filter_at_risk", label=gettext_lazy("有风险（黄色，同督办总览）")
    )
    due_after = DateFilter(field_name="due_on", lookup_expr="gte", label=gettext_lazy("完成时限不早于"))
    due_before = DateFilter(field_name="due_on", lookup_expr="lte", label=gettext_lazy("完成时限不晚于"))
    updated_since = DateTimeFilter(field_name="updated_at", lookup_expr="gte", label=gettext_lazy("此时间后有变化"))
    responsible_id = IdFilter(field_name="responsible_users", label=gettext_lazy("责任人（用户编号）"))
    responsible = NameFilter(field_name="responsible_users__username", label=gettext_lazy("责任人（登录名）"))
    # Ordering is the API's `ordering` parameter, the same on every list.
    sort = None

    class Meta:
        model = Task
        fields = []

    def filter_section_label(self, queryset, name, value):
        # Sections with this label, each with every section below it, in the tasks' plans.
        sections = Section.objects.filter(label=value.strip(), plan__in=queryset.values("plan_id"))
        return queryset.filter(section_id__in=sections.with_descendants())

    def filter_owner_id(self, queryset, name, value):
        return queryset.filter(Exists(TaskOwner.objects.filter(task=OuterRef("pk"), agency_id=value)))

    def filter_owner_name(self, queryset, name, value):
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
        # The risk rule's indexable SQL form (tasks.risk.risk_q): amber tasks are open ones due
        # from today on, which task_open_due_idx finds without reading the others.
        amber = risk_q(Risk.AMBER, self.today)
        return queryset.filter(amber) if value == "1" else queryset.exclude(amber)


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


def load_task(request, pk) -> Task:
    """A task the request's user may open, ready to serialize; 404 for any other."""
    return get_visible_or_404(request, TASKS.visible_to(request.user), pk=pk)


@extend_schema_view(
    retrieve=extend_schema(description=gettext_lazy("任务详情；ETag 响应头为任务当前版本，填报时放入 If-Match。")),
)
class TaskViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Tasks the caller may open, with owners, milestones, 责任人, risk and the caller's rights."""

    queryset = TASKS
    serializer_class = TaskSerializer
    filterset_class = TaskApiFilterSet
    ordering_fields = ["due_on", "number", "status", "percent", "last_progress_at", "updated_at", "created_at", "id"]
    ordering = ["due_on"]

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        # The task's place in its plan breaks ties, so pages never overlap.
        return queryset.order_by(*queryset.query.order_by, "plan_id", "order", "id")

    def paginate_queryset(self, queryset):
        # The count and the order on ids and sort keys, the page's 50 tasks read whole with
        # what the serializer reads (tasks.filters.PagedByKeys): the cost follows the caller's
        # scope, not the width of every task in it.
        keys = queryset.select_related(None).prefetch_related(None).values_list("pk", flat=True)
        return super().paginate_queryset(PagedByKeys(keys, self.get_queryset()))

    def retrieve(self, request, *args, **kwargs):
        task = self.get_object()
        return Response(self.get_serializer(task).data, headers={"ETag": task_etag(task)})
