"""Load the demo agencies, users and plan (idempotent) and print the demo logins."""

import logging
import unicodedata

from django.core.management import call_command
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.commands import BaseCommand
from core.roles import Role
from demo.loader import USERS, load_demo


class Command(BaseCommand):
    help = gettext_lazy("载入演示数据（单位、各角色演示账户、一份演示工作计划），可重复运行。")

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, help=_("演示计划的年度（默认今年）"))

    def handle(self, *args, year=None, **options):
        # The demo's own writes are still recorded in the audit trail, but their log lines
        # (one per event, on the console) would bury the logins printed below.
        audit_log = logging.getLogger("audit")
        level = audit_log.level
        audit_log.setLevel(logging.WARNING)
        try:
            creds = load_demo(year)
            call_command("seed_workdays", verbosity=0)  # the holidays and 调休 days, so deadlines count them
        finally:
            audit_log.setLevel(level)
        roles = {value: str(label) for value, label in Role.choices}
        width = max(_columns(label) for label in roles.values())
        self.stdout.write(self.style.SUCCESS(_("演示数据已就绪。演示账户（仅用于本机演示）：")))
        for username, full_name, role, agency in USERS:
            label = roles[role] + " " * (width - _columns(roles[role]))
            password = _("密码：%(password)s") % {"password": creds[username]}
            self.stdout.write(f"  {label} {username:<14} {password}   ({full_name}, {agency})")
        # The administrators' second factor is theirs to enrol: no demo secret is preset.
        self.stdout.write(
            _(
                "系统管理员、安全管理员、审计管理员须两步验证：首次登录输入密码后，"
                "用手机验证器应用扫描页面上的二维码完成绑定，并保存显示的恢复码。"
            )
        )


def _columns(text: str) -> int:
    """How many terminal columns `text` takes: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
