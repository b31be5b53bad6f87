"""What the console keeps between a preview and its confirmation."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class UserImport(models.Model):
    """An uploaded user sheet (.xlsx/.csv), read into rows and errors for the preview, then
    confirmed (accounts created) or discarded. A bad sheet creates nothing."""

    original_name = models.CharField(_("原始文件名"), max_length=255)
    rows = models.JSONField(_("读取的行"), default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="user_imports",
    )
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("用户批量导入")
        verbose_name_plural = _("用户批量导入")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.original_name
