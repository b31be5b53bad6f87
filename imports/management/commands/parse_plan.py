"""`manage.py parse_plan FILE`: print a plan file's parse document; never touches the database."""

import json

from django.core.management.base import BaseCommand, CommandError

from imports.parsing import ParseError, parse_file


def summary(doc):
    """A human-readable digest of a parse document (for --format text)."""
    plan = doc["plan"]
    out = [
        "标题：%s" % (plan.get("title") or "（未识别）"),
        "年度：%s  发文单位：%s  文号：%s  日期：%s"
        % (
            plan.get("year") or "-",
            plan.get("issuer") or "-",
            plan.get("doc_number") or "-",
            plan.get("issued_on") or "-",
        ),
        "章节 %d 个，任务 %d 项，指标 %d 个，节点 %d 个"
        % (
            len(doc["sections"]),
            len(doc["tasks"]),
            sum(len(t["indicators"]) for t in doc["tasks"]),
            sum(len(t["milestones"]) for t in doc["tasks"]),
        ),
        "",
    ]
    titles = {tuple(s["path"]): s["title"] for s in doc["sections"]}
    shown = set()
    for task in doc["tasks"]:
        path = tuple(task["section"])
        for depth in range(1, len(path) + 1):
            if path[:depth] not in shown:
                shown.add(path[:depth])
                out.append("%s%s %s" % ("  " * (depth - 1), path[depth - 1], titles.get(path[:depth], "")))
        indent = "  " * len(path)
        owners = "（%s）" % "、".join(task["owners"]) if task["owners"] else ""
        out.append("%s%s %s%s" % (indent, task["number"] or "·", task["heading"], owners))
        for m in task["milestones"]:
            out.append("%s    节点 %s：%s" % (indent, m["due"] or "?", m["text"]))
        for i in task["indicators"]:
            out.append(
                "%s    指标 %s %s %s%s%s"
                % (indent, i["name"], i["comparator"], i["target"], i["unit"], "（%s）" % i["due"] if i["due"] else "")
            )
    if doc["warnings"]:
        out.append("")
        out.append("提示：")
        out.extend("  " + w for w in doc["warnings"])
    return "\n".join(out)


class Command(BaseCommand):
    help = "解析年度工作要点文件并输出解析结果（不写入数据库）。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="计划文件：txt / html / docx / pdf / xlsx / csv")
        parser.add_argument("--format", choices=("json", "text"), default="json", help="输出格式")

    def handle(self, *args, **options):
        try:
            doc = parse_file(options["file"])
        except ParseError as exc:
            raise CommandError(str(exc)) from exc
        if options["format"] == "text":
            self.stdout.write(summary(doc))
        else:
            self.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2))
