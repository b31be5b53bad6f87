"""Uploaded plan files on their way in: queued, parsed by a job, previewed and edited by an
admin, then confirmed into a Plan (or failed with a message saying why)."""

import uuid
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from imports.choices import ImportStatus


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
    # The admin's explicit decision on each class of gap the confirmation lists (tasks
    # without owners, indicators without names, ...): class → decision.
    decisions = models.JSONField(_("确认决定"), default=dict, blank=True)
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
        "workplans.Plan",
        verbose_name=_("导入结果"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="imports",
    )
    replaces = models.ForeignKey(
        "workplans.Plan",
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
