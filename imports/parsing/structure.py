"""From cleaned lines to the parse document: plan metadata, section tree, tasks and their fields."""

import collections
import re

from .cleaning import script_key
from .indicators import find_indicators
from .milestones import find_milestones
from .numerals import DATE_ONLY_RE, cn_to_int, find_date
from .owners import AGENCY_SUFFIXES, heading_of, split_owner_note

_CN = "一二三四五六七八九十百零〇两"
PART_RE = re.compile(r"^第([%s\d]+)(部分|篇|章)\s*[:、.]?\s*(.*)$" % _CN)
CN_RE = re.compile(r"^([%s]{1,4})\s*[、.]\s*(.*)$" % _CN)
PCN_RE = re.compile(r"^\(\s*([%s]{1,4})\s*\)\s*[、.]?\s*(.*)$" % _CN)
AR_RE = re.compile(r"^(\d{1,3})\s*[.、](?!\d)\s*(.*)$")
AR_LOST_RE = re.compile(r"^(\d{1,2})(?=[\u4e00-\u9fff“《])(.*)$")
_NOT_AFTER_NUMBER = set(
    "个個家年月日号號岁歲届屆次人名万萬千百亿億张張条條所项項大批期轮輪类類级級部篇章天周週小分倍%‰"
)

PART, CN, PCN, AR = 0, 1, 2, 3

_TITLE_WORDS = re.compile(r"(要点|计划|方案|安排|任务|意见|规划|工作重点|重点工作|实施细则|清单)")
_NOTICE = re.compile(r"(?:关于|關於)?(?:印发|印發|转发|轉發|下发|下發)\s*[《<](.{1,200}?)[》>]\s*(?:的)?(?:通知|通告)")
_DOC_NUMBER = re.compile(r"[\u4e00-\u9fff]{1,12}\s*[〔\[【(]\s*(?:19|20)\d{2}\s*[〕\]】)]\s*第?\s*\d{1,4}\s*[号號]")
_DELIVERABLE = re.compile(r"(文件|档案|拟出台|拟制定|拟研究|制度清单|政策清单|成果清单)")
_SIGN_NOISE = re.compile(r"^(抄送|抄报|附件|联系人|联系电话|(?:\S+)?办公室\s*\d{4}年.*印发)")
_TERMINAL = tuple("。!?;)”》…」』")


def _agency_line(text):
    """An agency name standing alone on a line (a signature or a letterhead)."""
    t = text.strip(" ?")
    key = script_key(t)
    if not 3 <= len(key) <= 30 or re.search(r"[\d。,:;、《》“”]", key):
        return None
    return t if key.endswith(AGENCY_SUFFIXES) else None


def _label(text, expected_task=None):
    """(kind, token, value, rest) for a numbered line, else None."""
    m = PART_RE.match(text)
    if m:
        return PART, "第%s%s" % (m.group(1), m.group(2)), cn_to_int(m.group(1)), m.group(3).strip()
    m = PCN_RE.match(text)
    if m and cn_to_int(m.group(1)):
        return PCN, "(%s)" % m.group(1), cn_to_int(m.group(1)), m.group(2).strip()
    m = CN_RE.match(text)
    if m and cn_to_int(m.group(1)):
        return CN, m.group(1), cn_to_int(m.group(1)), m.group(2).strip()
    m = AR_RE.match(text)
    if m:
        return AR, m.group(1), int(m.group(1)), m.group(2).strip()
    m = AR_LOST_RE.match(text)
    if m and expected_task is not None and int(m.group(1)) in expected_task and m.group(2)[:1] not in _NOT_AFTER_NUMBER:
        return AR, m.group(1), int(m.group(1)), m.group(2).strip()
    return None


def _title_like(text):
    t = text.strip(" ?")
    if not 6 <= len(t) <= 60 or "。" in t or t.endswith((":", ",")):
        return False
    key = script_key(t)
    if "位置" in key or ">" in key or "|" in key or "《" in key or "》" in key:
        return False
    if _label(t) is not None:
        return False
    return bool(_TITLE_WORDS.search(key))


