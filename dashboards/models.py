"""Daily rollup snapshots that dashboards read for history, export jobs (ledger, quick
bulletin), and the issued bulletins (通报) with their numbering."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.roles import OVERSIGHT_ROLES, Role
from workplans.models import Plan


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


# --- Bulletins (通报) ---------------------------------------------------------------------


class BulletinState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    ISSUED = "issued", _("已印发")


def bulletin_path(bulletin, filename):
    return f"bulletins/{bulletin.number_year or timezone.localdate().year}/{bulletin.pk or 'new'}-{filename}"


class BulletinQuerySet(models.QuerySet):
    def visible_to(self, user) -> "BulletinQuerySet":
        """The system admin reads every bulletin; the supervision office the drafts and issued
        bulletins of the plans it sees; a leader the issued bulletins of the plans their scope
        owns tasks in (a 通报 is circulated to every unit of its plan); nobody else any."""
        if not (user.is_authenticated and user.is_active) or user.role not in OVERSIGHT_ROLES:
            return self.none()
        if user.role == Role.ADMIN:
            return self
        mine = self.filter(plan__in=Plan.objects.visible_to(user).values("pk"))
        return mine if user.role == Role.SUPERVISOR else mine.filter(state=BulletinState.ISSUED)


class BulletinCounter(models.Model):
    """The last number given in the bulletins' series and year (督查通报〔2026〕3期 → 3):
    taken under a row lock at issue, so numbers run without gaps or repeats however many
    bulletins are issued at once."""

    series = models.CharField(_("编号系列"), max_length=20)
    year = models.PositiveSmallIntegerField(_("年度"))
    last = models.PositiveIntegerField(_("已用至"), default=0)

    class Meta:
        verbose_name = _("通报编号")
        verbose_name_plural = _("通报编号")
        constraints = [models.UniqueConstraint(fields=["series", "year"], name="bulletin_counter_once")]

    def __str__(self):
        return f"{self.series} {self.year}: {self.last}"


class Bulletin(models.Model):
    """A 通报 of one plan for one reporting period: drafted from the data by the supervision
    office (the figures in `data`, the opening summary pre-written from them), edited, then
    issued — numbered in the bureau's series, its data frozen and its .docx kept — after
    which it never changes. `version` guards edits against a stale page."""

    plan = models.ForeignKey(
        "workplans.Plan", verbose_name=_("工作计划"), on_delete=models.PROTECT, related_name="bulletins"
    )
    year = models.PositiveSmallIntegerField(_("计划年度"))
    period_start = models.DateField(_("通报期开始"))
    period_end = models.DateField(_("通报期结束"))
    period_due_on = models.DateField(_("本期报送截止日"))
    period_label = models.CharField(_("通报期"), max_length=40)
    compared_start = models.DateField(_("上期开始"))
    compared_end = models.DateField(_("上期结束"))
    compared_label = models.CharField(_("上期"), max_length=40)
    state = models.CharField(_("状态"), max_length=8, choices=BulletinState.choices, default=BulletinState.DRAFT)
    title = models.CharField(_("标题"), max_length=200)
    summary = models.TextField(_("总体情况概述"), blank=True, help_text=_("已按数据预填，可修改"))
    next_steps = models.TextField(_("下步要求"), blank=True, help_text=_("由督查室撰写，印发前必须填写"))
    data = models.JSONField(_("通报数据"), default=dict, blank=True)
    drafted_at = models.DateTimeField(_("数据截至"), default=timezone.now)
    series = models.CharField(_("编号系列"), max_length=20, blank=True)
    number_year = models.PositiveSmallIntegerField(_("编号年度"), null=True, blank=True)
    seq = models.PositiveIntegerField(_("期号"), null=True, blank=True)
    number = models.CharField(_("通报编号"), max_length=60, blank=True)
    docx = models.FileField(_("通报文件"), upload_to=bulletin_path, blank=True, max_length=200)
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("起草人"), on_delete=models.PROTECT, related_name="bulletins_drafted"
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("签发人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="bulletins_issued",
    )
    issued_at = models.DateTimeField(_("印发时间"), null=True, blank=True)
    version = models.PositiveIntegerField(_("版本"), default=1)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    objects = BulletinQuerySet.as_manager()

    class Meta:
        verbose_name = _("通报")
        verbose_name_plural = _("通报")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The bulletin list: a scope's plans' bulletins, newest first (leaders: issued only).
            models.Index(fields=["plan", "state", "-created_at"], name="bulletin_plan_state_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=BulletinState.values), name="bulletin_state_valid"),
            models.CheckConstraint(condition=Q(version__gte=1), name="bulletin_version_positive"),
            models.CheckConstraint(condition=Q(period_start__lte=F("period_end")), name="bulletin_period_ordered"),
            # Issued means numbered and dated; a draft has no number yet.
            models.CheckConstraint(
                condition=(Q(state=BulletinState.DRAFT) & Q(seq__isnull=True) & Q(number=""))
                | (
                    Q(state=BulletinState.ISSUED)
                    & Q(seq__isnull=False)
                    & Q(number_year__isnull=False)
                    & ~Q(number="")
                    & Q(issued_at__isnull=False)
                ),
                name="bulletin_issued_is_numbered",
            ),
            models.UniqueConstraint(fields=["series", "number_year", "seq"], name="bulletin_number_once"),
        ]

    def __str__(self):
        return self.number or self.title

    @property
    def is_draft(self) -> bool:
        return self.state == BulletinState.DRAFT
