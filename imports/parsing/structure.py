"""From cleaned lines to the parse document: the section tree, tasks and their fields."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import confidence
from .cleaning import Line, join_hard_breaks, prime_keys, script_key
from .indicators import find_indicators
from .metadata import find_metadata, find_title, is_end_matter, signature_lines, title_like
from .milestones import find_milestones
from .numerals import cn_to_int
from .owners import Owner, announces_first_lead, heading_of, read_owner_note

Warn = Callable[[int, str], None]

_CN = "一二三四五六七八九十百零〇两"
PART_RE = re.compile(rf"^第([{_CN}\d]+)(部分|篇|章)\s*[:、.]?\s*(.*)$")
CN_RE = re.compile(rf"^([{_CN}]{{1,4}})\s*[、.]\s*(.*)$")
PCN_RE = re.compile(rf"^\(\s*([{_CN}]{{1,4}})\s*\)\s*[、.]?\s*(.*)$")
AR_RE = re.compile(r"^(\d{1,3})\s*[.、](?!\d)\s*(.*)$")
PAR_RE = re.compile(r"^(?:\(\s*(\d{1,2})\s*\)|(\d{1,2})\))\s*[、.]?\s*(.*)$")
AR_LOST_RE = re.compile(r"^(\d{1,2})(?=[\u4e00-\u9fff“《])(.*)$")
_NOT_AFTER_NUMBER = set(
    "个個家年月日号號岁歲届屆次人名万萬千百亿億张張条條所项項大批期轮輪类類级級部篇章天周週小分倍%‰"
)
# An item number glued to the end of the previous item (…工作。(市卫生健康委)2.推进…).
_EMBEDDED_AR = re.compile(r"(?<=[。;；)])\s*(\d{1,3})\s*[.、](?=[\u4e00-\u9fff“《]|\d+[\u4e00-\u9fff])")
_RUN_ON_MARK = re.compile(r"[。;；)]")
RUN_ON_RE = re.compile(r"^(\d{1,3})\s*[.、]\s*(.*)$")

PART, CN, PCN, AR, PAR = 0, 1, 2, 3, 4

# An owner note whose brackets do not pair up: "(…" at the end of an item, "…)" in its last sentence.
_OPEN_AT_END = re.compile(r"\([^()]*$")
_CLOSED_AT_START = re.compile(r"^[^()]*\)")
_DELIVERABLE = re.compile(r"(文件|档案|拟出台|拟制定|拟研究|制度清单|政策清单|成果清单)")
_TERMINAL = tuple("。!?;)”》…」』")
_EXCERPT = 30


def _label(text: str, expected_task: set[int] | None = None) -> tuple[int, str, int, str] | None:
    """(kind, token, value, rest) for a numbered line, else None."""
    lab = _numbered(text)
    if lab is not None:
        return lab
    m = AR_LOST_RE.match(text)
    if m and expected_task is not None and int(m.group(1)) in expected_task and m.group(2)[:1] not in _NOT_AFTER_NUMBER:
        return AR, m.group(1), int(m.group(1)), m.group(2).strip()
    return None


@functools.lru_cache(maxsize=4096)  # each line is labelled up to three times (title, task level, nodes)
def _numbered(text: str) -> tuple[int, str, int, str] | None:
    """_label without the reading of a lost dot, which depends on the numbers expected next."""
    m = PART_RE.match(text)
    if m:
        return PART, f"第{m.group(1)}{m.group(2)}", cn_to_int(m.group(1)) or 0, m.group(3).strip()
    m = PCN_RE.match(text)
    if m and cn_to_int(m.group(1)):
        return PCN, f"({m.group(1)})", cn_to_int(m.group(1)) or 0, m.group(2).strip()
    m = PAR_RE.match(text)
    if m:
        number = m.group(1) or m.group(2)
        return PAR, number, int(number), m.group(3).strip()
    m = CN_RE.match(text)
    if m and cn_to_int(m.group(1)):
        return CN, m.group(1), cn_to_int(m.group(1)) or 0, m.group(2).strip()
    m = AR_RE.match(text)
    if m:
        return AR, m.group(1), int(m.group(1)), m.group(2).strip()
    return None


class _Node:
    """A numbered line and the unnumbered lines that follow it."""

    __slots__ = ("kind", "last_line_no", "line_no", "parent", "parts", "rest", "role", "rule", "token", "value")

    def __init__(self, kind: int, token: str, value: int, rest: str, line_no: int, parent: _Node | None, rule: str):
        self.kind = kind
        self.token = token
        self.value = value
        self.rest = rest
        self.line_no = line_no
        self.last_line_no = line_no
        self.parent = parent
        self.parts: list[Line] = []
        self.role = ""  # "section", "task" or "merged" (a sub-item kept inside its task)
        self.rule = rule

    def path(self) -> list[str]:
        chain: list[str] = []
        node: _Node | None = self
        while node is not None:
            chain.append(node.token)
            node = node.parent
        return chain[::-1]

    def text(self) -> str:
        return "\n".join([self.rest] + [p.text for p in self.parts]).strip("\n")


def _excerpt(text: str) -> str:
    return text if len(text) <= _EXCERPT else text[:_EXCERPT] + "…"


class Dropped:
    """Body lines that end up in no section and no task, each recorded with why."""

    MESSAGES = {
        "preamble": gettext_lazy("这一段在第一个编号标题之前（引言），未导入任何任务：“%(text)s”"),
        "section_text": gettext_lazy("这一段是章节的说明文字，不属于任何编号任务，未导入：“%(text)s”"),
        "after_signature": gettext_lazy("这一段在落款之后，未导入：“%(text)s”"),
        "running_header": gettext_lazy("页眉“%(text)s”在正文中重复出现，已删除"),
        "empty_item": gettext_lazy("编号 %(text)s 下没有内容，已跳过"),
        "end_matter": gettext_lazy("落款后的“%(text)s”（抄送、附件、联系人等）未导入"),
        "table_row": gettext_lazy("表格中这一行没有任务内容，未导入：“%(text)s”"),
    }

    def __init__(self, warn: Warn):
        self.warn = warn
        self.entries: list[dict] = []

    def add(self, line: Line, reason: str, text: str | None = None) -> None:
        shown = _excerpt(text if text is not None else line.text)
        self.entries.append({"line": line.no, "reason": reason, "text": shown})
        self.warn(line.no, str(self.MESSAGES[reason] % {"text": shown}))


def _running_headers(body: Sequence[Line], title: str | None, dropped: Dropped) -> list[Line]:
    """The body without copies of the title repeated on every printed page."""
    if not title:
        return list(body)
    key = script_key(title)
    kept = []
    for line in body:
        if len(line.text) <= 60 and script_key(line.text) == key:
            dropped.add(line, "running_header")
        else:
            kept.append(line)
    return kept


def _heading_only(node: _Node) -> bool:
    """A short title line with no sentence of its own (2.重点工作举措)."""
    return not node.parts and len(node.rest) <= 30 and "。" not in node.rest and not node.rest.endswith((":", "："))


def _task_level(body: Sequence[Line]) -> int | None:
    kinds = set()
    for line in body:
        lab = _label(line.text)
        if lab and lab[3]:
            kinds.add(lab[0])
    for level in (AR, PCN, CN):
        if level in kinds:
            return level
    return PAR if PAR in kinds else None


def _read_nodes(body: Sequence[Line], skip: set[int], task_level: int | None, dropped: Dropped) -> list[_Node]:
    """Numbered lines as nodes under their parents, each with the lines that follow it."""
    nodes: list[_Node] = []
    stack: list[_Node] = []
    current: _Node | None = None
    after_signature = False
    last_number = 0
    section_task_count = 0
    level = task_level if task_level is not None else 99
    queue = list(enumerate(body))
    queue.reverse()
    while queue:
        idx, line = queue.pop()
        if idx in skip:
            current, after_signature = None, True
            if is_end_matter(line.text):
                dropped.add(line, "end_matter")
            continue
        if (current is not None and current.kind == AR) or AR_RE.match(line.text):
            line, rest = _split_run_on(line, last_number)
            if rest is not None:
                queue.append((-1, rest))
        expected = {last_number + 1} | ({1} if section_task_count == 0 else set())
        lab = _label(line.text, expected)
        if idx < 0:  # the item split off a run-on line: its number is known to be one
            m = RUN_ON_RE.match(line.text)
            lab = (AR, m.group(1), int(m.group(1)), m.group(2).strip()) if m else lab
        if lab is not None and lab[0] == PAR and current is None and level != PAR:
            lab = None  # a (1) list outside any item is text, not the start of a branch
        if lab is not None and lab[0] < level and lab[0] != AR:
            kind, token, value, rest_text = lab
            siblings = [n.value for n in stack if n.kind == kind]
            sequential = value == 1 or not siblings or value == siblings[-1] + 1
            if sequential or (len(rest_text) <= 40 and "。" not in rest_text):
                current = _push(nodes, stack, kind, token, value, rest_text, line, "section")
                section_task_count = 0
                after_signature = False
                continue
            lab = None
        if lab is not None and (lab[0] >= level or lab[0] == PAR):
            kind, token, value, rest_text = lab
            if kind == AR:
                rule = confidence.NUMBERED if AR_RE.match(line.text) else confidence.LOST_DOT
                if idx < 0:
                    rule = confidence.RUN_ON
                if value not in (last_number + 1, 1) and nodes:
                    dropped.warn(
                        line.no,
                        _("任务编号不连续：%(before)s 之后是 %(after)s") % {"before": last_number, "after": value},
                    )
                last_number = value
                section_task_count += 1
            elif kind == PAR:
                rule = confidence.SUB_ITEM
            else:
                rule = confidence.PAREN_ITEM
                section_task_count += 1
            current = _push(nodes, stack, kind, token, value, rest_text, line, rule)
            after_signature = False
            continue
        if current is not None:
            current.parts.append(line)
            current.last_line_no = line.no
        else:
            dropped.add(line, "after_signature" if after_signature else "preamble")
    return nodes


def _push(nodes, stack, kind, token, value, rest, line, rule) -> _Node:
    while stack and stack[-1].kind >= kind:
        stack.pop()
    node = _Node(kind, token, value, rest, line.no, stack[-1] if stack else None, rule)
    stack.append(node)
    nodes.append(node)
    return node


def _split_run_on(line: Line, last_number: int) -> tuple[Line, Line | None]:
    """A line holding the next item too (…。(市卫生健康委)3.推进…) as two lines."""
    own = AR_RE.match(line.text)
    number = int(own.group(1)) if own else last_number
    # _EMBEDDED_AR opens with a lookbehind, which the regex engine tries at every position: start
    # right after the first 。;；) (no match starts before it), or not at all
    mark = _RUN_ON_MARK.search(line.text)
    for m in _EMBEDDED_AR.finditer(line.text, mark.end()) if mark is not None else ():
        if int(m.group(1)) == number + 1:
            return Line(line.no, line.text[: m.start()].rstrip()), Line(line.no, line.text[m.start() :].lstrip())
    return line, None


def _decide_roles(nodes: list[_Node], task_level: int | None) -> None:
    """Each node is a section, a task, or a sub-item merged into its task.

    Each branch's tasks are its own lowest numbered level: an item with (1) sub-items under a
    bare title line is a section of them, and a (一) item carrying an owner note above the
    level the other branches use is a task.
    """
    for i, node in enumerate(nodes):
        following = nodes[i + 1] if i + 1 < len(nodes) else None
        has_child = following is not None and following.parent is node
        if node.kind == PAR:
            parent = node.parent
            if parent is None or parent.role == "section":
                node.role = "task"
            else:
                node.role = "merged"
        elif node.kind == PART:
            node.role = "section"
        elif task_level is not None and node.kind >= task_level:
            subs = has_child and following is not None and following.kind == PAR
            node.role = "section" if subs and _heading_only(node) else "task"
        elif has_child:
            node.role = "section"
        elif read_owner_note(node.text())[1]:
            node.role = "task"
            node.rule = confidence.OWNED_HEADING
        else:
            node.role = "section"


def _section_of(node: _Node) -> list[str]:
    return node.parent.path() if node.parent is not None else []


class TaskBuilder:
    """Builds the spec's task dicts; remembers an owner rule announced with 下同 for later items."""

    def __init__(self, year: int | None):
        self.year = year
        self.first_leads = False

    def build(
        self,
        section: list[str],
        number: str | None,
        text: str,
        rule: str,
        owners: Sequence[Owner] = (),
        extra_indicator_text: str | None = None,
        milestones: Sequence[dict] = (),
    ) -> dict:
        body, found = read_owner_note(text)
        if not found and "\n" in text:  # the owner note may close the first paragraph only
            first, rest = text.split("\n", 1)
            first_body, found = read_owner_note(first)
            if found:
                body = first_body + "\n" + rest
        if found and announces_first_lead(text):
            self.first_leads = True
        if self.first_leads:
            found = [o.announced() for o in found]
        names = [o.name for o in owners]
        read = list(owners) + [o for o in found if o.name not in names]
        inds = find_indicators(body)
        if extra_indicator_text:
            seen = {(i["target"], i["unit"]) for i in inds}
            inds += [
                dict(i, rule=confidence.TABLE_COLUMN)
                for i in find_indicators(extra_indicator_text)
                if (i["target"], i["unit"]) not in seen
            ]
        steps = list(milestones)
        steps += [m for m in find_milestones(body, self.year) if m not in steps]
        heading = heading_of(body)
        return {
            "section": list(section),
            "number": number,
            "heading": heading,
            "text": body.strip(),
            "owners": [o.name for o in read],
            "milestones": steps,
            "indicators": inds,
            "rule": rule,
            "confidence": confidence.task_confidence(rule, heading),
            "owner_details": [o.detail(lead=k == 0) for k, o in enumerate(read)],
        }


