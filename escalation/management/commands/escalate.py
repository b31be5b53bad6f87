"""`manage.py escalate [--day YYYY-MM-DD] [--any-day]`: the 督办单 ladder for one day, as the
beat job runs it (nothing on a day off unless --any-day). Safe to run again: what was
issued is not issued twice."""

import datetime

from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.commands import BaseCommand
from escalation import ladder
from workdays.services import is_working_day


class Command(BaseCommand):
    help = gettext_lazy("按规则下发当日督办单（非工作日不下发）。")

    def add_arguments(self, parser):
        parser.add_argument("--day", help=_("YYYY-MM-DD（默认今天）"))
        parser.add_argument("--any-day", action="store_true", help=_("非工作日也运行"))

    def handle(self, *args, day=None, any_day=False, **options):
        try:
            when = datetime.date.fromisoformat(day) if day else timezone.localdate()
        except ValueError:
            raise CommandError(_("日期格式应为 YYYY-MM-DD：%(day)s") % {"day": day}) from None
        if not any_day and not is_working_day(when):
            self.stdout.write(_("%(day)s 不是工作日，未下发督办单。") % {"day": when.isoformat()})
            return
        result = ladder.run(when)
        self.stdout.write(
            _("%(day)s：下发蓝色 %(blue)d、黄色 %(yellow)d、红色 %(red)d 份，随销号办结 %(closed)d 项。")
            % {"day": when.isoformat(), "closed": result.closed, **result.issued}
        )
