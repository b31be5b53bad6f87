"""Load the demo agencies, users and plan (idempotent) and print the demo logins."""

from django.core.management.base import BaseCommand

from accounts.choices import Role
from accounts.demo import USERS, load_demo


class Command(BaseCommand):
    help = "载入演示数据（单位、各角色演示账户、一份演示工作计划），可重复运行。"

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, help="演示计划的年度（默认今年）")

    def handle(self, *args, year=None, **options):
        creds = load_demo(year)
        roles = dict(Role.choices)
        self.stdout.write(self.style.SUCCESS("演示数据已就绪。演示账户（仅用于本机演示）："))
        for username, full_name, role, agency in USERS:
            self.stdout.write(f"  {roles[role]:<4} {username:<14} 密码: {creds[username]}   ({full_name}, {agency})")
