"""Quantitative targets inside an item: 孕产妇死亡率控制在7/10万以内, 新增50家…, 分别达到3.09、3.40."""

import bisect
import datetime
import functools
import re

from . import confidence
from .numerals import cn_to_int

RATE_UNITS = ("%", "‰", "1/10万", "1/万", "个百分点")
COUNT_UNITS = (
    "万人次",
    "人次",
    "家次",
    "场次",
    "台次",
    "例次",
    "户次",
    "万人",
    "万元",
    "亿元",
    "平方米",
    "公里",
    "个",
    "家",
    "张",
    "名",
    "人",
    "次",
    "所",
    "条",
    "片",
    "场",
    "户",
    "处",
    "项",
    "座",
    "台",
    "辆",
    "间",
    "套",
    "支",
    "批",
    "例",
    "份",
    "种",
    "床",
    "本",
    "部",
    "篇",
    "件",
    "吨",
    "万",
)
# The same units as written in traditional-script plans.
_TRAD_UNITS = (
    "場次",
    "戶次",
    "個",
    "張",
    "條",
    "場",
    "戶",
    "處",
    "項",
    "臺",
    "輛",
    "間",
    "種",
    "萬人次",
    "萬人",
    "萬元",
    "億元",
    "萬",
)
# Units counted in, after a number: the base unit may carry 万/亿 before it (万人次, 亿元) and a
# denominator after it (管/日, 人/万人, 张/千人, 元/人), written as the plan writes it.
_EXTRA_UNITS = ("元", "管", "剂", "册", "人份", "公斤", "千克", "亩", "米", "平方公里")
_DENOMINATORS = ("十万人", "万人", "千人", "百人", "人", "日", "天", "周", "月", "年", "床", "户", "次", "平方公里")
_RATE_ALT = "|".join(
    sorted(
        {re.escape(u) for u in RATE_UNITS}
        | {r"/10万", r"/10萬", r"/十万", r"/十萬", r"1/10萬", r"/万", r"/萬", "％", "個百分點"},
        key=len,
        reverse=True,
    )
)
_BASE_ALT = "|".join(
    sorted(
        {re.escape(u) for u in COUNT_UNITS + _TRAD_UNITS + _EXTRA_UNITS if u not in ("万", "萬")},
        key=len,
        reverse=True,
    )
)
_DENOMINATOR_ALT = "|".join(sorted(_DENOMINATORS, key=len, reverse=True))
_UNIT_ALT = rf"{_RATE_ALT}|[万萬亿億]?(?:{_BASE_ALT})(?:/(?:{_DENOMINATOR_ALT}))?|[万萬亿億]"
# \d\d* rather than \d+ (the same numbers): a pattern that opens with a character class lets the
# regex engine skip to the next digit at once; one that opens with a repeat is tried at every position.
_NUM = r"\d\d*(?:\.\d+)?"
_TOKEN = re.compile(rf"(?P<num>{_NUM})\s*(?P<unit>{_UNIT_ALT})?")
# A count in Chinese numerals (新建三处): read only right after a verb of building (below).
_CN_COUNT = re.compile(
    r"(?<=[建增设立造育办])(?P<num>[二三四五六七八九两][十百]?[一二三四五六七八九]?|十[一二三四五六七八九]?)"
    rf"(?P<unit>{_BASE_ALT})(?![“\"])"
)

# The two characters every _CN_COUNT match starts at (its lookbehind, then its first numeral).
_CN_COUNT_PAIR = re.compile(r"[建增设立造育办][二三四五六七八九两十]")

