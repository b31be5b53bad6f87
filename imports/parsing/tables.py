"""Task-breakdown spreadsheets (任务分解表): columns by header name, section rows, one task per row."""

import re

from . import confidence
from .cleaning import Line, clean_lines, fold_width, script_key, strip_pinyin
from .metadata import find_metadata
from .milestones import find_milestones
from .numerals import cn_to_int, find_date, month_end
from .owners import Owner, is_generic
from .owners import _parts as owner_parts
from .structure import CN_RE, PART_RE, PCN_RE, Dropped, TaskBuilder

# Header names per column role, compared on the simplified, space-free form; longer names win.
HEADERS = {
    "number": ("序号", "编号", "任务编号", "序"),
    "section": (
        "类别",
        "分类",
        "领域",
        "板块",
        "重点领域",
        "工作领域",
        "任务类别",
        "一级任务",
        "主要方面",
        "项目类别",
        "工作类别",
        "专项行动",
        "行动",
    ),
    "task": (
        "重点任务",
        "工作任务",
        "任务内容",
        "主要任务",
        "工作内容",
        "具体任务",
        "任务名称",
        "工作要点",
        "重点工作",
        "具体内容",
        "工作措施",
        "具体措施",
        "主要内容",
        "任务",
        "工作举措",
        "主要举措",
    ),
    "lead": (
        "牵头单位",
        "责任单位",
        "责任部门",
        "牵头部门",
        "主责单位",
        "负责单位",
        "责任处室",
        "牵头处室",
        "责任科室",
        "牵头科室",
        "主办单位",
    ),
    "co": ("配合单位", "协同单位", "参与单位", "配合部门", "协办单位", "协同部门", "配合处室", "配合科室", "参与部门"),
    "due": (
        "完成时限",
        "时间节点",
        "完成时间",
        "时限",
        "时间安排",
        "进度安排",
        "完成期限",
        "时间要求",
        "截止时间",
        "完成时间节点",
    ),
    "indicator": (
        "量化指标",
        "目标值",
        "预期目标",
        "指标",
        "目标任务",
        "绩效指标",
        "年度目标",
        "量化目标",
        "指标值",
        "考核指标",
    ),
}
_TITLE_SUFFIX = re.compile(r"(重点任务|主要任务|工作任务)?(任务)?(分解表|分工表|责任分解表|责任分工表|台账|清单)$")


def _header_map(row):
    found = {}
    for col, cell in enumerate(row):
        key = re.sub(r"[\s:()（）/]", "", script_key(cell))
        if not key or len(key) > 16:
            continue
        best = None
        for role, names in HEADERS.items():
            for name in names:
                matches = key == name or (len(name) >= 2 and key.startswith(name)) or (len(name) >= 3 and name in key)
                if matches and (best is None or len(name) > len(best[1])):
                    best = (role, name)
        if best and best[0] not in found:
            found[best[0]] = col
    return found


def find_header(rows):
    for i, row in enumerate(rows[:30]):
        cols = _header_map(row)
        if "task" in cols and len(cols) >= 2:
            return i, cols
    return None, None


def _cell(row, col):
    return row[col].strip() if col is not None and col < len(row) and row[col] else ""


def _due_milestones(cell, year, heading):
    """Milestones from a 完成时限 cell: 6月底前, 2022-06-30, 三季度末, 2022年12月."""
    if not cell:
        return []
    text = fold_width(cell)
    date = find_date(text)
    if date:
        return [{"due": date.isoformat(), "text": heading}]
    m = re.search(r"((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*月(?!\d)", text)
    if m and 1 <= int(m.group(2)) <= 12:
        return [{"due": month_end(int(m.group(1)), int(m.group(2))).isoformat(), "text": heading}]
    found = find_milestones(text, year)
    if not found and year:
        m = re.search(r"(\d{1,2}|[一二三四五六七八九十]{1,3})\s*月", text)
        if m and cn_to_int(m.group(1)) and 1 <= cn_to_int(m.group(1)) <= 12:
            found = [{"due": month_end(year, cn_to_int(m.group(1))).isoformat(), "text": heading}]
    return [{"due": f["due"], "text": heading} for f in found]


