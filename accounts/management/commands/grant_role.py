"""Give an account a role from the shell: how a new deployment gets its first security
admin and audit admin (in the pages, roles are the security admin's alone). The same
rules as the users page apply, and the change is in the user's history."""

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.roles import change_role
from core.commands import BaseCommand
from core.roles import Role


class Command(BaseCommand):
    help = gettext_lazy("修改账户角色（首次部署时设置安全管理员、审计管理员）；管理员角色须提供工号/证件号。")

    def add_arguments(self, parser):
        parser.add_argument("username", help=_("登录名"))
        parser.add_argument("role", choices=Role.values, help=_("角色"))
        parser.add_argument(
            "--person-id", default=None, help=_("工号/证件号（系统管理员、安全管理员、审计管理员必填）")
        )

    def handle(self, *args, username, role, person_id=None, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(_("账户 %(username)s 不存在。") % {"username": username})
        try:
            changed = change_role(None, user, role, user.person_id if person_id is None else person_id)
        except ValidationError as error:
            raise CommandError(_("；").join(error.messages)) from error
        outcome = changed or _("没有变化。")
        self.stdout.write(
            self.style.SUCCESS(_("%(username)s：%(outcome)s") % {"username": username, "outcome": outcome})
        )
