"""Daily rollup snapshots that dashboards read for history, and export jobs (ledger, bulletin)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.roles import OVERSIGHT_ROLES, Role


class SnapshotScope(models.TextChoices):
    PLAN = "plan", _("计划")
    SECTION = "section", _("部分")
    AGENCY = "agency", _("责任单位")


class Snapshot(models.Model):
    """The figures of one plan, one section of a plan, or one agency's tasks in a plan, as
    they stood at the end of one day. Written by the rollup job, one row per scope and day:
    running the rollup again for a day replaces its rows, it never adds a second set."""

    day = models.DateField(_("日期"))
    scope = models.CharField(_("范围"), max_length=8, choices=SnapshotScope.choices)
    plan = models.ForeignKey(
        "workplans.Plan", verbose_name=_("工作计划"), on_delete=models.CASCADE, related_name="snapshots"
    )
    section = models.ForeignKey(
        "workplans.Section",
        verbose_name=_("部分"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="snapshots",
    )
    agency = models.ForeignKey(
        "accounts.Agency",
        verbose_name=_("责任单位"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="snapshots",
    )
    tasks = models.PositiveIntegerField(_("任务数"), default=0)
    not_started = models.PositiveIntegerField(_("未开始"), default=0)
    in_progress = models.PositiveIntegerField(_("进行中"), default=0)
    done = models.PositiveIntegerField(_("已完成"), default=0)
    lagging = models.PositiveIntegerField(_("滞后"), default=0)
    on_hold = models.PositiveIntegerField(_("暂缓"), default=0)
    closed = models.PositiveIntegerField(_("已销号"), default=0)
    overdue = models.PositiveIntegerField(_("逾期"), default=0)
    at_risk = models.PositiveIntegerField(_("预警（黄）"), default=0)
    mean_percent = models.DecimalField(_("平均进度"), max_digits=5, decimal_places=2, default=0)
    indicators = models.PositiveIntegerField(_("指标数"), default=0)
    indicators_met = models.PositiveIntegerField(_("达标指标"), default=0)
    indicators_missed = models.PositiveIntegerField(_("未达标指标"), default=0)
    reported = models.PositiveIntegerField(_("本期已报送"), default=0)
    report_due = models.PositiveIntegerField(_("本期应报送"), default=0)
    created_at = models.DateTimeField(_("生成时间"), default=timezone.now)

    class Meta:
        verbose_name = _("进展快照")
        verbose_name_plural = _("进展快照")
        ordering = ["day", "plan", "scope", "id"]
        indexes = [
            # Trend charts: a plan's (or an agency's) rows over the days of a year.
            models.Index(fields=["scope", "plan", "day"], name="snapshot_scope_plan_day_idx"),
            models.Index(fields=["scope", "agency", "day"], name="snapshot_scope_agency_day_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(scope__in=SnapshotScope.values), name="snapshot_scope_valid"),
            # Each scope names exactly what it is about.
            models.CheckConstraint(
                condition=(Q(scope=SnapshotScope.PLAN) & Q(section__isnull=True) & Q(agency__isnull=True))
                | (Q(scope=SnapshotScope.SECTION) & Q(section__isnull=False) & Q(agency__isnull=True))
                | (Q(scope=SnapshotScope.AGENCY) & Q(section__isnull=True) & Q(agency__isnull=False)),
                name="snapshot_scope_fields",
            ),
            # One row per scope and day, so a rollup run twice leaves one snapshot.
            models.UniqueConstraint(
                fields=["day", "plan"], condition=Q(scope=SnapshotScope.PLAN), name="snapshot_one_per_plan_day"
            ),
            models.UniqueConstraint(
                fields=["day", "section"],
                condition=Q(scope=SnapshotScope.SECTION),
                name="snapshot_one_per_section_day",
            ),
            models.UniqueConstraint(
                fields=["day", "plan", "agency"],
                condition=Q(scope=SnapshotScope.AGENCY),
                name="snapshot_one_per_plan_agency_day",
            ),
        ]

    def __str__(self):
        return f"{self.day:%Y-%m-%d} {self.get_scope_display()} {self.plan_id}"


class ExportKind(models.TextChoices):
    LEDGER = "ledger", _("督办台账（Excel）")
    BULLETIN = "bulletin", _("进展通报（Word）")


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("生成中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")
    # Kept EXPORT_RETENTION_DAYS after it was built, then the file is deleted.
    EXPIRED = "expired", _("已过期")


def export_path(export, filename):
    return f"exports/{timezone.localdate():%Y/%m}/{export.pk or 'new'}-{filename}"


class ExportQuerySet(models.QuerySet):
    def visible_to(self, user) -> "ExportQuerySet":
        """An export is its requester's (while they may still export) and the system admin's."""
        if not (user.is_authenticated and user.is_active) or user.role not in OVERSIGHT_ROLES:
            return self.none()
        return self if user.role == Role.ADMIN else self.filter(requested_by=user)


class Export(models.Model):
    """A ledger or bulletin being generated by a job for one person; its progress is polled
    by the page, and only that person (or an admin) may download the file, while their
    scope still covers `scope_agencies` and for EXPORT_RETENTION_DAYS after it was built."""

    kind = models.CharField(_("类型"), max_length=16, choices=ExportKind.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="exports"
    )
    plan = models.ForeignKey(
        "workplans.Plan",
        verbose_name=_("工作计划"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="exports",
        help_text=_("留空为申请人权限范围内该年度的全部计划"),
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    status = models.CharField(_("状态"), max_length=16, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    done_rows = models.PositiveIntegerField(_("已处理行数"), default=0)
    total_rows = models.PositiveIntegerField(_("总行数"), default=0)
    file = models.FileField(_("文件"), upload_to=export_path, blank=True, max_length=200)
    filename = models.CharField(_("下载文件名"), max_length=200, blank=True)
    error = models.TextField(_("错误信息"), blank=True)
    scope_agencies = models.JSONField(
        _("覆盖单位"),
        null=True,
        blank=True,
        help_text=_("文件生成时覆盖的单位（ID 列表）；留空为全部单位。下载时须仍在下载人的权限范围内"),
    )
    options = models.JSONField(
        _("导出选项"),
        default=dict,
        blank=True,
        help_text=_("该类导出自己的选项，例如台账按单位分表、加列逐月进展"),
    )
    created_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    expired_at = models.DateTimeField(_("过期时间"), null=True, blank=True)

    objects = ExportQuerySet.as_manager()

    class Meta:
        verbose_name = _("导出任务")
        verbose_name_plural = _("导出任务")
        ordering = ["-created_at", "-id"]
        indexes = [
            # "My recent exports" on the dashboard.
            models.Index(fields=["requested_by", "-created_at"], name="export_user_created_idx"),
            # The expiry job: finished files older than the retention.
            models.Index(fields=["status", "finished_at"], name="export_status_finished_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=ExportKind.values), name="export_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=ExportStatus.values), name="export_status_valid"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.year} ({self.get_status_display()})"

    @property
    def percent(self) -> int:
        if self.status == ExportStatus.DONE:
            return 100
        return int(100 * self.done_rows / self.total_rows) if self.total_rows else 0


class TrendPoint(models.Model):
    """The sums behind the dashboards' trend line for one day and plan year: for one agency
    (its snapshot rows across every plan of the year) or, with no agency, for all plans.
    Written by the rollup from that day's snapshots, so the trend reads a few hundred rows
    a year instead of every plan's and agency's."""

    day = models.DateField(_("日期"))
    year = models.PositiveSmallIntegerField(_("计划年度"))
    agency = models.ForeignKey(
        "accounts.Agency",
        verbose_name=_("责任单位"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="trend_points",
        help_text=_("留空为全部计划的合计"),
    )
    tasks = models.PositiveIntegerField(_("任务数"), default=0)
    done = models.PositiveIntegerField(_("已完成"), default=0)
    weighted_percent = models.DecimalField(_("进度合计"), max_digits=16, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("进度趋势点")
        verbose_name_plural = _("进度趋势点")
        ordering = ["year", "day", "agency"]
        indexes = [
            # A leader's trend: their agencies' points of a year, by day.
            models.Index(fields=["year", "agency", "day"], name="trendpoint_year_agency_day_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "year", "agency"], condition=Q(agency__isnull=False), name="trendpoint_one_per_agency"
            ),
            models.UniqueConstraint(
                fields=["day", "year"], condition=Q(agency__isnull=True), name="trendpoint_one_total"
            ),
        ]

    def __str__(self):
        return f"{self.day:%Y-%m-%d} {self.year} {self.agency_id or '*'}"
