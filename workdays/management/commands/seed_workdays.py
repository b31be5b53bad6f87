"""`manage.py seed_workdays [--year YYYY ...]`: the working-day calendar from chinesecalendar
(workdays.seed says why this is a command and not a data migration)."""

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.commands import BaseCommand
from workdays.models import MAX_YEAR, MIN_YEAR
from workdays.seed import package_available, package_version, seed


def _years(text: str) -> int:
    try:
        year = int(text)
    except ValueError:
        year = 0
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise CommandError(
            _("年度“%(year)s”无效，应为 %(min)d 至 %(max)d 之间的年份。")
            % {"year": text, "min": MIN_YEAR, "max": MAX_YEAR}
        )
    return year


class Command(BaseCommand):
    help = gettext_lazy(
        "从 chinesecalendar 软件包写入法定节假日和调休上班日。默认只写入日历中还没有任何日期的年度；"
        "用 --year 指定年度时按软件包逐日补齐、更正，但不改动管理员手工维护或文件导入的日期，也不删除。可重复运行。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--year",
            dest="years",
            type=_years,
            nargs="+",
            action="extend",
            metavar="YYYY",
            help=_("只处理这些年度"),
        )

    def handle(self, *args, years=None, **options):
        if not package_available():
            raise CommandError(_("未安装 chinesecalendar 软件包，无法写入；可在“工作日历”页面导入日历文件。"))
        result = seed(years)
        if options["verbosity"] < 1:
            return
        for year in result.missing:
            self.stdout.write(
                self.style.WARNING(
                    _("chinesecalendar %(version)s 没有 %(year)d 年的数据：请在“工作日历”页面维护或导入。")
                    % {"version": package_version(), "year": year}
                )
            )
        if result.skipped:
            years_text = _("、").join(str(year) for year in result.skipped)
            self.stdout.write(_("%(years)s 年已有日历，未改动（用 --year 可按软件包补齐）。") % {"years": years_text})
        for year in sorted(set(result.added) | set(result.changed) | set(result.kept)):
            self.stdout.write(
                _("%(year)d 年：新增 %(added)d 天，更正 %(changed)d 天，保留管理员维护的 %(kept)d 天。")
                % {
                    "year": year,
                    "added": result.added.get(year, 0),
                    "changed": result.changed.get(year, 0),
                    "kept": result.kept.get(year, 0),
                }
            )
        self.stdout.write(self.style.SUCCESS(_("工作日历已就绪。")))
