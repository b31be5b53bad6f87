"""Run the reminder scan (and, on digest day, the leaders' digests) and send what is due,
now, in this process."""

import datetime

from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.commands import BaseCommand
from notifications.delivery import recover_stale_claims, send_batch, sendable_batches
from notifications.rules import digests_due, scan, write_digest


class Command(BaseCommand):
    help = gettext_lazy("找出今天（或 --day 指定日期）应发的提醒并立即发送。")

    def add_arguments(self, parser):
        parser.add_argument("--day", help=_("按这一天（YYYY-MM-DD）的规则扫描，默认今天"))
        parser.add_argument("--scan-only", action="store_true", help=_("只写入待发记录，不发送"))

    def handle(self, *args, day=None, scan_only=False, **options):
        try:
            when = datetime.date.fromisoformat(day) if day else timezone.localdate()
        except ValueError:
            raise CommandError(_("日期格式应为 YYYY-MM-DD：%(day)s") % {"day": day}) from None
        created = scan(when)
        for leader_id in digests_due(when):
            created += write_digest(leader_id, when)
        self.stdout.write(_("新增待发提醒 %(count)d 条") % {"count": created})
        if scan_only:
            return
        now = timezone.now()
        recover_stale_claims(now)
        totals: dict[str, int] = {}
        for ids in sendable_batches(now):
            for outcome, n in send_batch(ids, now).items():
                totals[outcome] = totals.get(outcome, 0) + n
        labels = {"sent": _("已发送"), "failed": _("失败或待重试"), "cancelled": _("已取消")}
        summary = _("，").join(
            _("%(outcome)s %(count)d 条") % {"outcome": labels[k], "count": v} for k, v in sorted(totals.items())
        ) or _("没有到时需发送的提醒")
        self.stdout.write(summary)
