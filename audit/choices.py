"""What the audit trail records: event types and outcomes."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    LOGIN = "login", _("登录成功")
    LOGIN_FAILED = "login_failed", _("登录失败")
    LOCKOUT = "lockout", _("账户锁定")
    LOGIN_REFUSED = "login_refused", _("锁定期间拒绝登录")
    LOGOUT = "logout", _("退出登录")
    ROLE_CHANGE = "role_change", _("角色变更")
    PERMISSION_CHANGE = "permission_change", _("权限变更")
    IMPORT = "import", _("导入")
    EXPORT = "export", _("导出")
    CREATE = "create", _("新增")
    UPDATE = "update", _("修改")
    DELETE = "delete", _("删除")
    ADMIN_ACTION = "admin_action", _("管理操作")
    AUDIT_EXPORT = "audit_export", _("审计导出")


class Outcome(models.TextChoices):
    SUCCESS = "success", _("成功")
    FAILURE = "failure", _("失败")
    DENIED = "denied", _("拒绝")


class ExportFormat(models.TextChoices):
    CSV = "csv", _("CSV（Excel 可打开）")
    XLSX = "xlsx", _("Excel 工作簿（.xlsx）")
