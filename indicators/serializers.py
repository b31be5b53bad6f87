"""API serializers for indicators (with the latest reading and attainment) and readings."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from api.filters import MAX_ID
from indicators.models import Indicator, Reading
from indicators.services import attained


class IndicatorSerializer(serializers.ModelSerializer):
    latest_value = serializers.DecimalField(
        max_digits=14, decimal_places=4, read_only=True, allow_null=True, label=_("最新值")
    )
    latest_as_of = serializers.DateField(read_only=True, allow_null=True, label=_("最新值统计日期"))
    met = serializers.SerializerMethodField(label=_("是否达标"), help_text=_("未填报时为 null"))

    class Meta:
        model = Indicator
        fields = [
            "id",
            "plan",
            "task",
            "name",
            "comparator",
            "target",
            "baseline_target",
            "unit",
            "due_on",
            "baseline",
            "order",
            "latest_value",
            "latest_as_of",
            "met",
        ]

    def get_met(self, indicator) -> bool | None:
        return attained(indicator.comparator, indicator.target, indicator.latest_value)


class ReadingSerializer(serializers.ModelSerializer):
    reporter_name = serializers.CharField(source="reporter.display_name", read_only=True, label=_("填报人姓名"))
    superseded_by = serializers.SerializerMethodField(
        label=_("更正后的指标值"), help_text=_("被更正时为更正值的编号，否则为 null")
    )

    class Meta:
        model = Reading
        fields = [
            "id",
            "indicator",
            "plan",
            "value",
            "as_of",
            "note",
            "reporter",
            "reporter_name",
            "progress_update",
            "created_at",
            "supersedes",
            "correction_reason",
            "superseded_by",
        ]

    def get_superseded_by(self, reading) -> int | None:
        correction = getattr(reading, "superseded_by", None)
        return correction.pk if correction is not None else None


class ReadingCorrectionSerializer(serializers.Serializer):
    """A correction of a reading: the right value (and date), and why."""

    value = serializers.CharField(max_length=40, label=_("更正后的数值"))
    as_of = serializers.DateField(
        required=False, allow_null=True, label=_("统计日期"), help_text=_("省略时沿用原值的统计日期")
    )
    reason = serializers.CharField(max_length=500, label=_("更正原因"))


class ReadingCreateSerializer(serializers.Serializer):
    """A reading of a task's indicator: checked as on the task page and saved as a progress
    update of that task (a reading without a note)."""

    indicator = serializers.IntegerField(min_value=1, max_value=MAX_ID, label=_("指标"))
    value = serializers.CharField(max_length=40, label=_("数值"), help_text=_("如 3.09；百分比指标可写 65 或 65%"))
    as_of = serializers.DateField(required=False, allow_null=True, label=_("统计日期"))
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="", label=_("备注"))