def find_title(lines):
    """(title, index of its line or None) among the lines before the plan's first heading."""
    best = None
    for i, line in enumerate(lines):
        if _title_like(line.text):
            best = i
    if best is not None:
        title = re.sub(r"(?<=[\u4e00-\u9fff\d])\s+(?=[\u4e00-\u9fff])", "", lines[best].text.strip(" ?"))
        m = re.match(r"^(?:关于|關於)((?:19|20)\d{2}\s*年.+)$", title)
        if m and not re.search(r"(通知|通告)$", title):
            title = m.group(1)
        return title, best
    joined = "".join(l.text for l in lines)
    m = _NOTICE.search(joined)
    if m:
        return m.group(1).strip(), None
    return None, None


def find_metadata(lines, title, hints):
    """issuer, doc_number, issued_on from signature lines, letterheads and page hints."""
    issuer = issued_on = doc_number = None
    for i, line in enumerate(lines):
        m = len(line.text) <= 120 and re.match(r"^(.{3,30}?)\s+(\S*\d{4}\s*年.+[日号號])$", line.text)
        if m and _agency_line(m.group(1)) and DATE_ONLY_RE.match(m.group(2)):
            issuer, issued_on = _agency_line(m.group(1)), find_date(m.group(2))
            break
        agency = _agency_line(line.text)
        if agency and i + 1 < len(lines) and DATE_ONLY_RE.match(lines[i + 1].text):
            issuer, issued_on = agency, find_date(lines[i + 1].text)
            break
    if issuer is None and hints.get("source") and _agency_line(hints["source"]):
        issuer = hints["source"].strip()
    if issuer is None and lines:
        head = _agency_line(lines[0].text)
        if head:
            issuer = head
    if issued_on is None:
        issued_on = hints.get("published_on")
    if issued_on is None:
        for line in lines:
            if DATE_ONLY_RE.match(line.text):
                issued_on = find_date(line.text)
                break
    for line in lines[:60]:
        m = _DOC_NUMBER.search(line.text)
        if m:
            doc_number = re.sub(r"\s+", "", m.group(0))
            break
    year = None
    if title:
        m = re.search(r"((?:19|20)\d{2})\s*年", title) or re.search(r"((?:19|20)\d{2})", title)
        if m:
            year = int(m.group(1))
    if year is None and issued_on:
        year = issued_on.year
    if year is None:
        years = collections.Counter(int(y) for l in lines[:80] for y in re.findall(r"((?:19|20)\d{2})年", l.text))
        if years:
            year = years.most_common(1)[0][0]
    return {
        "title": title,
        "year": year,
        "issuer": issuer,
        "doc_number": doc_number,
        "issued_on": issued_on.isoformat() if issued_on else None,
    }


def _signature_lines(lines):
    skip = set()
    for i, line in enumerate(lines):
        if DATE_ONLY_RE.match(line.text):
            skip.add(i)
            if i and _agency_line(lines[i - 1].text):
                skip.add(i - 1)
        elif _SIGN_NOISE.match(script_key(line.text)):
            skip.add(i)
    return skip


class _Task:
    def __init__(self, section, number, text, line_no):
        self.section = list(section)
        self.number = number
        self.parts = [text] if text else []
        self.line_no = line_no
        self.last_line_no = line_no


def build_task(section, number, text, year, owners=None, extra_indicator_text=None, milestones=None):
    """The spec's task dict for one item's text."""
    body, found = split_owner_note(text)
    if not found and "\n" in text:  # the owner note may close the first paragraph only
        first, rest = text.split("\n", 1)
        first_body, found = split_owner_note(first)
        if found:
            body = first_body + "\n" + rest
    owners = list(owners or []) + [o for o in found if o not in (owners or [])]
    inds = find_indicators(body)
    if extra_indicator_text:
        seen = {(i["target"], i["unit"]) for i in inds}
        inds += [i for i in find_indicators(extra_indicator_text) if (i["target"], i["unit"]) not in seen]
    steps = list(milestones or [])
    steps += [m for m in find_milestones(body, year) if m not in steps]
    return {
        "section": list(section),
        "number": number,
        "heading": heading_of(body),
        "text": body.strip(),
        "owners": owners,
        "milestones": steps,
        "indicators": inds,
    }


