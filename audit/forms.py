"""The audit search form: every filter checked, with a Chinese message when it is wrong."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.choices import EventType, ExportFormat, Outcome


class EventFilterForm(forms.Form):
    date_from = forms.DateField(label=_("起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    username = forms.CharField(label=_("登录名"), required=False, max_length=150)
    event_type = forms.ChoiceField(
        label=_("事件类型"), required=False, choices=[("", _("全部类型")), *EventType.choices]
    )
    outcome = forms.ChoiceField(label=_("结果"), required=False, choices=[("", _("全部结果")), *Outcome.choices])
    ip_address = forms.GenericIPAddressField(
        label=_("客户端地址"), required=False, error_messages={"invalid": _("请输入有效的 IPv4 或 IPv6 地址。")}
    )
    request_id = forms.RegexField(
        label=_("请求编号"),
        required=False,
        regex=r"^[A-Za-z0-9._-]{1,64}$",
        error_messages={"invalid": _("请求编号只含字母、数字、点、下划线和连字符，最长 64 个字符。")},
    )
    object_type = forms.CharField(label=_("对象类型"), required=False, max_length=100, help_text=_("如 tasks.task"))
    object_id = forms.CharField(label=_("对象 ID"), required=False, max_length=64)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError(_("起始日期不能晚于截止日期。"))
        return cleaned

    def filter(self, events):
        """The events matching the valid filters (call after is_valid())."""
        data = self.cleaned_data
        zone = timezone.get_current_timezone()

        def start_of(day):
            return datetime.datetime.combine(day, datetime.time.min, zone)

        if data.get("date_from"):
            events = events.filter(occurred_at__gte=start_of(data["date_from"]))
        if data.get("date_to"):  # the whole day, in the site's time zone
            events = events.filter(occurred_at__lt=start_of(data["date_to"] + datetime.timedelta(days=1)))
        if data.get("username"):
            events = events.filter(username__icontains=data["username"].strip())
        for name in ("event_type", "outcome", "ip_address", "request_id", "object_id"):
            if data.get(name):
                events = events.filter(**{name: data[name].strip()})
        if data.get("object_type"):
            events = events.filter(object_type=data["object_type"].strip().lower())
        return events


class ExportForm(forms.Form):
    format = forms.ChoiceField(label=_("格式"), choices=ExportFormat.choices, initial=ExportFormat.CSV, required=False)
