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
    # Refusals: a page or endpoint the policy or the object's scope refused, a bad or
    # expired API token, a 三员 account someone else tried to change.
    ACCESS_DENIED = "access_denied", _("拒绝访问")
    # Two-factor sign-in: enrolment, a failed code, a reset by the security admin.
    OTP_ENROL = "otp_enrol", _("启用双因素认证")
    OTP_FAILED = "otp_failed", _("双因素验证失败")
    OTP_RESET = "otp_reset", _("重置双因素认证")
    RECOVERY_CODE_USED = "recovery_code_used", _("使用恢复码")
    # API tokens: minted by their own user, revoked by them, an admin, a password change
    # or a disabled account, or expired.
    TOKEN_CREATE = "token_create", _("创建接口令牌")
    TOKEN_REVOKE = "token_revoke", _("吊销接口令牌")
    # An account unlocked (by the security admin's page or the break-glass command).
    UNLOCK = "unlock", _("解除锁定")
    # Something the security admin must look at: an administrator locked out, repeated
    # refusals from one user.
    SECURITY_ALERT = "security_alert", _("安全告警")
    # A step of the supervision loop: a report submitted, signed off, returned or accepted;
    # a close-out or a change request decided (supervision.machine), with before and after.
    TRANSITION = "transition", _("流程操作")


class Outcome(models.TextChoices):
    SUCCESS = "success", _("成功")
    FAILURE = "failure", _("失败")
    DENIED = "denied", _("拒绝")


class ExportFormat(models.TextChoices):
    CSV = "csv", _("CSV（Excel 可打开）")
    XLSX = "xlsx", _("Excel 工作簿（.xlsx）")