def _section_label(text):
    m = PART_RE.match(text)
    if m:
        return f"第{m.group(1)}{m.group(2)}", m.group(3).strip(), 0
    m = PCN_RE.match(text)
    if m:
        return f"({m.group(1)})", m.group(2).strip(), 2
    m = CN_RE.match(text)
    if m:
        return m.group(1), m.group(2).strip(), 1
    return None


def parse_sheets(sheets, preamble, warn):
    """The parse document for spreadsheet rows (xlsx, csv, or a table in a docx)."""
    pre_lines = []
    title = None
    tasks, sections = [], []
    known = set()  # section paths already listed
    plan = None
    builder = TaskBuilder(None)
    dropped = Dropped(warn)
    for sheet in sheets:
        rows = [[strip_pinyin(fold_width(c or ""))[0].strip() for c in row] for row in sheet]
        at, cols = find_header(rows)
        if at is None:
            continue
        for r in rows[:at]:
            for value in dict.fromkeys(c for c in r if c):
                pre_lines.append(value)
        if plan is None:
            lines, hints = clean_lines("\n".join([preamble, *pre_lines]), lambda n, m: None)
            for line in lines:
                if (
                    title is None
                    and re.search(r"(要点|计划|方案|任务|分解|清单|台账)", script_key(line.text))
                    and len(line.text) <= 60
                ):
                    title = line.text.strip()
            if title:
                title = _TITLE_SUFFIX.sub("", title).strip() or title
            plan = find_metadata(lines, title, hints, warn)
            builder = TaskBuilder(plan["year"])
        chain: list[tuple[int, str]] = []  # [(level, token)]

        def enter(level, token, title, chain=chain):
            while chain and chain[-1][0] >= level:
                chain.pop()
            chain.append((level, token))
            path = [t for _, t in chain]
            if tuple(path) not in known:
                known.add(tuple(path))
                sections.append({"path": path, "title": title})

        for row_no, row in enumerate(rows[at + 1 :], start=at + 2):
            values = [c for c in row if c]
            if not values:
                continue
            distinct = list(dict.fromkeys(values))
            task_text = _cell(row, cols.get("task"))
            number = _cell(row, cols.get("number"))
            label = _section_label(distinct[0])
            others = [_cell(row, cols.get(k)) for k in ("lead", "co", "due", "indicator")]
            cn_number = number and not number.isdigit() and cn_to_int(number.strip("()、. ")) and not any(others)
            if len(distinct) == 1 or (label and not task_text) or (label and number == distinct[0]) or cn_number:
                if cn_number and not label:
                    token = number.strip("、. ")
                    depth = 2 if token.startswith("(") else 1
                    label = (token, task_text, depth)
                if label:
                    token, rest, depth = label
                else:
                    token, rest, depth = distinct[0], distinct[0], 1
                if not rest and len(distinct) > 1:
                    rest = distinct[1]
                enter(depth, token, rest)
                continue
            section_cell = _cell(row, cols.get("section"))
            if section_cell:
                label = _section_label(section_cell)
                token, rest, depth = label if label else (section_cell, section_cell, 1)
                if (not chain or chain[-1] != (depth, token)) and not any(
                    lv == depth and t == token for lv, t in chain
                ):
                    enter(depth, token, rest)
            path = [t for _, t in chain]
            if not task_text:
                dropped.add(Line(row_no, " ".join(distinct)), "table_row")
                continue
            m = re.match(r"^(\d{1,3})\s*[.、](?!\d)\s*(.*)$", task_text, re.S)
            if not number and m:
                number, task_text = m.group(1), m.group(2)
            number = re.sub(r"^\((.+)\)$", r"\1", number.rstrip(".、 ")) or None
            names = owner_parts(_cell(row, cols.get("lead"))) + owner_parts(_cell(row, cols.get("co")))
            owners = [Owner(name, confidence.TABLE_COLUMN, is_generic(name)) for name in dict.fromkeys(names)]
            task = builder.build(
                path,
                number,
                task_text,
                confidence.TABLE_ROW,
                owners=owners,
                extra_indicator_text=_cell(row, cols.get("indicator")),
            )
            steps = _due_milestones(_cell(row, cols.get("due")), plan["year"], task["heading"])
            task["milestones"] = steps + [m for m in task["milestones"] if m["due"] not in {s["due"] for s in steps}]
            tasks.append(task)
    if plan is None:
        return None
    return {"plan": plan, "sections": sections, "tasks": tasks, "dropped": dropped.entries}