# "指标：数值" (孕产妇死亡率：8/10万, a spreadsheet's 量化指标 column) reads as a target; the
# colon is swapped for this mark before matching so that clauses are not split at it.
NAMED = "\ue000"
_NAMED_COLON = re.compile(r"(?<=[\u4e00-\u9fff])\s*[:：]\s*(?=[≥≤<>]?=?\s*\d)")
# Verbs that set a ceiling (控制在, 低于, 降至…): the target is a maximum.
_CEILING = (
    "控制在",
    "低于",
    "低於",
    "不高于",
    "不高於",
    "不超过",
    "不超過",
    "小于",
    "小於",
    "降低到",
    "降低至",
    "降至",
    "下降到",
    "下降至",
    "缩短到",
    "缩短至",
    "縮短到",
    "縮短至",
    "减少到",
    "减少至",
    "減少到",
    "減少至",
    "压缩到",
    "压缩至",
    "壓縮到",
    "壓縮至",
    "降到",
    "不多于",
    "不多於",
    "不大于",
    "不大於",
    "≤",
    "<=",
    "<",
)
# Every comparison verb: the ceilings and the floors or levels (达到, 不低于, 保持在…).
_CMP_WORDS = (
    *_CEILING,
    "达到",
    "達到",
    "保持在",
    "保持",
    "超过",
    "超過",
    "高于",
    "高於",
    "不低于",
    "不低於",
    "不少于",
    "不少於",
    "提高到",
    "提高至",
    "提升到",
    "提升至",
    "增加到",
    "增加至",
    "增长到",
    "增長到",
    "稳定在",
    "穩定在",
    "维持在",
    "維持在",
    "不小于",
    "不小於",
    "≥",
    ">=",
    ">",
    "达",
    "達",
    NAMED,
)
# Inside a 达到/控制在 construct durations and ages are targets too (平均住院日控制在8天以内).
_CONSTRUCT_UNIT_ALT = "个工作日|工作日|小时|分钟|" + _UNIT_ALT + "|天|岁|歲"
_VALUE = rf"{_NUM}\s*(?:{_CONSTRUCT_UNIT_ALT})?"
_VALUE_TOKEN = re.compile(rf"(?P<num>{_NUM})\s*(?P<unit>{_CONSTRUCT_UNIT_ALT})?")
_FEN_WORDS = ("分别", "分別", "均", "都", "各")
_MODAL_WORDS = ("要", "应", "應", "须", "須")
# Every construct starts with one of these characters; the lookahead lets the regex engine skip
# other positions at once instead of trying each alternative there (same matches, a third the time).
_CONSTRUCT_FIRST = "".join(sorted({w[0] for w in _FEN_WORDS + _MODAL_WORDS + _CMP_WORDS}))
_CONSTRUCT_START = re.compile(f"[{re.escape(_CONSTRUCT_FIRST)}]")
_CONSTRUCT = re.compile(
    r"(?=[{}])(?P<fen>{})?(?:{})?(?P<cmp>{})\s*(?P<vals>{}(?:\s*(?:、|和|及|,)\s*{})*)"
    r"\s*(?P<post>以上|以内|以內|以下|左右)?".format(
        re.escape(_CONSTRUCT_FIRST),
        "|".join(_FEN_WORDS),
        "|".join(_MODAL_WORDS),
        "|".join(sorted(_CMP_WORDS, key=len, reverse=True)),
        _VALUE,
        _VALUE,
    )
)

# Verbs that make a count a target (新建1个…, 培训100名…); compared on the text as written. Every
# alternative starts with a plain character (X建 spelt out for each X), so that the regex engine
# skips to the positions where one can start.
_TARGET_VERB = re.compile(
    r"(新\([^()]{1,3}\)建|新建|新增|改建|扩建|擴建|迁建|遷建|组建|組建|筹建|籌建|共建|创建|創建|建设|建設|建成|"
    r"建立|设立|設立|设置|設置|完成|培育|培训|培訓|"
    r"创建|創建|打造|评选|評選|遴选|遴選|推进|推進|开展|開展|组织|組織|实现|實現|争取|爭取|力争|力爭|确保|確保|落实|"
    r"落實|达到|達到|不少于|不少於|至少|累计|累計|招聘|引进|引進|配备|配備|举办|舉辦|发放|發放|覆盖|覆蓋|培养|培養|"
    r"招收|新设|新設|有\d)"
)
_DONE_AFTER = re.compile(r"(通过|通過|完成|建成|达标|達標)")
_FILLER = re.compile(
    r"^(?:力争|力爭|确保|確保|实现|實現|年内|年內|全年|争取|爭取|基本|使|推动|推動|进一步|進一步|努力|逐步|积极|積極|"
    r"到\s*\d{4}\s*年(?:底|末)?|要|并|並|且|其中|同时|同時|以及|和|及|与|與|、|,|:|;)+"
)
_MEASURE_END = re.compile(
    r"(率|数|數|量|比|比例|比重|占比|佔比|人数|人數|覆盖面|覆蓋面|密度|水平|指数|指數|时间|時間|天数|天數)$"
)
_WHOLE_RATIO = re.compile(r"(的比例|的比重|占比|佔比|的比率)$")
_PER_PREFIX = re.compile(r"^每[十百千万萬]?[人户戶床]口?")
_DUE_YEAR = re.compile(r"(?:到|至|截至)?\s*(\d{4})\s*年\s*(?:底|末|年底|年末)")
_DUE_FIVE = re.compile(r"(?:到|至)?[“\"]?十([一二三四五六七八九])五[”\"]?\s*(?:期)?末")
_CN_DIGIT = "一二三四五六七八九"


