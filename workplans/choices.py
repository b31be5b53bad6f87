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
