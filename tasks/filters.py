"""Filters over task lists (我的任务, and later the API): plan, year, status, overdue, due
soon, role, risk, this cycle's report, and a search that matches either script."""

import datetime

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Agency
from core.text import script_key
from tasks.choices import FINISHED, OwnerRole, TaskStatus
from tasks.models import Task, TaskOwner
from tasks.risk import Risk, risk_q
from tasks.services import owed_this_cycle_q, reported_this_cycle_q
from workplans.models import Plan, Section

MAX_DUE_WITHIN_DAYS = 366


class SearchSelect(forms.Select):
    """A <select> for a list too long to send whole (a province's plans): it renders the empty
    choice and the chosen one only, and static/js/search_select.js puts a search box before
    it that fills it from `url`, a small JSON list of what the user may see. Without script
    the chosen option stays chosen and ?plan=<id> filters as before."""

    def __init__(self, url: str, attrs=None):
        super().__init__({"data-options-url": url, **(attrs or {})})

    def optgroups(self, name, value, attrs=None):
        # Not the field's choices (a ModelChoiceIterator reads every row): the chosen ids only.
        field = getattr(self.choices, "field", None)
        rows = []
        if field is not None:
            if field.empty_label is not None:
                rows.append(("", field.empty_label))
            chosen = [v for v in value if v and str(v).isascii() and str(v).isdigit() and len(str(v)) < 19]
            if chosen:
                found = field.queryset.filter(pk__in=chosen)
                rows += [(str(obj.pk), field.label_from_instance(obj)) for obj in found]
        return [
            (None, [self.create_option(name, pk, label, pk in value, index)], index)
            for index, (pk, label) in enumerate(rows)
        ]


class PagedByKeys:
    """A list for a paginator whose count and order are worked out on `keys` (the filtered,
    ordered ids: on PostgreSQL an index-only read of the user's owner rows and of
    task_list_cover_idx) and whose page is read from `rows` whole, in one query: `pk IN (the
    page's ids)`. Sorting the scope's wide rows to show 30 or 50 of them made a list cost
    the city."""

    ordered = True

    def __init__(self, keys, rows):
        self.keys, self.rows = keys, rows

    def count(self) -> int:
        return self.keys.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, window):
        if not isinstance(window, slice):
            raise TypeError("PagedByKeys is read a page at a time")
        return self.rows.filter(pk__in=self.keys[window]).order_by(*self.keys.query.order_by)


class TaskOrdering(django_filters.OrderingFilter):
    """Sort keys named for what staff sort by; the task order in its plan breaks ties."""

    def filter(self, qs, value):
        qs = super().filter(qs, value)
        return qs.order_by(*qs.query.order_by, "plan_id", "order", "id")


def _bool_choices():
    return [("", _("全部")), ("1", _("是")), ("0", _("否"))]


class TaskFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("搜索"), method="filter_search", max_length=100)
    plan = django_filters.ModelChoiceFilter(label=_("计划"), queryset=Plan.objects.none(), empty_label=_("全部计划"))
    section = django_filters.NumberFilter(label=_("部分"), method="filter_section", min_value=1)
    owner = django_filters.ModelChoiceFilter(
        label=_("责任单位"), queryset=Agency.objects.none(), empty_label=_("全部单位"), method="filter_owner"
    )
    year = django_filters.NumberFilter(label=_("年度"), field_name="plan__year", min_value=2000, max_value=2100)
    status = django_filters.MultipleChoiceFilter(
        label=_("状态"), choices=TaskStatus.choices, widget=forms.CheckboxSelectMultiple
    )
    overdue = django_filters.ChoiceFilter(
        label=_("已逾期"), choices=_bool_choices()[1:], empty_label=_("全部"), method="filter_overdue"
    )
    due_within = django_filters.NumberFilter(
        label=_("N 天内到期"), method="filter_due_within", min_value=0, max_value=MAX_DUE_WITHIN_DAYS
    )
    role = django_filters.ChoiceFilter(
        label=_("角色"), choices=OwnerRole.choices, empty_label=_("牵头和配合"), method="filter_role"
    )
    risk = django_filters.ChoiceFilter(
        label=_("风险"), choices=Risk.choices, empty_label=_("全部"), method="filter_risk"
    )
    reported = django_filters.ChoiceFilter(
        label=_("本期已报送"), choices=_bool_choices()[1:], empty_label=_("全部"), method="filter_reported"
    )
    sort = TaskOrdering(
        label=_("排序"),
        fields=(
            ("due_on", "due"),
            ("number", "number"),
            ("status", "status"),
            ("percent", "percent"),
            ("last_progress_at", "updated"),
            ("plan__year", "year"),
        ),
        field_labels={
            "due_on": _("完成时限（早→晚）"),
            "-due": _("完成时限（晚→早）"),
            "number": _("序号"),
            "-number": _("序号（倒序）"),
            "status": _("状态"),
            "-status": _("状态（倒序）"),
            "percent": _("进度（低→高）"),
            "-percent": _("进度（高→低）"),
            "last_progress_at": _("最近更新（早→晚）"),
            "-updated": _("最近更新（新→旧）"),
            "plan__year": _("年度"),
            "-year": _("年度（新→旧）"),
        },
        empty_label=_("默认（完成时限）"),
    )

    class Meta:
        model = Task
        fields = [
            "q",
            "plan",
            "section",
            "owner",
            "year",
            "status",
            "overdue",
            "due_within",
            "role",
            "risk",
            "reported",
        ]

    def __init__(
        self, *args, plans=None, agencies=None, today: datetime.date | None = None, plan_search_url=None, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.today = today or timezone.localdate()
        if plan_search_url:
            # A page shows the plans as a search box (SearchSelect), never all of them.
            self.filters["plan"].extra["widget"] = SearchSelect(
                plan_search_url,
                attrs={"data-search-label": _("搜索计划标题或文号"), "data-more-label": _("还有更多，请输入关键词")},
            )
        if plans is not None:
            self.filters["plan"].queryset = plans
            self.form.fields["plan"].queryset = plans
        if agencies is not None:
            self.filters["owner"].queryset = agencies
            self.form.fields["owner"].queryset = agencies

    def filter_search(self, queryset, name, value):
        # Every word must appear; both sides are folded to simplified script, so 醫療 finds 医疗.
        for term in value.split():
            key = script_key(term)
            if key:
                queryset = queryset.filter(search_text__contains=key)
        return queryset

    def filter_section(self, queryset, name, value):
        # The section and every section below it.
        return queryset.filter(section_id__in=Section.objects.filter(pk=int(value)).with_descendants())

    def filter_owner(self, queryset, name, value):
        return queryset.filter(Exists(TaskOwner.objects.filter(task=OuterRef("pk"), agency=value)))

    def filter_overdue(self, queryset, name, value):
        overdue = Q(due_on__lt=self.today) & ~Q(status__in=FINISHED)
        return queryset.filter(overdue) if value == "1" else queryset.exclude(overdue)

    def filter_due_within(self, queryset, name, value):
        last = self.today + datetime.timedelta(days=int(value))
        return queryset.filter(due_on__gte=self.today, due_on__lte=last).exclude(status__in=FINISHED)

    def filter_role(self, queryset, name, value):
        return queryset.filter(is_lead=value == OwnerRole.LEAD)

    def filter_risk(self, queryset, name, value):
        # risk_q, not the CASE of risk_annotation: open tasks by due date come from an index.
        return queryset.filter(risk_q(value, self.today))

    def filter_reported(self, queryset, name, value):
        if value == "1":
            return queryset.filter(reported_this_cycle_q(self.today))
        return queryset.filter(owed_this_cycle_q(self.today))