def _norm_unit(unit):
    normed = _NORMED_UNITS.get(unit)
    if normed is None:
        normed = (unit or "").replace("％", "%").replace("萬", "万")
        if normed in ("/10万", "/十万", "1/10万"):
            normed = "1/10万"
        elif normed in ("/万", "1/万"):
            normed = "1/万"
        if len(_NORMED_UNITS) < 10_000:  # units come from the alternatives above: a few thousand at most
            _NORMED_UNITS[unit] = normed
    return normed


_NORMED_UNITS: dict[str | None, str] = {}


def _number(text):
    if len(text) < 16 and text.isdigit():  # the common case; float() would round longer ones
        return int(text)
    if not text[:1].isdigit():
        return cn_to_int(text)
    value = float(text)
    return int(value) if value.is_integer() and "." not in text else value


_OPENERS = re.compile(r"[(“《\[【]")


@functools.lru_cache(maxsize=16)
def _separators(seps):
    return re.compile(f"[{re.escape(seps)}]")


def _split_outside(text, seps):
    """Split on separator characters that stand outside brackets and quotes."""
    if len(seps) == 1 and seps not in text:  # no separator anywhere: the text is the one part
        return [(0, text)]
    if not _OPENERS.search(text):  # nothing to stand inside: a plain split, positions kept
        pieces = text.split(seps) if len(seps) == 1 else _separators(seps).split(text)
        parts, start = [], 0
        for piece in pieces:  # each separator is one character
            parts.append((start, piece))
            start += len(piece) + 1
        return parts
    parts, depth, start = [], 0, 0
    for m in _split_marks(seps).finditer(text):  # the brackets and separators only, in order
        ch = m.group()
        if ch in "(“《[【":
            depth += 1
        elif ch in ")”》]】":
            if depth:
                depth -= 1
        elif depth == 0:
            i = m.start()
            parts.append((start, text[start:i]))
            start = i + 1
    parts.append((start, text[start:]))
    return parts


@functools.lru_cache(maxsize=16)
def _split_marks(seps):
    return re.compile(f"[{re.escape('(“《[【)”》]】' + seps)}]")


_MASK_OPENERS = re.compile('[“《"]')


def _masked(text):
    """Positions inside quotes, book titles or brackets: numbers there describe, not target.

    None when nothing opens (most clauses): then no position is inside."""
    if not _MASK_OPENERS.search(text):
        return None
    mask = [False] * len(text)
    depth = last = 0
    for m in _MASK_MARKS.finditer(text):  # between two marks the depth holds: fill those runs at once
        i, ch = m.start(), m.group()
        if depth > 0:
            mask[last:i] = [True] * (i - last)
        if ch in '“《"':
            depth += 1
        mask[i] = depth > 0
        if ch in "”》" and depth:
            depth -= 1
        last = i + 1
    if depth > 0:
        mask[last:] = [True] * (len(text) - last)
    return mask


_MASK_MARKS = re.compile('[“《"”》]')


def _context_number(text, start, end):
    """True for numbers that only describe: ranges (0-6岁), formulas (1+7), 第3, years."""
    before = text[start - 1] if start else ""
    after = text[end] if end < len(text) else ""
    if (before and before in "-—~～+.第前近约約/") or before.isdigit():
        return True
    return bool((after and after in "-—~～+") or (after == "." and end + 1 < len(text) and text[end + 1].isdigit()))


_PER_UNIT_NOTE = re.compile(r"以[^,;以]{1,8}?为单位|以[^,;以]{1,8}?為單位")
_SUB_NUMBER = re.compile(r"^(?:\(\d{1,2}\)|[①-⑳])")
_EACH_TAIL = re.compile(r"(?<=[\u4e00-\u9fff])各$")
_MODAL_TAIL = re.compile(r"(?:分别|分別|均|都|要|应|應|须|須|将|將)+$")
_AND = re.compile(r"^(.+?)(?:和|及|与|與)(.+)$")
_EXISTING = re.compile(r"(已|现有|現有|原有|共有)[^,;]{0,5}$")
_MORE = re.compile(r"^(以上|多)")
_BELOW = re.compile(r"(以内|以內|以下)")


