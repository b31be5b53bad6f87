"""Forms on the task page: the progress report (status, percent, note, files, milestones,
indicator readings) and the choice of responsible people."""

import uuid

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from indicators.services import target_text
from tasks.choices import ALLOWED_TRANSITIONS, TaskStatus
from supervision.evidence import ACCEPT_ATTRIBUTE, check_evidence_files
from supervision.progress import EvidenceInput, ReadingEntry, check_readings

NOTE_MAX_LENGTH = 2000


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


class ProgressForm(forms.Form):
    """One progress report. Which fields appear depends on what the user may do on the task:
    co-owners get no status, percent or milestones; the server checks it again on save."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    submission = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    # Not required: a report without them is a note (or files, or readings) on the task as it is.
    status = forms.ChoiceField(label=_("状态"), choices=TaskStatus.choices, required=False)
    percent = forms.IntegerField(
        label=_("完成百分比"),
        required=False,
        min_value=0,
        max_value=100,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "step": 5}),
        error_messages={"invalid": _("请填写 0 到 100 之间的整数。")},
    )
    note = forms.CharField(
        label=_("进展说明"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("本期做了什么、下一步安排、需要协调的问题")}),
    )
    files = MultipleFileField(label=_("佐证材料"), required=False)
    milestones = forms.MultipleChoiceField(
        label=_("完成的时间节点"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, task, access, indicators=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.task, self.access = task, access
        self.indicators = list(indicators)
        self.fields["version"].initial = task.version
        self.fields["submission"].initial = uuid.uuid4().hex
        if access.can_change_status:
            allowed = {task.status, *ALLOWED_TRANSITIONS.get(task.status, ())}
            self.fields["status"].choices = [(v, label) for v, label in TaskStatus.choices if v in allowed]
            self.fields["status"].initial = task.status
            self.fields["percent"].initial = task.percent
            open_milestones = [m for m in task.milestones.all() if m.done_on is None]
            self.fields["milestones"].choices = [(str(m.pk), f"{m.due_on:%Y-%m-%d} {m.text}") for m in open_milestones]
            if not open_milestones:
                del self.fields["milestones"]
        else:
            for name in ("status", "percent", "milestones"):
                del self.fields[name]
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

    def report_kwargs(self) -> dict:
        """Arguments for tasks.services.report_progress from the cleaned form."""
        data = self.cleaned_data
        kwargs = {
            "based_on_version": data["version"],
            "submission_key": data.get("submission", ""),
            "note": data.get("note", ""),
            "evidence": data.get("files", []),
            "readings": data.get("readings", []),
        }
        if self.access.can_change_status:
            kwargs["status"], kwargs["percent"] = data.get("status") or None, data.get("percent")
            kwargs["milestone_ids"] = [int(pk) for pk in data.get("milestones", [])]
        return kwargs


class ResponsibleForm(forms.Form):
    users = forms.ModelMultipleChoiceField(
        label=_("责任人"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("牵头单位的人员；提醒优先发送给责任人。"),
    )

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["users"].queryset = candidates
