"""Plan statuses and reporting cycles."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    ACTIVE = "active", _("执行中")
    ARCHIVED = "archived", _("已归档")


class ReportingCycle(models.TextChoices):
    MONTHLY = "monthly", _("每月")
    QUARTERLY = "quarterly", _("每季度")


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    PARSING = "parsing", _("解析中")
    PARSED = "parsed", _("待确认")
    IMPORTED = "imported", _("已导入")
    FAILED = "failed", _("失败")


class MatchMethod(models.TextChoices):
    """How an owner name from a plan was matched to an agency."""

    NAME = "name", _("全称一致")
    SHORT_NAME = "short_name", _("简称一致")
    ALIAS = "alias", _("别名一致")
    SCRIPT = "script", _("繁简/全半角转换后一致")
    SHORT_FORM = "short_form", _("简称推断")
    AMBIGUOUS = "ambiguous", _("多个单位可能，需人工选择")
    NONE = "none", _("未匹配")