# The last characters _MODAL_TAIL can end on: a name ending otherwise has no modal tail.
_MODAL_LAST = ("别", "別", "均", "都", "要", "应", "應", "须", "須", "将", "將")


@functools.lru_cache(maxsize=1024)  # a pure function of the string, called on the same spans many times
def _clean_name(name):
    # each pre-check below tests for a character the pattern it guards cannot match without
    if "以" in name:
        name = _PER_UNIT_NOTE.sub("", name)
    if "年" in name:
        name = _DUE_YEAR.sub("", name)
    if "末" in name:
        name = _DUE_FIVE.sub("", name)
    name = name.replace("?", "").replace(NAMED, "")
    # what the item before left behind: its owner note, then this item's number
    name = name.strip()
    if ")" in name:
        name = _LEFT_BEHIND.sub("", name)
    name = _SUB_NUMBER.sub("", name.strip())
    name = name.strip(" ≥≤<>=")
    if name.endswith(("各", "\n")):  # "$" also matches before a final newline
        name = _EACH_TAIL.sub("", name)
    name = name.strip(" ,,;;:、")  # noqa: B005 - a set of characters
    prev = None
    while prev != name:
        prev = name
        name = _FILLER.sub("", name).strip(" ,,;;:、")  # noqa: B005 - a set of characters
        if name.endswith(_MODAL_LAST) or name.endswith("\n"):
            name = _MODAL_TAIL.sub("", name)
        name = name.strip()
    return name


_LEFT_BEHIND = re.compile(r"^(?:[^()]*\)|\([^()]{1,60}\))\s*(?:\d{1,3}\s*[.、](?=[\u4e00-\u9fff\d]))?")


@functools.lru_cache(maxsize=1024)  # a pure function of its arguments; a tuple, so no caller can alter it
def _split_names(part, distribute):
    """'A、B和C率' → ('A', 'B率', 'C率') following the spec's distribution rules."""
    part = _clean_name(part)
    pieces = [p.strip() for _, p in _split_outside(part, "、")]
    pieces = [p for p in pieces if p]
    if len(pieces) > 1 and not distribute and not all(_MEASURE_END.search(p) for p in pieces):
        pieces = [part]
    names = []
    for piece in pieces:
        names.extend(_split_and(piece, distribute))
    if len(names) > 1:
        first = names[0]
        names = [first] + [
            n if len(n) > 4 or len(first) <= len(n) + 1 or n[-1] != first[-1] else first[: -len(n)] + n
            for n in names[1:]
        ]
        m = _PER_PREFIX.match(names[0])
        if m:
            names = [names[0]] + [n if n.startswith("每") else m.group(0) + n for n in names[1:]]
    return tuple(names) or (part,)


def _split_and(piece, distribute):
    if _WHOLE_RATIO.search(piece):
        return [piece]
    m = _AND.search(piece)
    if not m:
        return [piece]
    left, right = m.group(1), m.group(2)
    if _MEASURE_END.search(left) and _MEASURE_END.search(right):
        return [left, right]
    # parallel subjects sharing a measure: 高血压患者和糖尿病患者规范管理率
    for size in (3, 2, 1):
        tail = left[-size:]
        if len(left) >= size and tail in right and _MEASURE_END.search(right):
            rest = right[right.index(tail) + size :]
            if len(rest) >= 2:
                return [left + rest, right]
    if distribute:
        return [left, right]
    return [piece]


@functools.lru_cache(maxsize=32)
def _due_points(text):
    """([starts], [dates]) of the 到2025年底 / 到“十四五”末 phrases in a clause, per kind."""
    points = []
    for rx, mark in ((_DUE_YEAR, "年"), (_DUE_FIVE, "末")):
        starts, dates = [], []
        for m in rx.finditer(text) if mark in text else ():  # each phrase holds its mark
            if rx is _DUE_YEAR:
                year = int(m.group(1))
                if not 1900 <= year <= 2200:  # 0000年底 is no date
                    continue
            else:
                year = 1955 + 5 * (10 + _CN_DIGIT.index(m.group(1)) + 1)
            starts.append(m.start())
            dates.append(datetime.date(year, 12, 31))
        points.append((starts, dates))
    return points


