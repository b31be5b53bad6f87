"""What a confirmation must not pass over in silence: tasks without owners, indicators
without names, sections and tasks that swallowed numbered items, owner names mapped to
nothing. Each class present needs the admin's explicit decision (PlanImport.decisions)."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from imports.services.common import SKIP_AGENCY
from imports.services.document import Problem, owner_names

OWNERLESS = "ownerless"
UNNAMED_INDICATORS = "unnamed_indicators"
SWALLOWED = "swallowed"
UNMAPPED = "unmapped"
# Not a class: the admin's tick that lets a new version overwrite values set by hand.
OVERWRITE = "overwrite"

EXEMPT = "exempt"  # import the ownerless tasks marked 无需填报
LATER = "later"  # import them as they are; owners are assigned on the plan page
DROP = "drop"  # drop the unnamed indicators
KEEP = "keep"  # the numbered items were looked at and stay as they are
SKIP = "skip"  # the names mapped to nothing are left out

LABELS = {
    OWNERLESS: gettext_lazy("没有责任单位的任务"),
    UNNAMED_INDICATORS: gettext_lazy("没有名称的量化指标"),
    SWALLOWED: gettext_lazy("含有多个编号事项的部分或任务（可能漏分了任务）"),
    UNMAPPED: gettext_lazy("没有对应到任何单位的名称"),
}
CHOICES = {
    OWNERLESS: [
        (EXEMPT, gettext_lazy("导入，并标记为“无需填报”")),
        (LATER, gettext_lazy("照常导入，我将在计划页面指定责任单位")),
    ],
    UNNAMED_INDICATORS: [(DROP, gettext_lazy("删去这些指标后导入（或返回在任务中填写名称）"))],
    SWALLOWED: [(KEEP, gettext_lazy("已核对，按现状导入（或返回在任务中拆分）"))],
    UNMAPPED: [(SKIP, gettext_lazy("这些名称不作为责任单位（或返回在上面对应单位）"))],
}


@dataclass
class GapItem:
    text: str
    task: int | None = None  # the task's index when the item is about one


@dataclass
class Gap:
    key: str
    items: list[GapItem] = field(default_factory=list)

    @property
    def label(self) -> str:
        return str(LABELS[self.key])

    @property
    def choices(self) -> list[tuple[str, str]]:
        return [(value, str(label)) for value, label in CHOICES[self.key]]


# --- Numbered items inside one text ------------------------------------------------------

_DIGITS = "一二三四五六七八九"
# Where an item marker may start: the start of the text, a line, or after a sentence's or
# clause's end (not inside a word: 统一、规范 and 第1、2季度 are no items).
_START = r"(?:^|(?<=[\s。；;：:！!？?]))"
_MARKERS = {
    # 1. 1． 1、 — not a decimal (1.5) nor a list of numbers (1、2月)
    "arabic": re.compile(_START + r"(\d{1,2})[.．、](?![\d%％、])"),
    # （一） (1) ——anywhere: the brackets are marker enough
    "bracket": re.compile(r"[（(]([一二三四五六七八九十]{1,3}|\d{1,2})[）)]"),
    # 一、
    "chinese": re.compile(_START + r"([一二三四五六七八九十]{1,3})、"),
    # ① ②
    "circled": re.compile(r"([\u2460-\u2473])"),
}


def _number(token: str) -> int | None:
    if len(token) == 1 and "\u2460" <= token <= "\u2473":  # (str.isdigit holds for ① too)
        return ord(token) - 0x2460 + 1
    if token.isascii() and token.isdigit():
        return int(token)
    if token == "十":
        return 10
    if len(token) == 1 and token in _DIGITS:
        return _DIGITS.index(token) + 1
    tens, _sep, ones = token.partition("十")
    if _sep:
        high = 1 if not tens else (_DIGITS.index(tens) + 1 if tens in _DIGITS else None)
        low = 0 if not ones else (_DIGITS.index(ones) + 1 if ones in _DIGITS else None)
        if high is not None and low is not None:
            return high * 10 + low
    return None


def numbered_items(text: str) -> list[str]:
    """The item markers of `text` when it holds a numbered list (two markers of one style
    whose numbers follow each other: 1. … 2. …, （一）…（二）…, 一、…二、…, ①…②), else [].
    One marker alone is no list: a task may cite “（一）” of another document."""
    for pattern in _MARKERS.values():
        found = [(m.group(0).strip(), _number(m.group(1))) for m in pattern.finditer(text or "")]
        numbers = {n for _marker, n in found if n is not None}
        if any(n + 1 in numbers for n in numbers):
            return [marker for marker, _n in found]
    return []


# --- The classes --------------------------------------------------------------------------


def _maps_to_someone(value) -> bool:
    return value not in (None, "", [], SKIP_AGENCY)


def find_gaps(doc: dict, mapping: dict) -> list[Gap]:
    """The classes of gap present in `doc` (normalised) under `mapping`, in a fixed order."""
    ownerless = Gap(OWNERLESS)
    unnamed = Gap(UNNAMED_INDICATORS)
    swallowed = Gap(SWALLOWED)
    unmapped = Gap(UNMAPPED)
    for section in doc["sections"]:
        markers = numbered_items(section["title"])
        if markers:
            text = _("部分“%(path)s %(title)s”含有编号：%(markers)s") % {
                "path": " / ".join(section["path"]),
                "title": section["title"][:40],
                "markers": " ".join(markers[:6]),
            }
            swallowed.items.append(GapItem(text))
    named: dict[str, int] = {}
    for index, task in enumerate(doc["tasks"]):
        heading = task["heading"] or task["text"][:40]
        if not any(_maps_to_someone(mapping.get(name)) for name in task["owners"]):
            ownerless.items.append(GapItem(heading, index))
        for indicator in task["indicators"]:
            if not indicator["name"]:
                unnamed.items.append(
                    GapItem(f"{heading}：{indicator['comparator']}{indicator['target']}{indicator['unit']}", index)
                )
        markers = numbered_items(task["text"]) or numbered_items(task["heading"])
        if markers:
            swallowed.items.append(
                GapItem(
                    _("%(heading)s（编号：%(markers)s）") % {"heading": heading, "markers": " ".join(markers[:6])},
                    index,
                )
            )
        for name in task["owners"]:
            named[name] = named.get(name, 0) + 1
    for name in owner_names(doc):
        if not _maps_to_someone(mapping.get(name)):
            unmapped.items.append(GapItem(_("%(name)s（%(n)d项任务）") % {"name": name, "n": named.get(name, 0)}))
    return [gap for gap in (ownerless, unnamed, swallowed, unmapped) if gap.items]


def missing_decisions(gaps: list[Gap], decisions: dict) -> list[Problem]:
    """One problem for each class present without a decision the class offers."""
    return [
        Problem(
            _("请对“%(label)s”（%(n)d处）作出决定：在“确认导入”中选择处理方式，或返回修改。")
            % {"label": gap.label, "n": len(gap.items)}
        )
        for gap in gaps
        if (decisions or {}).get(gap.key) not in {value for value, _label in CHOICES[gap.key]}
    ]


def apply_decisions(document: dict, mapping: dict, decisions: dict) -> tuple[dict, dict]:
    """The document and mapping as the decisions have them: unnamed indicators dropped,
    names mapped to nothing left out."""
    decisions = decisions or {}
    if decisions.get(UNNAMED_INDICATORS) == DROP:
        document = copy.deepcopy(document)
        for task in document.get("tasks") or []:
            task["indicators"] = [i for i in task.get("indicators") or [] if str(i.get("name") or "").strip()]
    if decisions.get(UNMAPPED) == SKIP:
        mapping = {name: SKIP_AGENCY if value in (None, "", []) else value for name, value in mapping.items()}
        for name in owner_names(document):
            mapping.setdefault(name, SKIP_AGENCY)
    return document, mapping


def clean_decisions(data: dict) -> dict:
    """Only the known classes with a value they offer, and the overwrite tick."""
    out: dict = {}
    for key, choices in CHOICES.items():
        if data.get(key) in {value for value, _label in choices}:
            out[key] = data[key]
    out[OVERWRITE] = bool(data.get(OVERWRITE))
    return out
