"""What the import preview says about the parser's own reading: the lines it left out and
why, and the tasks, owners and indicators it read on weaker evidence, so the admin looks
at those first."""

import re
from collections import Counter
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from imports.parsing.confidence import LABELS
from imports.services import SKIP_AGENCY

# Why a line of the file is in no task (the parser's `dropped[].reason`).
DROPPED_LABELS = {
    "cover_letter": gettext_lazy("印发通知、主送单位等正文之前的内容"),
    "preamble": gettext_lazy("第一个编号标题之前的引言"),
    "section_text": gettext_lazy("章节的说明文字"),
    "after_signature": gettext_lazy("落款之后的内容"),
    "end_matter": gettext_lazy("抄送、附件、联系人等"),
    "running_header": gettext_lazy("重复的页眉页脚"),
    "empty_item": gettext_lazy("没有内容的编号"),
    "table_row": gettext_lazy("没有任务内容的表格行"),
}
OTHER_REASON = gettext_lazy("其他")

# What the reader had to do before the text could be parsed.
FORMAT_NOTES = {
    "pdf-ocr": gettext_lazy(
        "这是扫描件：文字由 OCR 识别，可能有错字、漏字或把数字认错，请对照原件逐项核对任务、责任单位和指标数值。"
    ),
    "doc": gettext_lazy("这是旧版 Word/WPS 文件，已先转换格式再解析：请留意表格和编号是否完整。"),
}


@dataclass
class Doubt:
    """One thing read on weaker evidence: where it is, what it is, and the rule that read it."""

    task: int
    kind: str
    text: str
    reason: str


# The parse document writes each warning as "line N: message" (the shared format).
_WARNING_LINE = re.compile(r"^line (\d+): (.*)$", re.S)


@dataclass
class Reading:
    format_note: str = ""
    warnings: list[tuple[int | None, str]] = field(default_factory=list)  # (line, message)
    dropped: list[tuple[str, int, list[dict]]] = field(default_factory=list)  # (label, count, lines)
    dropped_total: int = 0
    doubts: list[Doubt] = field(default_factory=list)
    doubtful_tasks: set[int] = field(default_factory=set)


def _label(rule: str | None) -> str:
    return str(LABELS.get(rule or "", "")) or str(OTHER_REASON)


def reading(doc: dict, mapping: dict) -> Reading:
    """The preview's notes on `doc` (a normalised copy of the request's own). Each task also
    gets `shown_owners`: (name, "lead" | "co" | "skipped") as the mapping would write them."""
    out = Reading(format_note=str(FORMAT_NOTES.get(doc.get("format") or "", "")))
    for warning in doc.get("warnings") or []:
        match = _WARNING_LINE.match(warning)
        out.warnings.append((int(match.group(1)), match.group(2)) if match else (None, warning))
    dropped = doc.get("dropped") or []
    counts = Counter(entry["reason"] for entry in dropped)
    for reason, count in counts.most_common():
        lines = [entry for entry in dropped if entry["reason"] == reason]
        out.dropped.append((str(DROPPED_LABELS.get(reason, OTHER_REASON)), count, lines))
    out.dropped_total = len(dropped)
    for index, task in enumerate(doc["tasks"]):
        heading = task["heading"] or task["text"][:40]
        if task.get("confidence") == "low":
            out.doubts.append(Doubt(index, _("任务"), heading, _label(task.get("rule"))))
        for owner in task.get("owner_details") or []:
            if owner.get("confidence") == "low":
                reason = _("泛指的名称，可以不作为责任单位") if owner.get("generic") else _label(owner.get("rule"))
                out.doubts.append(Doubt(index, _("责任单位"), owner["name"], reason))
        for indicator in task.get("indicators") or []:
            if indicator.get("confidence") == "low":
                kind = _("量化指标")
                out.doubts.append(Doubt(index, kind, indicator["name"], _label(indicator.get("rule"))))
        kept = [name for name in task["owners"] if mapping.get(name) != SKIP_AGENCY]
        task["shown_owners"] = [
            (name, "skipped" if name not in kept else ("lead" if name == kept[0] else "co")) for name in task["owners"]
        ]
    out.doubtful_tasks = {d.task for d in out.doubts}
    return out
