"""`manage.py import_plan FILE`: parse a plan file and import it, owners mapped automatically."""

import getpass
import hashlib
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management.base import CommandError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.choices import MatchMethod
from audit.choices import EventType
from audit.services import record
from core.commands import BaseCommand
from imports import services
from imports.parsing import ParseError, parse_bytes
from workplans.choices import PlanStatus
from workplans.models import Plan


class Command(BaseCommand):
    help = gettext_lazy(
        "解析并导入年度工作要点文件。责任单位按名称、简称、别名自动对应；对应不上的单位会列出并停止导入，"
        "除非使用 --create-agencies。同一文件再次导入时提示已导入，不会重复。"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help=_("计划文件：txt / htm / html / docx / pdf / xlsx / csv"))
        parser.add_argument("--year", type=int, help=_("计划年度（覆盖文件中识别出的年度）"))
        parser.add_argument("--activate", action="store_true", help=_("导入后直接设为“执行中”（默认为草稿）"))
        parser.add_argument("--create-agencies", action="store_true", help=_("为对应不上的责任单位名称新建单位"))
        parser.add_argument(
            "--update-existing",
            action="store_true",
            help=_("已有同标题同年度的计划时，作为其新版本更新（先列出差异，保留未变任务的进展）"),
        )

    def handle(self, *args, **options):
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(_("无法读取文件：%(path)s") % {"path": path}) from exc
        sha256 = hashlib.sha256(data).hexdigest()
        existing = Plan.objects.filter(source_sha256=sha256).first()
        if existing is not None:
            self.stdout.write(
                _("该文件已导入为计划“%(title)s”（%(year)d年，编号 %(id)d），未重复导入。")
                % {"title": existing.title, "year": existing.year, "id": existing.pk}
            )
            return

        try:
            document = parse_bytes(data, path.name, max_bytes=settings.PLAN_UPLOAD_MAX_BYTES)
        except ParseError as exc:
            raise CommandError(_("解析失败：%(reason)s") % {"reason": exc}) from exc
        doc = services.normalise_document(document, year=options["year"])
        matcher = services.AgencyMatcher.load()

        mapping, unmatched, loose, skipped = {}, [], [], []
        generic = services.generic_owner_names(doc)
        for name in services.owner_names(doc):
            match = matcher.match(name)
            if match.agency is not None:
                mapping[name] = match.agency.pk
                if match.method in (MatchMethod.SCRIPT, MatchMethod.SHORT_FORM):
                    loose.append(match)
            elif name in generic:
                mapping[name] = services.SKIP_AGENCY  # 各区, 有关部门: no one agency
                skipped.append(name)
            elif options["create_agencies"]:
                mapping[name] = services.CREATE_AGENCY
                unmatched.append(match)
            else:
                unmatched.append(match)
        if unmatched and not options["create_agencies"]:
            lines = [_("以下%(count)d个责任单位名称无法对应到已有单位，未导入：") % {"count": len(unmatched)}]
            for match in unmatched:
                hint = ""
                if match.candidates:
                    hint = _("（可能是：%(names)s）") % {"names": _("、").join(a.name for a in match.candidates)}
                lines.append(f"  - {match.name}{hint}")
            lines.append(
                _("请在管理后台为单位添加别名后重试，或使用 --create-agencies 新建这些单位，或通过网页导入逐个对应。")
            )
            raise CommandError("\n".join(lines))

        target = None
        meta = doc["plan"]
        if meta["title"] and isinstance(meta["year"], int):
            target = Plan.objects.filter(title=meta["title"], year=meta["year"]).order_by("-created_at").first()
        if target is not None and not options["update_existing"]:
            raise CommandError(
                _(
                    "已存在同标题同年度的计划“%(title)s”（编号 %(id)d）。如需作为其新版本更新，"
                    "请加 --update-existing（会列出差异并保留未变任务的进展）。"
                )
                % {"title": target.title, "id": target.pk}
            )
        if target is not None and not services.check_document(doc):
            self._print_diff(services.diff_plan(target, doc, mapping, matcher))

        try:
            # The plan and its 导入 audit event commit together, as from the web page.
            with transaction.atomic():
                result = services.import_document(
                    document,
                    mapping=mapping,
                    sha256=sha256,
                    source_file=ContentFile(data, name=path.name),
                    plan=target,
                    status=PlanStatus.ACTIVE if options["activate"] else None,
                    year=options["year"],
                    matcher=matcher,
                    learn_aliases=False,
                )
                if not result.duplicate:
                    record(
                        EventType.IMPORT,
                        obj=result.plan,
                        username=f"manage.py ({getpass.getuser()})",
                        detail={
                            "via": "manage.py import_plan",
                            "file": path.name,
                            "sha256": sha256,
                            "plan_status": result.plan.status,
                        },
                    )
        except services.ImportRefused as refused:
            lines = [_("文档有以下问题，未导入（可通过网页导入在预览中修改）：")]
            lines += [f"  - {p.message}" for p in refused.problems]
            raise CommandError("\n".join(lines)) from refused

        self.stdout.write(result.message)
        if result.duplicate:
            return
        if unmatched:
            self.stdout.write(_("新建单位：%(names)s") % {"names": _("、").join(m.name for m in unmatched)})
        if skipped:
            self.stdout.write(
                _("泛指的名称未作为责任单位（可在管理后台为任务补充）：%(names)s") % {"names": _("、").join(skipped)}
            )
        if loose:
            self.stdout.write(_("按繁简或简称推断对应的单位（请核对）："))
            for match in loose:
                self.stdout.write(f"  - {match.name} → {match.agency.name}")
        if doc["warnings"]:
            self.stdout.write(_("解析提示 %(count)d 条：") % {"count": len(doc["warnings"])})
            for warning in doc["warnings"]:
                self.stdout.write(f"  - {warning}")
        self.stdout.write(
            _("计划编号：%(id)d，状态：%(status)s") % {"id": result.plan.pk, "status": result.plan.get_status_display()}
        )

    def _print_diff(self, diff):
        self.stdout.write(_("将更新已有计划“%(title)s”：") % {"title": diff.plan.title})
        for change in diff.plan_changes:
            self.stdout.write(
                "  "
                + _("计划%(field)s：%(old)s → %(new)s") % {"field": change.label, "old": change.old, "new": change.new}
            )
        counts = {
            "added": len(diff.added),
            "removed": len(diff.removed),
            "changed": len(diff.changed),
            "unchanged": len(diff.unchanged),
        }
        self.stdout.write(
            "  " + _("新增 %(added)d 项、删除 %(removed)d 项、修改 %(changed)d 项、未变 %(unchanged)d 项") % counts
        )
        for change in diff.changed:
            labels = _("、").join(c.label for c in change.changes)
            task = change.task
            self.stdout.write(
                "  "
                + _("修改：%(number)s. %(heading)s（%(fields)s）")
                % {"number": task.number or "·", "heading": task.heading, "fields": labels}
            )
        for task in diff.removed:
            kept = _("（已有进展，保留）") if task.has_reports else ""
            self.stdout.write(
                "  "
                + _("删除：%(number)s. %(heading)s") % {"number": task.number or "·", "heading": task.heading}
                + kept
            )
