"""The staff pages' own records: an Excel fill-in sheet (填报表) brought back, kept between
its upload and its confirmation."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SheetImportState(models.TextChoices):
    PREVIEWED = "previewed", _("待确认")
    CONFIRMED = "confirmed", _("已确认")
    DISCARDED = "discarded", _("已放弃")


class SheetImport(models.Model):
    """A filled sheet as it was read (its rows, not the file): the preview is worked out
    from these rows against the reports as they stand when the page is shown, and the
    confirmation applies them through the report service. Only a sheet that could be read
    and belongs to the uploader's agency and this cycle is ever stored."""

    plan = models.ForeignKey(
        "workplans.Plan", verbose_name=_("工作计划"), on_delete=models.CASCADE, related_name="sheet_imports"
    )
    agency = models.ForeignKey(
        "accounts.Agency", verbose_name=_("填报单位"), on_delete=models.PROTECT, related_name="sheet_imports"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("上传人"), on_delete=models.PROTECT, related_name="sheet_imports"
    )
    period_start = models.DateField(_("周期开始"))
    period_label = models.CharField(_("报送周期"), max_length=40)
    original_name = models.CharField(_("原始文件名"), max_length=255)
    sha256 = models.CharField(_("文件摘要(SHA-256)"), max_length=64)
    # [{"line", "task_id", "status", "percent", "progress", "problems", "next_steps",
    #   "report_version", "task_version"}, …] as workbench.sheets.read_sheet gives them.
    rows = models.JSONField(_("表格内容"), default=list)
    # {"applied": [task ids], "failed": [{"task_id", "line", "message"}], "stopped": "…"}
    results = models.JSONField(_("处理结果"), default=dict, blank=True)
    state = models.CharField(
        _("状态"), max_length=16, choices=SheetImportState.choices, default=SheetImportState.PREVIEWED
    )
    created_at = models.DateTimeField(_("上传时间"), default=timezone.now)
    decided_at = models.DateTimeField(_("确认或放弃时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("填报表导入")
        verbose_name_plural = _("填报表导入")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The sheet page: the user's latest imports.
            models.Index(fields=["uploaded_by", "-created_at"], name="sheetimport_user_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=SheetImportState.values), name="sheetimport_state_valid"),
        ]

    def __str__(self):
        return f"{self.original_name} · {self.period_label}"
