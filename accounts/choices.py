"""Roles, agency levels and login outcomes."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    STAFF = "staff", _("经办人")
    LEADER = "leader", _("领导")
    ADMIN = "admin", _("管理员")
    AUDITOR = "auditor", _("审计员")


class AgencyLevel(models.TextChoices):
    NATIONAL = "national", _("国家级")
    PROVINCE = "province", _("省级")
    CITY = "city", _("市级")
    DEPARTMENT = "department", _("处室")
    DISTRICT = "district", _("区县级")
    INSTITUTION = "institution", _("直属单位")


class LoginOutcome(models.TextChoices):
    SUCCESS = "success", _("登录成功")
    FAILURE = "failure", _("登录失败")
    LOCKED = "locked", _("触发锁定")
    REFUSED = "refused", _("锁定期间拒绝")
    LOGOUT = "logout", _("退出登录")
