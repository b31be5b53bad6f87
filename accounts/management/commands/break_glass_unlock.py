"""Break-glass unlock from the server's shell, for a deployment with no security admin left
who can sign in (all locked out, or none active): in the pages only the security admin
unlocks. It refuses while any other security admin can still sign in, records 解除锁定
in the audit trail with the reason and the operating-system account that ran it, and
announces it to the administrators."""

import getpass

from django.core.management.base import CommandError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import lockout
from accounts.models import User
from audit.services import raise_alert
from core.commands import BaseCommand
from core.roles import ADMIN_ROLES, Role


def usable_security_admins(excluding: User | None) -> list[User]:
    """Security admins who can sign in and unlock in the page: active and not locked."""
    admins = User.objects.filter(role=Role.SECURITY, is_active=True).order_by("username")
    if excluding is not None:
        admins = admins.exclude(pk=excluding.pk)
    return [admin for admin in admins if not lockout.is_locked(admin.username)]


class Command(BaseCommand):
    help = gettext_lazy("紧急解锁：没有可登录的安全管理员时，在服务器上解除账户锁定（记入审计，并通知各管理员）。")

    def add_arguments(self, parser):
        parser.add_argument("username", help=_("要解锁的登录名"))
        parser.add_argument("--reason", required=True, help=_("解锁原因（记入审计记录）"))

    def handle(self, *args, username, reason, **options):
        reason = reason.strip()
        if not reason:
            raise CommandError(_("请用 --reason 说明解锁原因。"))
        user = lockout.find_account(username)
        if user is None:
            raise CommandError(_("账户 %(username)s 不存在。") % {"username": username})
        others = usable_security_admins(excluding=user)
        if others:
            names = "、".join(admin.username for admin in others)
            raise CommandError(
                _(
                    "安全管理员 %(names)s 可以登录，请由其在「锁定的账户」页面解锁；"
                    "本命令只在没有可用的安全管理员时使用。"
                )
                % {"names": names}
            )
        operator = getpass.getuser()
        with transaction.atomic():
            cleared = lockout.unlock(username=user.username)
            detail = {"break_glass": True, "reason": reason, "os_user": operator}
            lockout.record_unlock(username=user.username, ip_address="", cleared=cleared, detail=detail)
            values = {"username": user.username, "operator": operator, "reason": reason}
            raise_alert(
                "break_glass_unlock",
                title=_("已在服务器上紧急解锁账户 %(username)s") % values,
                body=_(
                    "操作系统账户 %(operator)s 用 break_glass_unlock 命令解除了 %(username)s 的锁定，原因：%(reason)s。"
                    "请核实这是否是经批准的操作。"
                )
                % values,
                roles=ADMIN_ROLES,
                user=user,
                detail=detail,
            )
        self.stdout.write(
            self.style.SUCCESS(
                _("已解锁 %(username)s（清除 %(n)d 条失败记录），已记入审计。")
                % {"username": user.username, "n": cleared}
            )
        )
