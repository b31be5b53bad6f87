"""The API's filters of the supervision loop's lists (reports, co-owner input, close-outs,
requests and their thread), with the project's names: `x_id` for an id, `x` for a name."""

import django_filters
from django.utils.translation import gettext_lazy as _

from api.filters import DateFilter, DateTimeFilter, IdFilter, NameFilter
from supervision.choices import Action, CloseOutState, InputState, ReportState, RequestKind, RequestState
from supervision.models import ChangeRequest, CloseOut, CoOwnerInput, PeriodReport, Transition


class TaskFilters(django_filters.FilterSet):
    """The task an object is about, and its plan: every list of the loop has them."""

    task_id = IdFilter(field_name="task_id", label=_("任务（编号）"))
    plan_id = IdFilter(field_name="task__plan_id", label=_("计划（编号）"))
    plan = NameFilter(field_name="task__plan__title", label=_("计划（标题）"))


class PeriodReportFilterSet(TaskFilters):
    state = django_filters.MultipleChoiceFilter(choices=ReportState.choices, distinct=False, label=_("状态"))
    period_start = DateFilter(field_name="period_start", label=_("周期开始日"))
    period_after = DateFilter(field_name="period_start", lookup_expr="gte", label=_("周期开始不早于"))
    period_before = DateFilter(field_name="period_start", lookup_expr="lte", label=_("周期开始不晚于"))
    author_id = IdFilter(field_name="author_id", label=_("填报人（编号）"))
    author = NameFilter(field_name="author__username", label=_("填报人（登录名）"))
    late = django_filters.BooleanFilter(field_name="late", label=_("逾期报送"))
    decision_due_before = DateFilter(field_name="decision_due_on", lookup_expr="lte", label=_("审核时限不晚于"))
    submitted_after = DateTimeFilter(field_name="submitted_at", lookup_expr="gte", label=_("提交时间不早于"))

    class Meta:
        model = PeriodReport
        fields = []


class CoOwnerInputFilterSet(TaskFilters):
    agency_id = IdFilter(field_name="agency_id", label=_("配合单位（编号）"))
    agency = NameFilter(field_name="agency__name", label=_("配合单位（全称）"))
    state = django_filters.MultipleChoiceFilter(choices=InputState.choices, distinct=False, label=_("状态"))
    period_start = DateFilter(field_name="period_start", label=_("周期开始日"))
    author_id = IdFilter(field_name="author_id", label=_("填报人（编号）"))
    author = NameFilter(field_name="author__username", label=_("填报人（登录名）"))
    late = django_filters.BooleanFilter(field_name="late", label=_("逾期反馈"))

    class Meta:
        model = CoOwnerInput
        fields = []


class CloseOutFilterSet(TaskFilters):
    state = django_filters.MultipleChoiceFilter(choices=CloseOutState.choices, distinct=False, label=_("状态"))
    submitted_by_id = IdFilter(field_name="submitted_by_id", label=_("申请人（编号）"))
    submitted_by = NameFilter(field_name="submitted_by__username", label=_("申请人（登录名）"))
    decided_by_id = IdFilter(field_name="decided_by_id", label=_("审核人（编号）"))
    decided_by = NameFilter(field_name="decided_by__username", label=_("审核人（登录名）"))
    submitted_after = DateTimeFilter(field_name="submitted_at", lookup_expr="gte", label=_("申请时间不早于"))
    decision_due_before = DateFilter(field_name="decision_due_on", lookup_expr="lte", label=_("审核时限不晚于"))

    class Meta:
        model = CloseOut
        fields = []


class ChangeRequestFilterSet(TaskFilters):
    kind = django_filters.MultipleChoiceFilter(choices=RequestKind.choices, distinct=False, label=_("申请类型"))
    state = django_filters.MultipleChoiceFilter(choices=RequestState.choices, distinct=False, label=_("状态"))
    filed_by_id = IdFilter(field_name="filed_by_id", label=_("申请人（编号）"))
    filed_by = NameFilter(field_name="filed_by__username", label=_("申请人（登录名）"))
    filed_late = django_filters.BooleanFilter(field_name="filed_late", label=_("逾期申请"))
    filed_after = DateTimeFilter(field_name="filed_at", lookup_expr="gte", label=_("申请时间不早于"))
    decision_due_before = DateFilter(field_name="decision_due_on", lookup_expr="lte", label=_("审核时限不晚于"))

    class Meta:
        model = ChangeRequest
        fields = []


SUBJECTS = {"report": "report", "co_input": "co_input", "close_out": "close_out", "request": "request"}


class TransitionFilterSet(TaskFilters):
    subject = django_filters.ChoiceFilter(
        choices=[
            ("report", _("周期报送")),
            ("co_input", _("配合单位反馈")),
            ("close_out", _("销号申请")),
            ("request", _("延期/调整申请")),
        ],
        method="filter_subject",
        label=_("事项类型"),
    )
    action = django_filters.MultipleChoiceFilter(choices=Action.choices, distinct=False, label=_("操作"))
    actor_id = IdFilter(field_name="actor_id", label=_("操作人（编号）"))
    actor = NameFilter(field_name="actor__username", label=_("操作人（登录名）"))
    created_after = DateTimeFilter(field_name="created_at", lookup_expr="gte", label=_("时间不早于"))

    class Meta:
        model = Transition
        fields = []

    def filter_subject(self, queryset, name, value):
        return queryset.filter(**{f"{SUBJECTS[value]}__isnull": False})
