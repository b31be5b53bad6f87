"""The system admin's forms: one day of the calendar, and a calendar file to import."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from workdays.choices import DayKind
from workdays.files import MAX_FILE_BYTES
from workdays.models import NAME_MAX_CHARS, check_day


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class DayForm(forms.Form):
    date = forms.DateField(label=_("日期"), widget=DateInput())
    kind = forms.ChoiceField(label=_("类型"), choices=DayKind.choices, widget=forms.RadioSelect)
    name = forms.CharField(
        label=_("节日名称"),
        max_length=NAME_MAX_CHARS,
        required=False,
        help_text=_("如 国庆节；调休上班日填所调的节日"),
    )

    def clean(self):
        cleaned = super().clean()
        day, kind = cleaned.get("date"), cleaned.get("kind")
        if day is not None and kind:
            try:
                check_day(day, kind)
            except ValidationError as problem:
                self.add_error("kind" if problem.code == "weekday_workday" else "date", problem)
        return cleaned


class DeleteDayForm(forms.Form):
    date = forms.DateField(widget=forms.HiddenInput)


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("日历文件（CSV）"),
        help_text=_("表头 date,kind,name；kind 填 休 或 班。文件中出现的年度将整体替换为文件内容，其他年度不变。"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise ValidationError(
                _("文件过大（超过 %(kb)d KB），日历文件应只有几十行。"), params={"kb": MAX_FILE_BYTES // 1024}
            )
        return upload
