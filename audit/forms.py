"""The audit export's choice of format (the search itself is audit.filters)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from audit.choices import ExportFormat


class ExportForm(forms.Form):
    format = forms.ChoiceField(label=_("格式"), choices=ExportFormat.choices, initial=ExportFormat.CSV, required=False)
