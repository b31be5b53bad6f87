"""The API's filters of escalation's lists (督办单, 催办, 批示), with the project's names:
`x_id` for an id, `x` for a name; each list also has the task and plan filters of the
supervision loop's lists (supervision.filters.TaskFilters)."""

import django_filters
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from api.filters import DateFilter, DateTimeFilter, IdFilter, NameFilter
from escalation.choices import (
    OPEN_NOTICE_STATES,
    InstructionState,
    Level,
    NoticeState,
    Origin,
    UrgeState,
)
from escalation.models import Instruction, Notice, Urge, overdue_q
from supervision.filters import TaskFilters

OPEN = "open"


class _IssuedBy(TaskFilters):
    issued_by_id = IdFilter(field_name="issued_by_id", label=_("发出人（编号）"))
    issued_by = NameFilter(field_name="issued_by__username", label=_("发出人（登录名）"))
    issued_after = DateTimeFilter(field_name="issued_at", lookup_expr="gte", label=_("发出时间不早于"))
    issued_before = DateTimeFilter(field_name="issued_at", lookup_expr="lte", label=_("发出时间不晚于"))


class NoticeFilterSet(_IssuedBy):
    level = django_filters.MultipleChoiceFilter(choices=Level.choices, distinct=False, label=_("督办等级"))
    state = django_filters.MultipleChoiceFilter(
        choices=[(OPEN, _("未办结")), *NoticeState.choices],
        method="filter_state",
        distinct=False,
        label=_("状态"),
        help_text=_("open 为未办结（已发出、已签收、已反馈）"),
    )
    origin = django_filters.ChoiceFilter(choices=Origin.choices, label=_("来源"))
    agency_id = IdFilter(field_name="agency_id", label=_("主送单位（编号）"))
    agency = NameFilter(field_name="agency__name", label=_("主送单位（全称）"))
    copied_to_id = IdFilter(field_name="copied_to", label=_("抄送单位（编号）"), distinct=True)
    copied_to = NameFilter(field_name="copied_to__name", label=_("抄送单位（全称）"), distinct=True)
    number = NameFilter(field_name="number", label=_("督办单编号"))
    overdue = django_filters.BooleanFilter(
        method="filter_overdue", label=_("逾期未反馈"), help_text=_("已过反馈时限而尚未反馈")
    )
    reply_due_before = DateFilter(field_name="reply_due_on", lookup_expr="lte", label=_("反馈时限不晚于"))
    answered_late = django_filters.BooleanFilter(field_name="answered_late", label=_("逾期反馈"))

    class Meta:
        model = Notice
        fields = []

    def filter_state(self, queryset, name, value):
        if not value:
            return queryset
        states = set(value) - {OPEN}
        if OPEN in value:
            states.update(OPEN_NOTICE_STATES)
        return queryset.filter(state__in=states)

    def filter_overdue(self, queryset, name, value):
        late = overdue_q(timezone.localdate())
        return queryset.filter(late) if value else queryset.exclude(late)


class UrgeFilterSet(_IssuedBy):
    state = django_filters.MultipleChoiceFilter(choices=UrgeState.choices, distinct=False, label=_("状态"))
    to_co_owners = django_filters.BooleanFilter(field_name="to_co_owners", label=_("同时催办配合单位"))
    overdue = django_filters.BooleanFilter(
        method="filter_overdue", label=_("逾期未答复"), help_text=_("已过答复时限而尚未答复")
    )

    class Meta:
        model = Urge
        fields = []

    def filter_overdue(self, queryset, name, value):
        late = {"state": UrgeState.OPEN, "reply_by__lt": timezone.localdate()}
        return queryset.filter(**late) if value else queryset.exclude(**late)


class InstructionFilterSet(_IssuedBy):
    state = django_filters.MultipleChoiceFilter(choices=InstructionState.choices, distinct=False, label=_("状态"))
    notice_id = IdFilter(field_name="notice_id", label=_("督办单（编号）"))
    notice = NameFilter(field_name="notice__number", label=_("督办单编号"))
    overdue = django_filters.BooleanFilter(
        method="filter_overdue", label=_("逾期未落实"), help_text=_("已过反馈时限而尚未反馈落实情况")
    )
    respond_by_before = DateFilter(field_name="respond_by", lookup_expr="lte", label=_("反馈时限不晚于"))

    class Meta:
        model = Instruction
        fields = []

    def filter_overdue(self, queryset, name, value):
        late = {"state": InstructionState.OPEN, "respond_by__lt": timezone.localdate()}
        return queryset.filter(**late) if value else queryset.exclude(**late)
