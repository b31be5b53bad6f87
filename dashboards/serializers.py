"""API serializers for the leaders' overview (dashboards.services.Overview), read-only."""

from urllib.parse import urlencode

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


class RowSerializer(serializers.Serializer):
    """One line of a rollup: a plan, a section, an agency, or the whole scope (id null)."""

    id = serializers.IntegerField(source="key", allow_null=True, label=_("编号"))
    label = serializers.CharField(label=_("名称"))
    tasks = serializers.IntegerField(label=_("任务数"))
    not_started = serializers.IntegerField(label=_("未开始"))
    in_progress = serializers.IntegerField(label=_("进行中"))
    done = serializers.IntegerField(label=_("已完成"))
    lagging = serializers.IntegerField(label=_("滞后"))
    on_hold = serializers.IntegerField(label=_("暂缓"))
    closed = serializers.IntegerField(label=_("已销号"))
    overdue = serializers.IntegerField(label=_("逾期"))
    at_risk = serializers.IntegerField(label=_("预警（黄）"))
    mean_percent = serializers.FloatField(label=_("平均进度"))
    report_due = serializers.IntegerField(label=_("本期应报送"))
    reported = serializers.IntegerField(label=_("本期已报送"))
    report_rate = serializers.FloatField(allow_null=True, label=_("报送率（%）"))
    tasks_query = serializers.SerializerMethodField(
        label=_("任务筛选条件"), help_text=_("/api/v1/tasks/ 的查询参数：列出此行统计的任务")
    )

    def get_tasks_query(self, row) -> str:
        # The page's drill-down link (?plan=…&section=… or ?owner=…, ids all), for the API's
        # task list, where ids go by x_id; the year and the published plans are explicit.
        params = [("year", self.context["year"]), ("plan_status", "active"), ("plan_status", "archived")]
        params += [tuple(pair.split("=", 1)) for pair in row.link.lstrip("?").split("&") if "=" in pair]
        return urlencode([(key if key in ("year", "plan_status") else f"{key}_id", value) for key, value in params])


class NoticeRowSerializer(serializers.Serializer):
    """The open 督办单 on the scope's tasks addressed to one agency, or to all (id null)."""

    id = serializers.IntegerField(source="key", allow_null=True, label=_("主送单位编号"))
    label = serializers.CharField(label=_("主送单位"))
    blue = serializers.IntegerField(label=_("蓝色督办"))
    yellow = serializers.IntegerField(label=_("黄色督办"))
    red = serializers.IntegerField(label=_("红色督办"))
    total = serializers.IntegerField(label=_("合计"))
    overdue = serializers.IntegerField(label=_("逾期未反馈"))
    outside = serializers.BooleanField(
        label=_("范围外单位"), help_text=_("主送单位不在本人范围内：它牵头、本范围配合的任务")
    )
    notices_query = serializers.SerializerMethodField(
        label=_("督办单筛选条件"),
        help_text=_("/api/v1/notices/ 的查询参数：列出此行统计的督办单；加 level= 按等级"),
    )

    def get_notices_query(self, row) -> str:
        # The page's drill-down (?state=open&agency=…&plan=…), in the API's names (x_id).
        params = [tuple(pair.split("=", 1)) for pair in row.link.lstrip("?").split("&") if "=" in pair]
        return urlencode([(key if key == "state" else f"{key}_id", value) for key, value in params])


class IndicatorRowSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="indicator.pk")
    name = serializers.CharField(source="indicator.name", label=_("指标名称"))
    plan = serializers.IntegerField(source="indicator.plan_id", label=_("计划"))
    task = serializers.IntegerField(source="indicator.task_id", allow_null=True, label=_("任务"))
    comparator = serializers.CharField(source="indicator.comparator", label=_("比较方式"))
    target = serializers.DecimalField(source="indicator.target", max_digits=14, decimal_places=4, label=_("目标值"))
    unit = serializers.CharField(source="indicator.unit", label=_("单位"))
    latest_value = serializers.DecimalField(
        source="indicator.latest_value", max_digits=14, decimal_places=4, allow_null=True, label=_("最新值")
    )
    met = serializers.BooleanField(allow_null=True, label=_("是否达标"))


class TrendPointSerializer(serializers.Serializer):
    day = serializers.DateField(label=_("日期"))
    mean_percent = serializers.FloatField(label=_("平均进度"))
    done_share = serializers.FloatField(label=_("已完成占比"))


class IndicatorCountsSerializer(serializers.Serializer):
    met = serializers.IntegerField(source="indicators_met", label=_("达标"))
    missed = serializers.IntegerField(source="indicators_missed", label=_("未达标"))
    unreported = serializers.IntegerField(source="indicators_unreported", label=_("未填报"))
    total = serializers.IntegerField(source="indicators_total", label=_("合计"))


class ReportingRowSerializer(serializers.Serializer):
    """The current cycle's reporting (supervision.rates.ReportingFigures): an agency's, or
    the whole scope's (id null). Reports count for their lead agency; co-owners' input apart."""

    id = serializers.IntegerField(source="agency_id", allow_null=True, label=_("单位编号"))
    label = serializers.CharField(label=_("单位"))
    due = serializers.IntegerField(label=_("应报送"))
    submitted = serializers.IntegerField(label=_("已报送待审核"))
    accepted = serializers.IntegerField(label=_("审核通过"))
    returned = serializers.IntegerField(label=_("退回"))
    not_submitted = serializers.IntegerField(label=_("未报送"))
    rate = serializers.FloatField(allow_null=True, label=_("报送率（%）"))
    accepted_rate = serializers.FloatField(allow_null=True, label=_("审核通过率（%）"))
    inputs_due = serializers.IntegerField(label=_("配合单位应反馈"))
    inputs_submitted = serializers.IntegerField(label=_("配合单位已反馈"))
    input_rate = serializers.FloatField(allow_null=True, label=_("配合单位反馈率（%）"))


class ReportingSerializer(serializers.Serializer):
    total = ReportingRowSerializer(label=_("合计"))
    agencies = ReportingRowSerializer(many=True, label=_("各单位"))


class OverviewSerializer(serializers.Serializer):
    year = serializers.IntegerField(label=_("年度"))
    today = serializers.DateField(label=_("统计日期"))
    computed_at = serializers.DateTimeField(allow_null=True, label=_("计算时间"))
    total = RowSerializer(label=_("合计"))
    plans = RowSerializer(many=True, label=_("各计划"))
    sections = RowSerializer(many=True, label=_("各部分（指定计划时）"))
    agencies = RowSerializer(many=True, label=_("各责任单位"))
    notices = NoticeRowSerializer(many=True, label=_("未办结督办单（各主送单位）"))
    notices_total = NoticeRowSerializer(label=_("未办结督办单（合计）"))
    indicators = IndicatorCountsSerializer(source="*", label=_("指标达标情况"))
    indicator_rows = IndicatorRowSerializer(many=True, label=_("指标"))
    trend = TrendPointSerializer(many=True, label=_("全年趋势"))
    reporting = serializers.SerializerMethodField(label=_("本期报送情况"))

    @extend_schema_field(ReportingSerializer)
    def get_reporting(self, data) -> dict | None:
        # Read per person (context "reporting"), beside the figures shared per scope.
        reporting = self.context.get("reporting")
        return None if reporting is None else ReportingSerializer(reporting).data
