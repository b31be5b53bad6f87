"""`manage.py parse_plan FILE`: print a plan file's parse document; never touches the database."""

import json

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.commands import BaseCommand
from imports.parsing import ParseError, parse_file


def summary(doc):
    """A human-readable digest of a parse document (for --format text)."""
    plan = doc["plan"]
    out = [
        _("标题：%(title)s") % {"title": plan.get("title") or _("（未识别）")},
        _("年度：%(year)s  发文单位：%(issuer)s  文号：%(doc_number)s  日期：%(issued_on)s")
        % {key: plan.get(key) or "-" for key in ("year", "issuer", "doc_number", "issued_on")},
        _("章节 %(sections)d 个，任务 %(tasks)d 项，指标 %(indicators)d 个，节点 %(milestones)d 个")
        % {
            "sections": len(doc["sections"]),
            "tasks": len(doc["tasks"]),
            "indicators": sum(len(t["indicators"]) for t in doc["tasks"]),
            "milestones": sum(len(t["milestones"]) for t in doc["tasks"]),
        },
        "",
    ]
    titles = {tuple(s["path"]): s["title"] for s in doc["sections"]}
    shown = set()
    for task in doc["tasks"]:
        path = tuple(task["section"])
        for depth in range(1, len(path) + 1):
            if path[:depth] not in shown:
                shown.add(path[:depth])
                out.append(f"{'  ' * (depth - 1)}{path[depth - 1]} {titles.get(path[:depth], '')}")
        indent = "  " * len(path)
        owners = _("（%(owners)s）") % {"owners": _("、").join(task["owners"])} if task["owners"] else ""
        out.append(f"{indent}{task['number'] or '·'} {task['heading']}{owners}")
        for m in task["milestones"]:
            out.append(indent + "    " + _("节点 %(due)s：%(text)s") % {"due": m["due"] or "?", "text": m["text"]})
        for i in task["indicators"]:
            due = _("（%(due)s）") % {"due": i["due"]} if i["due"] else ""
            out.append(f"{indent}    " + _("指标") + f" {i['name']} {i['comparator']} {i['target']}{i['unit']}{due}")
    if doc["warnings"]:
        out.append("")
        out.append(_("提示："))
        out.extend("  " + w for w in doc["warnings"])
    return "\n".join(out)


class Command(BaseCommand):
    help = gettext_lazy("解析年度工作要点文件并输出解析结果（不写入数据库）。")

    def add_arguments(self, parser):
        parser.add_argument("file", help=_("计划文件：txt / html / docx / pdf / xlsx / csv"))
        parser.add_argument("--format", choices=("json", "text"), default="json", help=_("输出格式"))

    def handle(self, *args, **options):
        try:
            doc = parse_file(options["file"])
        except ParseError as exc:
            raise CommandError(str(exc)) from exc
        if options["format"] == "text":
            self.stdout.write(summary(doc))
        else:
            self.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2))
