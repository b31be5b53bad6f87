"""Plan metadata: title, year, issuer, 文号 and date from the title, signature, cover letter and portal table."""

from __future__ import annotations

import collections
import datetime
import re
from collections.abc import Callable, Sequence

from django.utils.translation import gettext as _

from .cleaning import Line, script_key
from .numerals import DAMAGED_DATE_ONLY_RE, DATE_ONLY_RE, find_damaged_date, find_date
from .owners import AGENCY_SUFFIXES

Warn = Callable[[int, str], None]

_TITLE_WORDS = re.compile(r"(要点|计划|方案|安排|任务|意见|规划|工作重点|重点工作|实施细则|清单)")
_NOTICE = re.compile(r"(?:关于|關於)?(?:印发|印發|转发|轉發|下发|下發)\s*[《<](.{1,200}?)[》>]\s*(?:的)?(?:通知|通告)")
DOC_NUMBER = re.compile(r"[\u4e00-\u9fff]{1,12}\s*[〔\[【(]\s*(?:19|20)\d{2}\s*[〕\]】)]\s*第?\s*\d{1,4}\s*[号號]")
# Words before a 文号 that make it the number of a document the plan cites, not its own.
_CITES = re.compile(r"(根据|根據|按照|依据|依據|参照|參照|遵照|贯彻|貫徹|落实|落實|执行|執行)")
_ABBREVIATED = re.compile(r"(以下简称|以下簡稱)")
# A stamp note between the signer and the date: (青岚市中医药管理局代章).
_STAMP = re.compile(r"^[(（]?[^()（）]{0,40}(代章|代印|盖章|蓋章|印章)[)）]?$")
_RANGE_YEARS = re.compile(r"((?:19|20)\d{2})\s*(?:年)?\s*[-—–~～至到]\s*((?:19|20)\d{2})\s*年?")
_LABEL_START = re.compile(
    r"^(第[一二三四五六七八九十百零〇两\d]+(部分|篇|章)|[一二三四五六七八九十]{1,3}\s*[、.]|\(\s*[一二三四五六七八九十\d]{1,3}\s*\)|\d{1,3}\s*[.、])"
)


def agency_line(text: str) -> str | None:
    """An agency name standing alone on a line (a signature or a letterhead)."""
    t = text.strip(" ?")
    key = script_key(t)
    if not 3 <= len(key) <= 30 or re.search(r"[\d。,:;、《》“”]", key):
        return None
    return t if key.endswith(AGENCY_SUFFIXES) else None


def title_like(text: str) -> bool:
    t = text.strip(" ?")
    if not 6 <= len(t) <= 60 or "。" in t or t.endswith((":", ",", "：", "，")):
        return False
    key = script_key(t)
    if "位置" in key or ">" in key or "|" in key or "《" in key or "》" in key:
        return False
    if _LABEL_START.match(t):
        return False
    return bool(_TITLE_WORDS.search(key))


def _tidy_title(title: str) -> str:
    title = re.sub(r"(?<=[\u4e00-\u9fff\d])\s+(?=[\u4e00-\u9fff])", "", title.strip(" ?"))
    m = re.match(r"^(?:关于|關於)((?:19|20)\d{2}\s*年.+)$", title)
    if m and not re.search(r"(通知|通告)$", title):
        title = m.group(1)
    return title


def _broken_title(first: str, second: str) -> str | None:
    """A title broken over two lines (2023年青岚市卫生健康 / 工作要点), joined, or None."""
    if title_like(first) or _LABEL_START.match(second) or _LABEL_START.match(first):
        return None
    if len(first) > 40 or len(second) > 30 or first.endswith(tuple("。：:，,;；")) or "。" in second:
        return None
    joined = first.strip(" ?") + second.strip(" ?")
    return joined if title_like(joined) and _TITLE_WORDS.search(script_key(second)) else None


def find_title(lines: Sequence[Line]) -> tuple[str | None, int | None]:
    """(title, index of its last line or None) among the lines before the plan's first heading."""
    best: tuple[str, int] | None = None
    for i, line in enumerate(lines):
        if title_like(line.text):
            best = (line.text, i)
        elif i + 1 < len(lines):
            joined = _broken_title(line.text, lines[i + 1].text)
            if joined:
                best = (joined, i + 1)
    if best is not None:
        return _tidy_title(best[0]), best[1]
    joined = "".join(line.text for line in lines)
    m = _NOTICE.search(joined)
    if m:
        return m.group(1).strip(), None
    return None, None


def _cited(text: str, start: int, end: int) -> bool:
    """True when the 文号 at ``text[start:end]`` belongs to a document the line cites."""
    before = text[:start]
    if before.count("《") > before.count("》"):
        return True
    if re.search(r"》\s*[(（〔]?\s*$", before):
        return True
    clause = re.split(r"[。;；]", text[:end])[-1]
    return bool(_CITES.search(clause) or _ABBREVIATED.search(text[start:]))