def _due_from(text, position, current):
    """The due date in force at ``position``: the last 到…年底 (or 到“十四五”末, which wins) that
    starts at or before it, else ``current``."""
    if "年" not in text and "末" not in text:  # every due phrase holds one of these marks
        return current
    due = current
    for starts, dates in _due_points(text):
        at = bisect.bisect_right(starts, position)
        if at:
            due = dates[at - 1]
    return due


# A clause with no digit and no count in Chinese numerals states no target.
_ANY_NUMBER = re.compile(r"[\d建增设立造育办](?:(?<=\d)|(?=[二三四五六七八九两十]))")  # one class first: see _NUM
# Nor does one where no construct can start (_CONSTRUCT_FIRST), no number is followed by a unit
# (the first characters of every unit _TOKEN reads) and no count in Chinese numerals stands.
_UNIT_FIRST = {
    unit[0]
    for unit in (
        *RATE_UNITS,
        *COUNT_UNITS,
        *_TRAD_UNITS,
        *_EXTRA_UNITS,
        *("/10万", "/10萬", "/十万", "/十萬", "/万", "/萬", "1/10萬", "％", "個百分點", "万", "萬", "亿", "億"),
    )
}
_MAYBE_TARGET = re.compile(  # one class first, then which of the three it is (see _NUM)
    rf"[\d建增设立造育办{re.escape(_CONSTRUCT_FIRST)}]"
    rf"(?:(?<=\d)\s*[{re.escape(''.join(sorted(_UNIT_FIRST)))}]|(?<=[建增设立造育办])(?=[二三四五六七八九两十])"
    rf"|(?<=[{re.escape(_CONSTRUCT_FIRST)}]))"
)


def find_indicators(text):
    """Indicators (name, comparator, target, unit, due) stated in an item's text."""
    return [dict(ind) for ind in _find_indicators(text)]


@functools.lru_cache(maxsize=256)  # pure in the text (a table's 量化指标 cells repeat); callers get copies
def _find_indicators(text):
    if not _ANY_NUMBER.search(text):
        return ()
    found = []
    flat = text.replace("\n", "")
    if ":" in flat or "：" in flat:
        flat = _NAMED_COLON.sub(NAMED, flat)
    for _, sentence in _split_outside(flat, "。"):
        if not _ANY_NUMBER.search(sentence):  # none of its clauses can hold a target, and its due date ends with it
            continue
        due = None
        source = None
        for _, clause in _split_outside(sentence, ",;:，；："):
            if not _ANY_NUMBER.search(clause):
                if "五" in clause:  # 到“十四五”末 dates what follows
                    due = _due_from(clause, len(clause), due)
                continue
            inds = _clause_indicators(clause, due) if _MAYBE_TARGET.search(clause) else ()
            if inds:  # the sentence is shown with its indicators
                if source is None:
                    source = sentence.replace(NAMED, ":").strip()
                    if len(source) > _SOURCE_MAX:
                        source = source[:_SOURCE_MAX] + "…"
                for ind in inds:
                    ind["source"] = source
                found.extend(inds)
            if "年" in clause or "末" in clause:  # every due phrase holds one
                due = _due_from(clause, len(clause), due)
    _fill_units(found)
    out, seen = [], set()
    for ind in found:
        key = (ind["name"], ind["comparator"], ind["target"], ind["unit"], ind["due"])
        if key not in seen:
            seen.add(key)
            ind["confidence"] = confidence.indicator_confidence(ind["rule"], ind["name"])
            out.append(ind)
    return tuple(out)


_SOURCE_MAX = 300  # the sentence an indicator came from, as the preview shows it


