"""Where an uploaded plan file stands on its way in."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    PARSING = "parsing", _("解析中")
    PARSED = "parsed", _("待确认")
    IMPORTED = "imported", _("已导入")
    FAILED = "failed", _("失败")
