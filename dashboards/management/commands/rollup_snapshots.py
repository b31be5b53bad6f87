"""`manage.py rollup_snapshots [--day YYYY-MM-DD] [--plan ID ...]`: write a day's dashboard snapshots now."""

import datetime

from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.commands import BaseCommand
from dashboards.rollup import rollup_day
from workplans.choices import PlanStatus
from workplans.models import Plan


def _day(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text.strip())
    except ValueError:
        raise CommandError(_("日期“%(day)s”无效，请按 年-月-日 填写，如 2026-03-31。") % {"day": text}) from None


class Command(BaseCommand):
    help = gettext_lazy(
        "生成某一天的进展快照（领导驾驶舱的历史趋势）：每个计划、每个部分、每个责任单位一行。"
        "同一天再次生成会替换当天已有的快照，不会重复。夜间任务每天凌晨自动生成前一天的快照。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--day", help=_("日期，格式 年-月-日（默认今天）"))
        parser.add_argument(
            "--plan",
            dest="plans",
            type=int,
            nargs="+",
            action="extend",
            metavar="ID",
            help=_("只生成这些计划的快照（默认所有执行中的计划）"),
        )

    def handle(self, *args, **options):
        day = _day(options["day"]) if options["day"] else timezone.localdate()
        plan_ids = options["plans"]
        if plan_ids:
            found = dict(Plan.objects.filter(pk__in=plan_ids).values_list("pk", "status"))
            missing = [str(pk) for pk in plan_ids if pk not in found]
            if missing:
                raise CommandError(_("计划 %(ids)s 不存在。") % {"ids": _("、").join(missing)})
            drafts = [str(pk) for pk in plan_ids if found[pk] == PlanStatus.DRAFT]
            if drafts:
                raise CommandError(_("计划 %(ids)s 是草稿，尚未发布，不生成快照。") % {"ids": _("、").join(drafts)})
        rows = rollup_day(day, plan_ids=plan_ids)
        which = _("计划 %(ids)s") % {"ids": _("、").join(map(str, plan_ids))} if plan_ids else _("所有执行中的计划")
        done = _("已为%(which)s写入 %(day)s 的进展快照 %(rows)d 行。") % {
            "which": which,
            "day": day.isoformat(),
            "rows": rows,
        }
        self.stdout.write(self.style.SUCCESS(done))
