"""Annual plans, their section tree, and the uploads that import them."""

import datetime
import uuid
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.history import audit_history
from workplans.choices import ImportStatus, PlanStatus, ReportingCycle

MIN_YEAR = 2000
MAX_YEAR = 2100


def plan_source_path(plan: "Plan", filename: str) -> str:
    return f"plans/{plan.year}/{filename}"


class Plan(models.Model):
    title = models.CharField(_("标题"), max_length=200)
    year = models.PositiveSmallIntegerField(_("年度"))
    issuer = models.ForeignKey(
        "accounts.Agency",
        verbose_name=_("印发单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="issued_plans",
    )
    doc_number = models.CharField(_("文号"), max_length=100, blank=True)
    issued_on = models.DateField(_("印发日期"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    reporting_cycle = models.CharField(
        _("报送周期"), max_length=16, choices=ReportingCycle.choices, default=ReportingCycle.MONTHLY
    )
    report_due_day = models.PositiveSmallIntegerField(
        _("报送截止日"),
        default=25,
        help_text=_("月报：每月第几日前报送；季报：每季度最后一个月的第几日前报送（1–28）。"),
    )
    source_file = models.FileField(_("原始文件"), upload_to=plan_source_path, blank=True)
    source_sha256 = models.CharField(_("文件摘要(SHA-256)"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    history = audit_history(verbose_name=_("计划变更记录"))

    class Meta:
        verbose_name = _("工作计划")
        verbose_name_plural = _("工作计划")
        ordering = ["-year", "title"]
        indexes = [
            # Dashboards and 我的任务 list the active plans of a year.
            models.Index(fields=["year", "status"], name="plan_year_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(year__gte=MIN_YEAR) & Q(year__lte=MAX_YEAR), name="plan_year_in_range"),
            models.CheckConstraint(
                condition=Q(report_due_day__gte=1) & Q(report_due_day__lte=28), name="plan_report_due_day_1_28"
            ),
            models.CheckConstraint(condition=Q(status__in=PlanStatus.values), name="plan_status_valid"),
            models.CheckConstraint(
                condition=Q(reporting_cycle__in=ReportingCycle.values), name="plan_reporting_cycle_valid"
            ),
            # The same bytes imported twice are one plan.
            models.UniqueConstraint(
                fields=["source_sha256"], condition=~Q(source_sha256=""), name="plan_source_sha256_unique"
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def year_end(self) -> datetime.date:
        return datetime.date(self.year, 12, 31)


class Section(models.Model):
    plan = models.ForeignKey(Plan, verbose_name=_("工作计划"), on_delete=models.CASCADE, related_name="sections")
    parent = models.ForeignKey(
        "self", verbose_name=_("上级部分"), null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    label = models.CharField(_("编号"), max_length=20, help_text=_("如 第二部分、一、(三)"))
    title = models.CharField(_("标题"), max_length=300, blank=True)
    order = models.PositiveIntegerField(_("排序"), default=0)

    history = audit_history(verbose_name=_("部分变更记录"))

    class Meta:
        verbose_name = _("计划部分")
        verbose_name_plural = _("计划部分")
        ordering = ["plan", "order", "id"]
        constraints = [
            # Target of the composite keys that keep children in the same plan.
            models.UniqueConstraint(fields=["id", "plan"], name="section_id_plan_key"),
            models.UniqueConstraint(
                fields=["plan", "parent", "label"], condition=Q(parent__isnull=False), name="section_label_unique"
            ),
            models.UniqueConstraint(
                fields=["plan", "label"], condition=Q(parent__isnull=True), name="section_top_label_unique"
            ),
            models.CheckConstraint(condition=~Q(parent=models.F("id")), name="section_not_own_parent"),
        ]

    def __str__(self):
        return f"{self.label} {self.title}".strip()


def import_upload_path(plan_import: "PlanImport", filename: str) -> str:
    # A random stored name: the original one (kept in its own field) may be anything.
    suffix = PurePath(filename).suffix.lower()[:10]
    return f"imports/{timezone.localdate():%Y/%m}/{uuid.uuid4().hex}{suffix}"


class PlanImport(models.Model):
    """One uploaded plan file on its way in: queued, parsed by a job, previewed and edited
    by an admin, then confirmed into a Plan (or failed with a Chinese message)."""

    file = models.FileField(_("上传文件"), upload_to=import_upload_path)
    original_name = models.CharField(_("原始文件名"), max_length=255)
    sha256 = models.CharField(_("文件摘要(SHA-256)"), max_length=64)
    size = models.PositiveBigIntegerField(_("文件大小(字节)"), default=0)
    status = models.CharField(_("状态"), max_length=16, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(_("解析进度"), default=0, help_text=_("0–100"))
    document = models.JSONField(_("解析结果"), null=True, blank=True, help_text=_("解析器输出的原始文档"))
    edited_document = models.JSONField(
        _("修改后的文档"), null=True, blank=True, help_text=_("管理员在预览中修改后的文档；未修改时为空")
    )
    owner_mapping = models.JSONField(
        _("责任单位对应"), default=dict, blank=True, help_text=_("计划中的单位名称 → 单位编号，或 create 表示新建")
    )
    error = models.TextField(_("错误信息"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="plan_imports",
    )
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    plan = models.ForeignKey(
        Plan,
        verbose_name=_("导入结果"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="imports",
    )
    replaces = models.ForeignKey(
        Plan,
        verbose_name=_("替换的计划"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="replacement_imports",
        help_text=_("作为新版本更新的已有计划"),
    )

    class Meta:
        verbose_name = _("计划导入")
        verbose_name_plural = _("计划导入")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The upload page looks for an earlier, still open import of the same bytes.
            models.Index(fields=["sha256", "status"], name="planimport_sha256_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress__gte=0) & Q(progress__lte=100), name="planimport_progress_0_100"
            ),
            models.CheckConstraint(condition=Q(status__in=ImportStatus.values), name="planimport_status_valid"),
        ]

    def __str__(self):
        return f"{self.original_name} ({self.get_status_display()})"

    @property
    def current_document(self) -> dict | None:
        """What the preview shows and the import writes: the admin's edit, else the parse."""
        return self.edited_document if self.edited_document is not None else self.document
