"""Assessment's forms: the scheme (points, on/off and cap per block, the two weights), a
leader's evaluation, the freeze's confirmation, and the ranking's cycle filter."""

import datetime
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from assessment.rules import EVALUATION_MAX, EVALUATION_MIN, Block, Setting

POINTS_BOUND = Decimal("100")
WEIGHT_MAX = Decimal("10")


class VersionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class SchemeForm(VersionForm):
    """One row per block: 启用, 分值, 单位年度上限. The evaluation block has no points of its
    own (each evaluation carries its own), only on/off and a cap."""

    lead_weight = forms.DecimalField(
        label=_("牵头单位权重"), max_digits=4, decimal_places=2, min_value=Decimal("0"), max_value=WEIGHT_MAX
    )
    co_weight = forms.DecimalField(
        label=_("配合单位权重"), max_digits=4, decimal_places=2, min_value=Decimal("0"), max_value=WEIGHT_MAX
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for block in Block:
            self.fields[f"{block.value}_enabled"] = forms.BooleanField(label=_("启用"), required=False)
            if block != Block.EVALUATION:
                self.fields[f"{block.value}_points"] = forms.DecimalField(
                    label=block.label,
                    max_digits=6,
                    decimal_places=2,
                    min_value=-POINTS_BOUND,
                    max_value=POINTS_BOUND,
                )
            self.fields[f"{block.value}_cap"] = forms.DecimalField(
                label=_("上限"), required=False, max_digits=6, decimal_places=2, min_value=Decimal("0.01")
            )

    @staticmethod
    def initial_for(scheme) -> dict:
        initial = {"version": scheme.version, "lead_weight": scheme.lead_weight, "co_weight": scheme.co_weight}
        for row in scheme.rules.all():
            initial[f"{row.block}_enabled"] = row.enabled
            initial[f"{row.block}_points"] = row.points
            initial[f"{row.block}_cap"] = row.cap
        return initial

    def rows(self):
        """(block label, enabled, points or None, cap) bound fields, one per block, for the table."""
        for block in Block:
            yield (
                block,
                self[f"{block.value}_enabled"],
                self[f"{block.value}_points"] if block != Block.EVALUATION else None,
                self[f"{block.value}_cap"],
            )

    def blocks(self) -> dict[str, Setting]:
        data = self.cleaned_data
        return {
            block.value: Setting(
                bool(data.get(f"{block.value}_enabled")),
                data.get(f"{block.value}_points") if block != Block.EVALUATION else Decimal("0"),
                data.get(f"{block.value}_cap"),
            )
            for block in Block
        }


class EvaluationForm(forms.Form):
    agency = forms.TypedChoiceField(label=_("被评价单位"), coerce=int)
    points = forms.DecimalField(
        label=_("评价分"),
        max_digits=5,
        decimal_places=2,
        min_value=EVALUATION_MIN,
        max_value=EVALUATION_MAX,
        help_text=_("加分为正，减分为负，须在-5至5分之间。"),
    )
    reason = forms.CharField(label=_("评价理由"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4}), strip=True)

    def __init__(self, *args, agencies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].choices = [("", "---------"), *[(a.pk, a.name) for a in agencies]]


class FreezeForm(VersionForm):
    confirm = forms.BooleanField(
        label=_("我已核对排名和各项计分，确认冻结本年度考核结果（冻结后不可修改）"),
        error_messages={"required": _("请勾选确认后再冻结。")},
    )


class CycleForm(forms.Form):
    """?cycle=<first day of a cycle>: one cycle's items and ranking; empty is the year."""

    cycle = forms.TypedChoiceField(
        label=_("周期"), required=False, coerce=datetime.date.fromisoformat, empty_value=None
    )

    def __init__(self, *args, cycles=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cycle"].choices = [("", _("全年")), *[(c.start.isoformat(), c.label) for c in cycles]]