def plan_doc_number(lines: Sequence[Line], hints: dict) -> str | None:
    """The plan's own 文号: a line of its own in the header, else the portal table's, else the
    first one in the header that no sentence cites."""
    loose = None
    for line in lines[:60]:
        if "号" not in line.text and "號" not in line.text:  # every 文号 ends with one: no need to scan
            continue
        for m in DOC_NUMBER.finditer(line.text):
            if _cited(line.text, m.start(), m.end()):
                continue
            number = re.sub(r"\s+", "", m.group(0))
            rest = (line.text[: m.start()] + line.text[m.end() :]).strip(" ()（）")
            if len(rest) <= 8:  # 青卫发〔2023〕5号, or with 签发人 beside it
                return number
            if loose is None:
                loose = number
    return hints.get("doc_number") or loose


_SIGNED_ON_ONE_LINE = re.compile(r"^(.{3,30}?)\s+(\S*\d{4}\s*年?.+[日号號])$")


def _signature(lines: Sequence[Line], warn: Warn) -> tuple[str | None, datetime.date | None, set[int]]:
    """(issuer, date, line indexes) of the signature block: an agency line, a stamp note, a date."""
    for i, line in enumerate(lines):
        m = len(line.text) <= 120 and _SIGNED_ON_ONE_LINE.match(line.text)
        if m and agency_line(m.group(1)):
            date = _date_line(m.group(2), line.no, warn)
            if date is not None:
                return agency_line(m.group(1)), date, {i}
        agency = agency_line(line.text)
        if agency is None:
            continue
        j = i + 1
        while j < len(lines) and j <= i + 2 and _STAMP.match(lines[j].text.strip()):
            j += 1
        if j < len(lines):
            date = _date_line(lines[j].text, lines[j].no, warn)
            if date is not None:
                return agency, date, set(range(i, j + 1))
    return None, None, set()


def _date_line(text: str, line_no: int, warn: Warn | None) -> datetime.date | None:
    if DATE_ONLY_RE.match(text):
        return find_date(text)
    if DAMAGED_DATE_ONLY_RE.match(text):
        date = find_damaged_date(text)
        if date is not None and warn is not None:
            warn(
                line_no,
                _("日期“%(written)s”已按 %(date)s 读取（原文日期不完整），请核对")
                % {"written": text.strip(), "date": date.isoformat()},
            )
        return date
    return None


# The end matter after a signature: copies to, attachments, contacts, the printing office's line.
_END_MATTER = re.compile(r"^(抄送|抄报|附件|联系人|联系电话|(?:\S+)?办公室\s*\d{4}年.*印发)")


def is_end_matter(text: str) -> bool:
    return bool(_END_MATTER.match(script_key(text)))


def signature_lines(lines: Sequence[Line]) -> set[int]:
    """Indexes of the lines that sign the plan (agency, stamp note, date) or follow the signature
    as end matter (抄送, 联系人…), anywhere in it."""
    skip = set()
    for i, line in enumerate(lines):
        if is_end_matter(line.text):
            skip.add(i)
        elif DATE_ONLY_RE.match(line.text) or DAMAGED_DATE_ONLY_RE.match(line.text):
            skip.add(i)
            j = i - 1
            while j >= 0 and j >= i - 2 and _STAMP.match(lines[j].text.strip()):
                skip.add(j)
                j -= 1
            if j >= 0 and agency_line(lines[j].text):
                skip.add(j)
    return skip


def plan_year(title: str | None, issued_on, lines: Sequence[Line]) -> int | None:
    """The plan year: the single year its title names, else the first of a range it names."""
    if title:
        ranges = list(_RANGE_YEARS.finditer(title))
        rest = _RANGE_YEARS.sub("", title)
        m = re.search(r"((?:19|20)\d{2})\s*年", rest) or re.search(r"((?:19|20)\d{2})", rest)
        if m:
            return int(m.group(1))
        if ranges:
            return int(ranges[0].group(1))
    if issued_on:
        return int(issued_on.year)
    years = collections.Counter(
        int(y) for line in lines[:80] for y in re.findall(r"((?:19|20)\d{2})年", _RANGE_YEARS.sub("", line.text))
    )
    if years:
        return years.most_common(1)[0][0]
    return None


def find_metadata(lines: Sequence[Line], title: str | None, hints: dict, warn: Warn | None = None) -> dict:
    """issuer, doc_number, issued_on and year from signature lines, letterheads and page hints."""
    say: Warn = warn or (lambda no, message: None)
    issuer, issued_on, _at = _signature(lines, say)
    if issuer is None and hints.get("issuer") and agency_line(hints["issuer"]):
        issuer = hints["issuer"].strip()
    if issuer is None and lines:
        head = agency_line(lines[0].text)
        if head:
            issuer = head
    if issuer is None and hints.get("source") and agency_line(hints["source"]):
        issuer = hints["source"].strip()
    if issued_on is None:
        issued_on = hints.get("written_on")
    if issued_on is None:
        for line in lines:
            if DATE_ONLY_RE.match(line.text):
                issued_on = find_date(line.text)
                break
    if issued_on is None and hints.get("published_on") and not hints.get("copy_site"):
        issued_on = hints["published_on"]
    year = plan_year(title, issued_on, lines)
    return {
        "title": title,
        "year": year,
        "issuer": issuer,
        "doc_number": plan_doc_number(lines, hints),
        "issued_on": issued_on.isoformat() if issued_on else None,
    }