def parse_lines(lines, hints, warn, progress=None):
    """The parse document for a text-like plan (txt, HTML, docx paragraphs, PDF)."""
    first_heading = next(
        (i for i, l in enumerate(lines) if (lambda lab: lab is not None and lab[3])(_label(l.text))), len(lines)
    )
    title, title_at = find_title(lines[:first_heading])
    plan = find_metadata(lines, title, hints)
    body_start = title_at + 1 if title_at is not None else first_heading
    body_start = min(body_start, first_heading)
    body = lines[body_start:]
    skip = {i - body_start for i in _signature_lines(lines) if i >= body_start}

    kinds = set()
    for line in body:
        lab = _label(line.text)
        if lab and lab[3]:
            kinds.add(lab[0])
    task_level = AR if AR in kinds else PCN if PCN in kinds else CN if CN in kinds else None
    if task_level is None:
        warn(lines[0].no if lines else 1, "没有找到编号的工作任务（如“1.”“(一)”）")

    sections, tasks = [], []
    stack = []  # [(level, token, value)]
    current = None
    last_number = 0
    section_task_count = 0

    def close():
        nonlocal current
        if current is not None:
            tasks.append(current)
        current = None

    for idx, line in enumerate(body):
        if progress and idx % 50 == 0:
            progress(40 + int(40 * idx / max(1, len(body))))
        if idx in skip:
            close()
            continue
        expected = {last_number + 1} | ({1} if section_task_count == 0 else set())
        lab = _label(line.text, expected)
        if lab and lab[0] < (task_level if task_level is not None else 99) and lab[0] != AR:
            level, token, value, rest = lab
            siblings = [v for lv, _, v in stack if lv == level]
            sequential = value == 1 or (siblings and value == siblings[-1] + 1) or not siblings
            if sequential or (len(rest) <= 40 and "。" not in rest):
                close()
                while stack and stack[-1][0] >= level:
                    stack.pop()
                stack.append((level, token, value))
                sections.append({"path": [t for _, t, _ in stack], "title": rest.rstrip("。:: ")})
                section_task_count = 0
                continue
        if lab and lab[0] == task_level:
            level, token, value, rest = lab
            close()
            if level == AR and value != last_number + 1 and value != 1 and tasks:
                warn(line.no, "任务编号不连续：%s 之后是 %s" % (last_number, value))
            number = token if level != PCN else token.strip("()")
            current = _Task([t for _, t, _ in stack], number, rest, line.no)
            last_number = value if level == AR else last_number
            section_task_count += 1
            continue
        if current is not None:
            current.parts.append(line.text)
            current.last_line_no = line.no
            continue
        if stack and _DELIVERABLE.search(script_key(sections[-1]["title"])) and not _title_like(line.text):
            tasks.append(_Task([t for _, t, _ in stack], None, line.text, line.no))
    close()

    out_tasks = []
    for task in tasks:
        text = "\n".join(p for p in task.parts if p)
        if not text.strip():
            warn(task.line_no, "编号 %s 下没有内容，已跳过" % task.number)
            continue
        built = build_task(task.section, task.number, text, plan["year"])
        if (re.search(r"\([^()]*$", text.rstrip("。 ")) and built["owners"]) or (
            re.search(r"^[^()]*\)", text.rsplit("。", 1)[-1]) and built["owners"]
        ):
            warn(task.last_line_no, "责任单位的括号不完整，已按责任单位处理")
        out_tasks.append(built)
    if tasks:
        last = tasks[-1]
        tail = "\n".join(last.parts).rstrip()
        if tail and not tail.endswith(_TERMINAL):
            warn(last.last_line_no, "文档似乎在此处被截断（最后一项没有结束）")
    return {"plan": plan, "sections": sections, "tasks": out_tasks}
