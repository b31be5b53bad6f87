"""What the loop's forms and the task page's progress form share: several evidence files
in one field, and one reading per indicator of the task, checked the way every report is
(supervision.evidence, supervision.progress.check_readings)."""

import uuid

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from indicators.services import target_text
from supervision.evidence import ACCEPT_ATTRIBUTE, check_evidence_files
from supervision.progress import EvidenceInput, ReadingEntry, check_readings
from tasks.choices import TaskStatus, can_transition

FULL_DONE, FULL_KEEP = "done", "keep"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (Django's documented recipe)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPT_ATTRIBUTE}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, (list, tuple)):
            return [super(MultipleFileField, self).clean(item, initial) for item in data if item]
        return [super().clean(data, initial)] if data else []


class EvidenceAndReadings(forms.Form):
    """Files and one reading per indicator of the task, checked the way the task page's
    progress form checks them (supervision.evidence, supervision.progress.check_readings)."""

    submission = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    files = MultipleFileField(label=_("佐证材料"), required=False)

    def __init__(self, *args, indicators=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["submission"].initial = uuid.uuid4().hex
        self.indicators = list(indicators)
        self.reading_fields = []
        for indicator in self.indicators:
            value_name, as_of_name = f"reading_{indicator.pk}_value", f"reading_{indicator.pk}_as_of"
            self.fields[value_name] = forms.CharField(
                label=indicator.name,
                required=False,
                max_length=40,
                help_text=_("目标：%(target)s") % {"target": target_text(indicator)},
                widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
            )
            self.fields[as_of_name] = forms.DateField(
                label=_("统计日期"),
                required=False,
                initial=timezone.localdate,
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            )
            self.reading_fields.append((indicator, self[value_name], self[as_of_name]))

    def clean_files(self):
        return [
            EvidenceInput(uploaded, kind)
            for uploaded, kind in check_evidence_files(self.cleaned_data.get("files") or [])
        ]

    def clean(self):
        cleaned = super().clean()
        entries, fields = [], []
        for indicator, value_field, as_of_field in self.reading_fields:
            raw_value = (self.data.get(value_field.html_name) or "").strip()
            if raw_value:
                entries.append(ReadingEntry(indicator.pk, raw_value, self.data.get(as_of_field.html_name)))
                fields.append((value_field.name, as_of_field.name))
        indicators = {indicator.pk: indicator for indicator in self.indicators}
        readings, errors = check_readings(indicators, entries, today=timezone.localdate())
        for (value_name, as_of_name), entry_errors in zip(fields, errors, strict=True):
            for field, messages in entry_errors.items():
                for message in messages:
                    self.add_error(as_of_name if field == "as_of" else value_name, message)
        cleaned["readings"] = readings
        return cleaned

    def add_service_errors(self, error) -> None:
        """A service's ValidationError on the form's fields (the rest on the form)."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error.messages)
            return
        for field, messages in error.message_dict.items():
            field = {"note": "progress"}.get(field, field)
            self.add_error(field if field in self.fields else None, messages)


class FullProgressQuestion(forms.Form):
    """A report that would leave the task 进行中 at 100 % is asked, by the server and not
    only the page, whether to mark it 已完成 instead (which files its close-out,
    supervision.progress) or to keep it 进行中. The form has `task`, `status` and `percent`;
    a report that leaves the task there as it was (a note on work being wrapped up) is not
    asked again."""

    at_full = forms.ChoiceField(
        label=_("进度已达 100%"),
        required=False,
        choices=[
            (FULL_DONE, _("标记为“已完成”并申请销号")),
            (FULL_KEEP, _("仍保持“进行中”（还有收尾工作）")),
        ],
        widget=forms.RadioSelect,
    )

    def reports_now(self) -> bool:
        """Whether this post writes the report (a draft is not asked)."""
        return True

    def asks_at_full(self) -> bool:
        if not {"at_full", "status"} <= set(self.fields) or not self.reports_now():
            return False
        if not can_transition(self.task.status, TaskStatus.DONE):
            return False
        status, percent = self.cleaned_data.get("status"), self.cleaned_data.get("percent")
        new_status = status or self.task.status
        new_percent = self.task.percent if percent is None else percent
        moves = (new_status, new_percent) != (self.task.status, self.task.percent)
        return moves and new_status == TaskStatus.IN_PROGRESS and new_percent == 100

    def clean(self):
        data = super().clean()
        if self.asks_at_full():
            choice = data.get("at_full")
            if choice == FULL_DONE:
                data["status"] = TaskStatus.DONE
            elif choice != FULL_KEEP:
                self.add_error(
                    "at_full",
                    _("进度为 100% 的任务通常应标记为“已完成”并申请销号。请选择：申请销号，或仍保持“进行中”。"),
                )
        return data
