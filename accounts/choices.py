"""Agency levels, and how an owner name found in a plan was matched to an agency. (The
roles are core.roles: every layer speaks of them.)"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AgencyLevel(models.TextChoices):
    NATIONAL = "national", _("国家级")
    PROVINCE = "province", _("省级")
    CITY = "city", _("市级")
    DEPARTMENT = "department", _("处室")
    DISTRICT = "district", _("区县级")
    INSTITUTION = "institution", _("直属单位")


class MatchMethod(models.TextChoices):
    """How an owner name from a plan was matched to an agency."""

    NAME = "name", _("全称一致")
    SHORT_NAME = "short_name", _("简称一致")
    ALIAS = "alias", _("别名一致")
    SCRIPT = "script", _("繁简/全半角转换后一致")
    SHORT_FORM = "short_form", _("简称推断")
    AMBIGUOUS = "ambiguous", _("多个单位可能，需人工选择")
    NONE = "none", _("未匹配")