def parse_lines(lines: Sequence[Line], hints: dict, warn: Warn, progress: Callable[[int], None] | None = None) -> dict:
    """The parse document for a text-like plan (txt, HTML, docx paragraphs, PDF)."""
    first_heading = next(
        (i for i, line in enumerate(lines) if (lambda lab: lab is not None and lab[3])(_label(line.text))), len(lines)
    )
    title, title_at = find_title(lines[:first_heading])
    plan = find_metadata(lines, title, hints, warn)
    body_start = title_at + 1 if title_at is not None else first_heading
    body_start = min(body_start, first_heading)
    dropped = Dropped(warn)
    cover = [line for line in lines[:body_start] if title_at is None or line is not lines[title_at]]
    body = lines[body_start:]
    body = join_hard_breaks(_running_headers(body, title, dropped))
    skip = signature_lines(body)

    task_level = _task_level(body)
    if task_level is None:
        warn(lines[0].no if lines else 1, _("没有找到编号的工作任务（如“1.”“(一)”）"))
    if progress:
        progress(50)
    nodes = _read_nodes(body, skip, task_level, dropped)
    _decide_roles(nodes, task_level)
    if progress:
        progress(60)

    sections: list[dict] = []
    pending: list[tuple[_Node, list[Line]]] = []  # tasks in order, with their merged sub-item lines
    builder = TaskBuilder(plan["year"])
    prime_keys(node.rest for node in nodes if node.role == "section")  # one script conversion for them all
    for node in nodes:
        if node.role == "section":
            sections.append({"path": node.path(), "title": node.rest.rstrip("。:： ")})
            deliverables = bool(_DELIVERABLE.search(script_key(node.rest)))
            for line in node.parts:
                if deliverables and not title_like(line.text):
                    leaf = _Node(AR, "", 0, line.text, line.no, node, confidence.DELIVERABLE)
                    pending.append((leaf, []))
                else:
                    dropped.add(line, "section_text")
        elif node.role == "task":
            pending.append((node, []))
        elif pending:  # a sub-item inside the task before it
            pending[-1][1].append(Line(node.line_no, f"({node.token}){node.rest}"))
            pending[-1][1].extend(node.parts)
            pending[-1][0].last_line_no = node.last_line_no

    out_tasks = []
    for node, extra in pending:
        text = "\n".join(p for p in [node.text()] + [line.text for line in extra] if p)
        number = node.token.strip("()") or None
        if not text.strip():
            dropped.add(Line(node.line_no, ""), "empty_item", number or "")
            continue
        built = builder.build(_section_of(node), number, text, node.rule)
        if built["owners"] and (
            _OPEN_AT_END.search(text.rstrip("。 ")) or _CLOSED_AT_START.search(text.rsplit("。", 1)[-1])
        ):
            warn(node.last_line_no, _("责任单位的括号不完整，已按责任单位处理"))
        out_tasks.append(built)
    if pending:
        last, extra = pending[-1]
        tail = (extra[-1].text if extra else last.text()).rstrip()
        if tail and not tail.endswith(_TERMINAL):
            warn(last.last_line_no, _("文档似乎在此处被截断（最后一项没有结束）"))
    return {
        "plan": plan,
        "sections": sections,
        "tasks": out_tasks,
        "dropped": [{"line": line.no, "reason": "cover_letter", "text": _excerpt(line.text)} for line in cover]
        + sorted(dropped.entries, key=lambda entry: entry["line"]),
    }
