"""The export buttons' options: the ledger's per-agency sheets and monthly columns, checked
here and stored on the Export (dashboards.exports.ledger.ledger_options reads them back)."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# What a checkbox (or a client posting by hand) may send for "yes" and for "no".
_YES = {"1", "on", "true", "yes"}
_NO = {"", "0", "off", "false", "no"}


class _Checkbox(forms.CheckboxInput):
    """A checkbox that hands the field what was posted: CheckboxInput makes any text True."""

    def value_from_datadict(self, data, files, name):
        return data.get(name)


class FlagField(forms.Field):
    """A yes/no option that refuses anything but yes or no, where BooleanField would take
    any text for yes."""

    widget = _Checkbox

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value) -> bool:
        if isinstance(value, bool):
            return value
        text = "" if value is None else str(value).strip().lower()
        if text in _YES:
            return True
        if text in _NO:
            return False
        raise ValidationError(_("“%(label)s”只能选择是或否。"), code="invalid", params={"label": self.label})


class LedgerOptionsForm(forms.Form):
    per_agency = FlagField(label=_("按牵头单位分表"), help_text=_("每个牵头单位一个工作表"))
    monthly = FlagField(label=_("逐月进展列"), help_text=_("本年度截至当月，每月一列进展"))

    def options(self) -> dict:
        """Export.options for the cleaned form: {"per_agency": bool, "monthly": bool}."""
        return {"per_agency": self.cleaned_data["per_agency"], "monthly": self.cleaned_data["monthly"]}

    def first_error(self) -> str:
        return next(str(message) for errors in self.errors.values() for message in errors)