def _clause_indicators(clause, carried_due):
    out = []
    consumed = []  # (start, end) spans of the constructs, in order and not overlapping
    mask = _masked(clause)
    prev_end = 0
    gap = False  # a construct read no target: its span is not consumed
    # no construct starts before the first of its first characters: scan from there, or not at all
    first = _CONSTRUCT_START.search(clause)
    for m in _CONSTRUCT.finditer(clause, first.start()) if first is not None else ():
        if mask is not None and mask[m.start("cmp")]:
            continue
        name_part = clause[prev_end : m.start()]
        # a count inside the name part describes the subject: 3个试点镇…知晓率
        inner = [t for t in _TOKEN.finditer(name_part) if t.group("unit")]
        if inner:
            name_part = name_part[inner[-1].end() :]
        vals = [(v.group("num"), _norm_unit(v.group("unit"))) for v in _VALUE_TOKEN.finditer(m.group("vals"))]
        distribute = bool(m.group("fen")) or len(vals) > 1
        names = _split_names(name_part, distribute)
        if not names or not vals:
            prev_end = m.end()
            gap = True
            continue
        cmp_word = m.group("cmp")
        comparator = "<=" if cmp_word in _CEILING or m.group("post") in ("以内", "以內", "以下") else ">="
        if cmp_word == NAMED:
            rule = confidence.NAMED_VALUE
        else:
            rule = confidence.DISTRIBUTED if len(names) > 1 or len(vals) > 1 else confidence.CONSTRUCT
        due = _due_from(clause, m.start(), carried_due)
        if len(vals) == 1:
            pairs = [(n, vals[0]) for n in names]
        elif len(names) == len(vals):
            pairs = list(zip(names, vals, strict=False))
        else:
            pairs = [(names[min(i, len(names) - 1)], v) for i, v in enumerate(vals)]
        units = {u for _, u in vals if u}
        for name, (num, unit) in pairs:
            if not unit and len(units) == 1:
                unit = next(iter(units))
            out.append(
                {
                    "name": name,
                    "comparator": comparator,
                    "target": _number(num),
                    "unit": unit,
                    "due": due.isoformat() if due else None,
                    "rule": rule,
                }
            )
        consumed.append((prev_end, m.end()))
        prev_end = m.end()
    # Without a gap the constructs cover the clause up to prev_end, so a loose target can only
    # start after it, with a digit or (for a count in Chinese numerals) a verb right before it.
    if not consumed or gap or _ANY_NUMBER.search(clause, prev_end - 1):
        out.extend(_loose_targets(clause, consumed, mask, carried_due))
    return out


_CONNECTOR = re.compile(r"(和|及|与|與|并|並|以及|、)")


def _last_verb(text):
    verbs = list(_TARGET_VERB.finditer(text))
    if not verbs:
        return ""
    verb = verbs[-1].group(0)
    return "" if verb[-1].isdigit() else text[verbs[-1].start() :]


