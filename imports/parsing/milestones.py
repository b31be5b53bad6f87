"""Dated steps inside an item: 6月底前…, 三季度末…, 年底前… → last day of that month/quarter."""

import bisect
import datetime
import re

from .numerals import cn_to_int, month_end

_CN = "一二三四五六七八九十"
# A phrase starts with a digit, a Chinese numeral, 第, 年 or 上 (the lookahead fails fast elsewhere;
# find_milestones starts the search where the first phrase can start).
_PHRASE = re.compile(
    rf"(?=[\d{_CN}第年上])(?<![\d每第至到])(?:(?P<month>\d{{1,2}}|[{_CN}]{{1,3}})月(?:(?P<day>\d{{1,2}})日)?(?P<mq>底前|底|末前|末|份前|份之前|前|之前|中旬前|上旬前|下旬前)"
    r"|(?:第)?(?P<quarter>[1-4一二三四])季度(?P<qq>末前|末|底前|底|前)"
    r"|(?P<yearend>年底前|年底|年末前|年末)"
    r"|(?P<half>上半年))"
)
_SENTENCE_END = "。;;!！"
_ENDS = re.compile(f"[{re.escape(_SENTENCE_END)}]")
_SEPS = re.compile("[,;]")


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


_STEP_MAX = 500  # a step's text is cut at this length (a "sentence" of 200 KB is no step)


def _earliest_phrase(flat):
    """No phrase starts before this position: each holds 月 (at most three characters in), 季度 (at
    most two), 年底/年末 or 上半年 (at their start). _PHRASE opens with a lookahead, which the regex
    engine tries at every position: starting it here skips the ones that cannot match."""
    found = [
        at - back
        for mark, back in (("月", 3), ("季", 2), ("年底", 0), ("年末", 0), ("上半年", 0))
        if (at := flat.find(mark)) >= 0
    ]
    return max(0, min(found)) if found else len(flat)


def find_milestones(text, year):
    """Milestones stated in an item's text, in order; ``due`` is None without a plan year."""
    out, seen = [], set()
    flat = text.replace("\n", "")
    ends: list[int] | None = None
    seps: list[int] = []
    for m in _PHRASE.finditer(flat, _earliest_phrase(flat)):
        if ends is None:  # sentence ends and clause separators, in order
            ends = [e.start() for e in _ENDS.finditer(flat)]
            seps = [e.start() for e in _SEPS.finditer(flat)]
        # an explicit other year (到2021年底) is an indicator due date, not a step in this plan
        if m.group("yearend") and re.search(
            r"\d{4}$|[”\"]?十[一二三四五六七八九]五[”\"]?$", flat[max(0, m.start() - 6) : m.start()]
        ):
            continue
        due = _due(m, year) if year else None
        at = bisect.bisect_left(ends, m.start())
        start = ends[at - 1] + 1 if at else 0
        at = bisect.bisect_left(ends, m.end())
        end = ends[at] if at < len(ends) else len(flat)
        step = _after(flat, m.end(), end, seps)
        if len(step) < 4:
            step = flat[start : min(end, start + _STEP_MAX)].strip(" ,,")  # noqa: B005 - a set of characters
        item = {"due": due.isoformat() if due else None, "text": step[:_STEP_MAX]}
        if (item["due"], item["text"]) not in seen:
            seen.add((item["due"], item["text"]))
            out.append(item)
    return out


def _after(flat, begin, end, seps):
    """``re.split("[,;]", flat[begin:end].strip(" ,,:"), 1)[0]`` without copying the sentence."""
    while begin < end and flat[begin] in " ,:":
        begin += 1
    stop = end
    while stop > begin and flat[stop - 1] in " ,:":
        stop -= 1
    at = bisect.bisect_left(seps, begin)
    cut = seps[at] if at < len(seps) and seps[at] < stop else stop
    return flat[begin : min(cut, begin + _STEP_MAX)]
