"""The audit search: every filter checked, with a message in the user's language when it is
wrong. The search page and its export read the same FilterSet."""

import datetime

import django_filters
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.choices import EventType, Outcome
from audit.models import AuditEvent


class EventFilterForm(forms.Form):
    """The cross-field rule of the search form."""

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError(_("起始日期不能晚于截止日期。"))
        return cleaned


def _start_of(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, timezone.get_current_timezone())


class AuditEventFilterSet(django_filters.FilterSet):
    date_from = django_filters.DateFilter(
        label=_("起始日期"), method="filter_from", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = django_filters.DateFilter(
        label=_("截止日期"), method="filter_to", widget=forms.DateInput(attrs={"type": "date"})
    )
    username = django_filters.CharFilter(label=_("登录名"), method="filter_username", max_length=150)
    event_type = django_filters.ChoiceFilter(label=_("事件类型"), choices=EventType.choices, empty_label=_("全部类型"))
    outcome = django_filters.ChoiceFilter(label=_("结果"), choices=Outcome.choices, empty_label=_("全部结果"))
    ip_address = django_filters.CharFilter(label=_("客户端地址"))
    request_id = django_filters.CharFilter(label=_("请求编号"))
    object_type = django_filters.CharFilter(
        label=_("对象类型"), method="filter_object_type", max_length=100, help_text=_("如 tasks.task")
    )
    object_id = django_filters.CharFilter(label=_("对象 ID"), max_length=64)

    class Meta:
        model = AuditEvent
        fields = []
        form = EventFilterForm

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Fields whose checks Django's filter types do not make: an address and a request id.
        self.form.fields["ip_address"] = forms.GenericIPAddressField(
            label=_("客户端地址"),
            required=False,
            error_messages={"invalid": _("请输入有效的 IPv4 或 IPv6 地址。")},
        )
        self.form.fields["request_id"] = forms.RegexField(
            label=_("请求编号"),
            required=False,
            regex=r"^[A-Za-z0-9._-]{1,64}$",
            error_messages={"invalid": _("请求编号只含字母、数字、点、下划线和连字符，最长 64 个字符。")},
        )

    def filter_from(self, queryset, name, value):
        return queryset.filter(occurred_at__gte=_start_of(value))

    def filter_to(self, queryset, name, value):
        # The whole day, in the site's time zone.
        return queryset.filter(occurred_at__lt=_start_of(value + datetime.timedelta(days=1)))

    def filter_username(self, queryset, name, value):
        return queryset.filter(username__icontains=value.strip())

    def filter_object_type(self, queryset, name, value):
        return queryset.filter(object_type=value.strip().lower())

    @property
    def applied(self) -> dict[str, str]:
        """The filters in use, as text (what the export records it was asked for)."""
        if not self.is_bound or not self.is_valid():
            return {}
        return {k: str(v) for k, v in self.form.cleaned_data.items() if v not in ("", None)}
