"""Dated steps inside an item: 6月底前…, 三季度末…, 年底前… → last day of that month/quarter."""
import datetime
import re

from .numerals import cn_to_int, month_end

_CN = "一二三四五六七八九十"
_PHRASE = re.compile(
    r"(?<![\d每第至到])(?:(?P<month>\d{1,2}|[%s]{1,3})月(?:(?P<day>\d{1,2})日)?(?P<mq>底前|底|末前|末|份前|份之前|前|之前|中旬前|上旬前|下旬前)"
    r"|(?:第)?(?P<quarter>[1-4一二三四])季度(?P<qq>末前|末|底前|底|前)"
    r"|(?P<yearend>年底前|年底|年末前|年末)"
    r"|(?P<half>上半年))" % _CN)
_SENTENCE_END = "。;;!！"


def _due(m, year):
    if m.group("month"):
        month = cn_to_int(m.group("month"))
        if not month or not 1 <= month <= 12:
            return None
        if m.group("day"):
            try:
                return datetime.date(year, month, int(m.group("day")))
            except ValueError:
                return None
        qual = m.group("mq")
        if qual.startswith("上旬"):
            return datetime.date(year, month, 10)
        if qual.startswith("中旬"):
            return datetime.date(year, month, 20)
        return month_end(year, month)
    if m.group("quarter"):
        q = cn_to_int(m.group("quarter"))
        return month_end(year, q * 3)
    if m.group("half"):
        return datetime.date(year, 6, 30)
    return datetime.date(year, 12, 31)


def find_milestones(text, year):
    """Milestones stated in an item's text, in order; ``due`` is None without a plan year."""
    out = []
    flat = text.replace("\n", "")
    for m in _PHRASE.finditer(flat):
        # an explicit other year (到2021年底) is an indicator due date, not a step in this plan
        before = flat[max(0, m.start() - 6):m.start()]
        if m.group("yearend") and re.search(r"\d{4}$|[”\"]?十[一二三四五六七八九]五[”\"]?$", before):
            continue
        due = _due(m, year) if year else None
        start = max(flat.rfind(ch, 0, m.start()) for ch in _SENTENCE_END) + 1
        ends = [i for i in (flat.find(ch, m.end()) for ch in _SENTENCE_END) if i >= 0]
        end = min(ends) if ends else len(flat)
        after = re.split(r"[,;]", flat[m.end():end].strip(" ,,:"), maxsplit=1)[0]
        step = after if len(after) >= 4 else (flat[start:m.start()] + flat[m.start():end]).strip(" ,,")
        item = {"due": due.isoformat() if due else None, "text": step}
        if item not in out:
            out.append(item)
    return out
