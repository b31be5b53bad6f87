"""Roles (and the separation of the three administrators) and agency levels."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    STAFF = "staff", _("经办人")
    LEADER = "leader", _("领导")
    # The three administrators of 等保 2.0's separation of duties (三员分立): the system
    # admin runs the platform, the security admin grants roles and unlocks accounts, the
    # audit admin reads the trail. No person holds two of them (User's constraints).
    ADMIN = "admin", _("系统管理员")
    SECURITY = "security", _("安全管理员")
    AUDITOR = "auditor", _("审计管理员")


# The roles of the separation of duties: each needs the person behind the account.
ADMIN_ROLES = (Role.ADMIN, Role.SECURITY, Role.AUDITOR)


class AgencyLevel(models.TextChoices):
    NATIONAL = "national", _("国家级")
    PROVINCE = "province", _("省级")
    CITY = "city", _("市级")
    DEPARTMENT = "department", _("处室")
    DISTRICT = "district", _("区县级")
    INSTITUTION = "institution", _("直属单位")