def _loose_targets(clause, consumed, mask, carried_due):
    """Counts and rates outside a 达到/控制在 construct: 新增50家…, 培训100名以上…, 100%落实…."""
    tokens = [t for t in _TOKEN.finditer(clause) if t.lastindex == 2]  # with a unit (group 2; never empty)
    if consumed:
        starts = [a for a, _ in consumed]

        def outside(tok):
            at = bisect.bisect_right(starts, tok.start()) - 1
            return at < 0 or not consumed[at][0] <= tok.start() < consumed[at][1]

        tokens = [t for t in tokens if outside(t)]
    # a count in Chinese numerals needs a verb character right before a numeral: search only then
    if _CN_COUNT_PAIR.search(clause):
        cn_counts = list(_CN_COUNT.finditer(clause))
        if consumed:
            cn_counts = [t for t in cn_counts if outside(t)]
        if cn_counts:
            tokens = sorted(tokens + cn_counts, key=lambda t: t.start())
    if not tokens:  # most clauses: a date or a number without a unit
        return []
    verb_by = -1  # a verb stands before position p iff p >= verb_by (None: nowhere); found when first needed
    accepted = []
    for tok in tokens:
        start, end = tok.span()
        if (mask is not None and mask[start]) or _context_number(clause, start, end):
            continue
        if _EXISTING.search(clause, max(0, start - 8), start):
            continue  # what already exists is context, not a target
        if _norm_unit(tok.group("unit")) not in RATE_UNITS and not clause.startswith(("以上", "多"), end):
            if verb_by == -1:
                verb_by = _prefix_match_end(_TARGET_VERB, clause)
            if not (
                (verb_by is not None and start >= verb_by)
                or (tokens[-1].start() < end and _DONE_AFTER.search(clause, end))  # no later number (in order)
            ):
                continue
        accepted.append(tok)
    if not accepted:
        return []
    lead_verb = None  # the clause's first verb, found when first needed

    def first_verb():
        nonlocal lead_verb
        if lead_verb is None:
            lead = _TARGET_VERB.search(clause)
            lead_verb = lead.group(0) if lead and not lead.group(0)[-1].isdigit() else ""
        return lead_verb

    names = {}
    shared = {}  # token start -> names of the bare segments before it that share it (A、B各10家)
    accepted_starts = [t.start() for t in accepted]
    bare: list[str] = []
    for seg_start, seg in _split_outside(clause, "、"):
        seg_end = seg_start + len(seg)
        toks = accepted[bisect.bisect_left(accepted_starts, seg_start) : bisect.bisect_left(accepted_starts, seg_end)]
        if not toks:
            bare.append(seg)
            continue
        if bare and clause[: toks[0].start()].endswith("各"):
            shared[toks[0].start()] = [n for n in (_clean_name(b) for b in bare) if n]
        bare = []
        tail = _MORE.sub("", clause[toks[-1].end() : seg_end])
        number_first = bool(_clean_name(tail))
        head = clause[seg_start : toks[0].start()]
        prefix = None  # the verb the segment opens with (else the clause's), found when first needed
        prev_end = seg_start
        for k, tok in enumerate(toks):
            if _norm_unit(tok.group("unit")) in RATE_UNITS:
                before = _clean_name(clause[prev_end : tok.start()])
                names[tok.start()] = before if before else _clean_name(_MORE.sub("", tail))
            elif number_first:
                nxt = toks[k + 1].start() if k + 1 < len(toks) else seg_end
                span = _MORE.sub("", clause[tok.end() : nxt])
                obj, next_prefix = span, ""
                if k + 1 < len(toks):
                    cut = list(_CONNECTOR.finditer(span))
                    if cut:
                        obj, next_prefix = span[: cut[-1].start()], _last_verb(span[cut[-1].end() :])
                if prefix is None:
                    prefix = _last_verb(_clean_name(head)) or first_verb()
                names[tok.start()] = prefix + _clean_name(obj)
                prefix = next_prefix or prefix
            else:
                name = _clean_name(clause[prev_end : tok.start()])
                if not name and prefix is None:
                    prefix = _last_verb(_clean_name(head)) or first_verb()
                names[tok.start()] = name or prefix
            prev_end = tok.end()
    out = []
    for tok in accepted:
        unit = _norm_unit(tok.group("unit"))
        comparator = "<=" if _BELOW.match(clause, tok.end()) else ">="
        due = _due_from(clause, tok.start(), carried_due)
        name = _clean_name(names.get(tok.start(), "")) or names.get(tok.start(), "")
        together = shared.get(tok.start(), [])
        for each in [*together, name]:
            out.append(
                {
                    "name": each,
                    "comparator": comparator,
                    "target": _number(tok.group("num")),
                    "unit": unit,
                    "due": due.isoformat() if due else None,
                    "rule": confidence.DISTRIBUTED
                    if together
                    else confidence.RATE
                    if unit in RATE_UNITS
                    else confidence.COUNT,
                }
            )
    return out


def _prefix_match_end(rx, text):
    """The smallest k for which ``rx.search(text[:k])`` matches, or None: a search is monotone in
    k, so a binary search answers "a match before position p" for every p in O(n log n).

    ``rx`` must not look past its match (no lookahead, no ``$``): then the first match found in the
    whole text bounds k, from its start + 1 (no match starts earlier) to its end."""
    first = rx.search(text)
    if first is None:
        return None
    lo, hi = first.start() + 1, first.end()
    while lo < hi:
        mid = (lo + hi) // 2
        if rx.search(text, 0, mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


_FILL_SCAN = 300  # beyond this many targets in one item only exact names lend their unit


def _fill_units(found):
    """Targets written without a unit take the unit the item gives the same measure elsewhere."""
    exact: dict[str, str] = {}
    if len(found) > _FILL_SCAN:
        for ind in found:
            if ind["unit"]:
                exact.setdefault(ind["name"], ind["unit"])
    for ind in found:
        if ind["unit"]:
            continue
        if len(found) > _FILL_SCAN:
            if ind["name"] in exact:
                ind["unit"] = exact[ind["name"]]
                continue
            others: list[dict] = []
        else:
            others = found
        for other in others:
            if (
                other is not ind
                and other["unit"]
                and (
                    other["name"] == ind["name"]
                    or other["name"].endswith(ind["name"])
                    or ind["name"].endswith(other["name"])
                )
            ):
                ind["unit"] = other["unit"]
                break
        else:
            if _PER_PREFIX.match(ind["name"]) and re.search(r"(数|數)$", ind["name"]):
                ind["unit"] = "人"
            elif ind["name"].endswith("率"):
                ind["unit"] = "%"
