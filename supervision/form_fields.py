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
