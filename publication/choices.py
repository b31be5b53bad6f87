"""The vocabulary of the public progress page (政务公开): which task fields may be made
public, how often a plan's page is republished, and the states of a snapshot."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class PublicField(models.TextChoices):
    """What an admin may make public about each task. Nothing else ever is: evidence,
    scores, notices, urges, instructions, internal notes and responsible people have no
    entry here, so no setting can publish them."""

    HEADING = "heading", _("任务摘要")
    LEAD_AGENCY = "lead_agency", _("牵头单位")
    DUE_DATE = "due_date", _("完成时限")
    STATUS = "status", _("进展状态（颜色与文字）")
    PERCENT = "percent", _("完成百分比")
    NARRATIVE = "narrative", _("公开说明")


# A plan made public shows its task headings unless the admin says otherwise.
DEFAULT_FIELDS = [PublicField.HEADING.value]


class Schedule(models.TextChoices):
    MANUAL = "manual", _("手动发布")
    DAILY = "daily", _("每日自动更新")
    WEEKLY = "weekly", _("每周自动更新")


class SnapshotState(models.TextChoices):
    DRAFT = "draft", _("待审核")
    PUBLISHED = "published", _("已发布")
    SUPERSEDED = "superseded", _("已替换")
