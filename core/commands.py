"""The base of the project's management commands."""

from django.core.management import base


class BaseCommand(base.BaseCommand):
    """Django's BaseCommand, whose `help` may be a lazy translation: argparse formats only
    a str, so `manage.py help <command>` would fail on the lazy one."""

    def create_parser(self, prog_name, subcommand, **kwargs):
        self.help = str(self.help)
        return super().create_parser(prog_name, subcommand, **kwargs)
