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
        parser.add_argument(
            "--reminders",
            action="store_true",
            help=_("载入后发送今天的提醒（send_reminders），演示账户列在其输出之后"),
        )

    def handle(self, *args, year=None, reminders=False, **options):
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
        if reminders:
            # Today's reminders (the demo inbox has them; the embedded run has no beat), and
            # whatever they print (the console mail backend prints each email), before the
            # logins: the logins are what the person at the terminal needs, so they come last.
            call_command("send_reminders", stdout=self.stdout, stderr=self.stderr)
        self.stdout.flush()
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(_("演示数据已就绪。演示账户（仅用于本机演示）：")))
        roles = {value: str(label) for value, label in Role.choices}
        header = [_("角色"), _("用户名"), _("密码"), _("姓名"), _("单位")]
        rows = [
            [roles[role], username, creds[username], full_name, agency] for username, full_name, role, agency in USERS
        ]
        for line in login_table(header, rows):
            self.stdout.write("  " + line)
        # The administrators' second factor is theirs to enrol: no demo secret is preset.
        self.stdout.write(
            _(
                "系统管理员、安全管理员、审计管理员须两步验证：首次登录输入密码后，"
                "用手机验证器应用扫描页面上的二维码完成绑定，并保存显示的恢复码。"
            )
        )


def columns(text: str) -> int:
    """How many terminal columns `text` takes: a Chinese character (wide or full-width) takes
    two, so str.ljust, which counts characters, would misalign them."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def login_table(header: list[str], rows: list[list[str]], gap: int = 2) -> list[str]:
    """The rows as lines of aligned columns, padded by display width; the last column is not
    padded (no trailing blanks)."""
    table = [header, *rows]
    widths = [max(columns(row[i]) for row in table) for i in range(len(header))]
    lines = []
    for row in table:
        cells = [cell + " " * (widths[i] - columns(cell)) for i, cell in enumerate(row[:-1])]
        lines.append((" " * gap).join([*cells, row[-1]]))
    return lines
