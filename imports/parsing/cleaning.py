"""Text repair before structure: width folding, pinyin annotations, '?' damage, site chrome."""

import re
import unicodedata
from typing import Any

from django.utils.translation import gettext as _

from core.text import script_key as _script_key
from core.text import to_simplified

from .numerals import find_damaged_date, find_date

# Full-width ASCII (digits, letters, parentheses, commas…) and the ideographic space fold to
# ASCII so that labels like （一） and １． parse the same as (一) and 1.; 。 and 、 stay.
_WIDTH: dict[int, int | None] = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_WIDTH.update(
    {
        0x3000: 0x20,
        0xA0: 0x20,
        0x2002: 0x20,
        0x2003: 0x20,
        0x2009: 0x20,
        0x200B: None,
        0xFEFF: None,
        0x2028: 0x0A,
        0x2029: 0x0A,
        0x00AD: None,
        0xFF61: 0x3002,
    }
)


# str.translate looks every character up in the table; a regular expression finds the few that
# fold and leaves the rest alone (the same result, several times faster on Chinese text).
_FOLDS = {chr(cp): "" if to is None else chr(to) for cp, to in _WIDTH.items()}
_FOLDABLE = re.compile("[" + re.escape("".join(sorted(_FOLDS))) + "]")
_fold = _FOLDS.__getitem__


# The ones Chinese text is full of go first, each through str.replace.
_COMMON_FOLDS = tuple((ch, _FOLDS[ch]) for ch in "，（）：；％？！\u3000")


def fold_width(text):
    for wide, narrow in _COMMON_FOLDS:
        if wide in text:
            text = text.replace(wide, narrow)
    return _FOLDABLE.sub(lambda m: _fold(m.group()), text) if _FOLDABLE.search(text) else text


_SPACES = re.compile(r"\s\s*")  # \s+, opening with a class: the engine skips to the next space at once


# A tone-marked pinyin syllable in brackets right after a Han character: 衛(wèi)生 → 衛生.
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
_PINYIN_TONED = re.compile(rf"(?<=[\u4e00-\u9fff])\(([a-zü]*[{_TONED}][a-zü]*)\)")
_ANY_TONED = re.compile(f"[{_TONED}]")
_PINYIN_PLAIN = re.compile(r"(?<=[\u4e00-\u9fff])\(([a-zü]{1,6})\)")

_HAN = re.compile(r"[\u4e00-\u9fff]")

# Lines that are web-site furniture, matched on the simplified, space-free form.
_CHROME = [
    re.compile(p)
    for p in (
        r"^(当前位置|您的位置|你的位置|位置)[:>].*",
        r"^首页>.*",
        r"^(分享|分享到)[:]?.{0,40}$",
        r"^(【)?(关闭|打印|收藏|关闭窗口|打印本页|关闭本页)(】)?((【)?(关闭|打印|收藏|关闭窗口|打印本页)(】)?)*$",
        r".*扫码.*",
        r".*扫一扫.*",
        r"^(【)?字号[:]?(大中小|【大】【中】【小】|大|中|小)*(】)?$",
        r"^(【)?字体[:]?.{0,8}(】)?$",
        r"^浏览次数[:]?\d*$",
        r"^(验证码|全部评论|发表评论|我要评论|网友评论)$",
        r"^(上一篇|下一篇|上一条|下一条)[:].*",
        r"^(相关链接|相关文章|相关阅读|返回顶部|返回首页|返回列表|打印本页)$",
        r"^(责任编辑|编辑|作者|审核|点击数|阅读数|访问量|点击量)[:].{0,40}$",
        r"^[•·●◆▪■□>»|/\\-]+$",
        r"^(微信|微博|qq空间|qq|豆瓣)$",
        r"^(主办单位|承办单位|主办|承办|协办|版权所有|技术支持|网站标识码|网站地图|联系我们)[:].*",
        r".*(icp备|公网安备|版权所有|copyright).*",
    )
]
_SITE_META = re.compile(r"(发布日期|发布时间|浏览次数|阅读次数|点击数|访问次数|来源)[:]")
# Fields of a government portal's information table (政府信息公开), matched on the key form.
# The value runs to the next label; a label may stand alone with its value on the next line.
_PORTAL_FIELDS = {
    "索引号": "index",
    "发布机构": "issuer",
    "发文机关": "issuer",
    "发文机构": "issuer",
    "发文单位": "issuer",
    "发布单位": "issuer",
    "信息来源": "source",
    "来源": "source",
    "文号": "doc_number",
    "发文字号": "doc_number",
    "成文日期": "written_on",
    "成文时间": "written_on",
    "发文日期": "written_on",
    "印发日期": "written_on",
    "发布日期": "published_on",
    "发布时间": "published_on",
    "公开日期": "published_on",
    "公开时间": "published_on",
    "生成日期": "published_on",
    "主题分类": "other",
    "体裁分类": "other",
    "公文种类": "other",
    "主题词": "other",
    "关键词": "other",
    "有效性": "other",
    "是否有效": "other",
    "信息类别": "other",
    "公开方式": "other",
    "公开范围": "other",
    "名称": "other",
    "标题": "other",
    "作者": "other",
    "日期": "date",
    "时间": "date",
}
_PORTAL_LABEL = re.compile(
    r"(?:^|(?<=\s))({})\s*[:：]?(?=\s|$)|({})\s*[:：]".format(
        "|".join(sorted(_PORTAL_FIELDS, key=len, reverse=True)), "|".join(sorted(_PORTAL_FIELDS, key=len, reverse=True))
    )
)
# Page furniture of a printed plan copied as text: — 3 —, 第3页 共10页, 3/10.
_PAGE_NUMBER = re.compile(
    r"^\s*(?:[-—–]\s*\d{1,3}\s*[-—–]|第\s*\d{1,3}\s*页(?:\s*[,，]?\s*共\s*\d{1,3}\s*页)?|\d{1,3}\s*/\s*\d{1,3})\s*$"
)


# The first characters of the labels above, in both scripts: most lines are no table row.
_PORTAL_START = re.compile(r"^\s*[索发發信来來文成印公生主体體关關有是名标標作日时時]")


def portal_fields(text):
    """{field: value} for a line of a portal's information table, or {} when it is none.

    Labels are matched with their spaces closed up (文  号: → 文号:), so this reads the key
    form; the values are cut back out of it.
    """
    if not _PORTAL_START.match(text):
        return {}
    line = re.sub(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff]{1,3}\s*[:：])", "", text.strip())
    simple = to_simplified(line)
    if len(simple) != len(line):  # t2s changed the length: read the values in simplified script
        line = simple
    found = list(_PORTAL_LABEL.finditer(simple))
    if not found or found[0].start() > 0:
        return {}
    fields: dict[str, str] = {}
    for k, m in enumerate(found):
        label = m.group(1) or m.group(2)
        value = line[m.end() : found[k + 1].start() if k + 1 < len(found) else len(line)].strip(" :：\t")
        fields.setdefault(_PORTAL_FIELDS[label], value)
    return fields


# script_key goes through OpenCC, whose per-call cost is far above its per-character cost: keys
# are remembered, and a document's lines get theirs from one conversion (prime_keys).
_KEYS: dict[str, str] = {}
_KEYS_MAX = 50_000


def script_key(text):
    """core.text.script_key, remembered."""
    key = _KEYS.get(text)
    if key is None:
        key = _script_key(text)
        if len(_KEYS) >= _KEYS_MAX:
            _KEYS.clear()
        _KEYS[text] = key
    return key


def prime_keys(texts):
    """script_key for many texts with one OpenCC call (same steps as core.text.script_key)."""
    todo = [t for t in dict.fromkeys(texts) if t not in _KEYS and "\n" not in t]
    if not todo:
        return
    folded = [_SPACES.sub("", unicodedata.normalize("NFKC", t)) for t in todo]
    simple = to_simplified("\n".join(folded)).split("\n")
    if len(simple) != len(todo):
        return
    if len(_KEYS) + len(todo) >= _KEYS_MAX:
        _KEYS.clear()
    for text, key in zip(todo, simple, strict=True):
        _KEYS[text] = key.lower()


class Line:
    """One cleaned line of the document with its 1-based number in the extracted text."""

    __slots__ = ("no", "text")

    def __init__(self, no, text):
        self.no = no
        self.text = text

    def __repr__(self):
        return f"Line({self.no}, {self.text!r})"


def strip_pinyin(text):
    """Remove pinyin annotations; returns (text, count removed)."""
    if "(" not in text or not _ANY_TONED.search(text):  # annotations are bracketed, and a toned one comes first
        return text, 0
    text, n = _PINYIN_TONED.subn("", text)
    if n:  # the same hand also wrote toneless syllables (de, men) on such lines
        text, n2 = _PINYIN_PLAIN.subn("", text)
        n += n2
    return text, n


def _official(name):
    """True for a 来源/发布机构 that names an agency rather than a website."""
    key = script_key(name)
    return bool(key) and not _WEBSITE.search(key) and bool(_AGENCY_END.search(key))


_AGENCY_END = re.compile(r"(委员会|委|局|厅|办公室|办|政府|中心|院|部)$")
_WEBSITE = re.compile(r"(网|网站|网络|互联网|转载|整理|范文|简历|文库|\.com|\.cn|www)")


def clean_lines(text, warn):
    """Split extracted text into cleaned lines, dropping site chrome and page furniture.

    ``warn(line_no, message)`` records a warning. Returns (lines, hints) where hints holds
    what the page said about the document: its portal table (issuer, doc_number, written_on,
    published_on), the 来源 line (source), whether the page is a government portal's
    (official) or a copy site's (copy_site).
    """
    hints: dict[str, Any] = {
        "published_on": None,
        "written_on": None,
        "source": None,
        "issuer": None,
        "doc_number": None,
        "official": False,
        "copy_site": False,
    }
    lines = []
    pinyin_lines = []
    pending = None  # a portal label standing alone, its value on the next line
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    raw_lines = text.split("\n")
    if "\u2028" in text or "\u2029" in text:  # these fold to line breaks inside their line
        folded = [fold_width(raw) for raw in raw_lines]
    else:  # folding makes and removes no line break: fold the whole text at once
        folded = fold_width(text).split("\n")
    prime_keys(_SPACES.sub(" ", line).strip() for raw, line in zip(raw_lines, folded, strict=True) if raw.strip())
    for no, line in enumerate(folded, start=1):
        line, n = strip_pinyin(line)
        if n:
            pinyin_lines.append(no)
        # '?' standing in for characters the copy lost; leading/trailing runs were spaces.
        stripped = line.strip()
        core = stripped.strip("? \t")
        if "?" in stripped and _HAN.search(stripped):
            inner = core.count("?")
            if inner:
                warn(no, _("有 %(n)d 处字符丢失，显示为“?”，请核对原文") % {"n": inner})
        if "?" in stripped and not _HAN.search(core):
            core = ""
        line = _SPACES.sub(" ", core).strip()
        if not line:
            continue
        if _PAGE_NUMBER.match(line):
            continue
        if pending is not None and len(line) <= 60 and "。" not in line:
            _note_field(hints, pending, line, no, warn)
            pending = None
            continue
        pending = None
        key = script_key(line)
        fields = portal_fields(line) if len(key) <= 200 and "。" not in key else {}
        if fields:
            for field, value in fields.items():
                _note_field(hints, field, value, no, warn)
            if len(fields) == 1 and not next(iter(fields.values())):
                pending = next(iter(fields))
            continue
        if _SITE_META.search(key) and len(key) < 60 and "。" not in key:
            date = find_date(line)
            if date and not hints["published_on"] and re.search(r"(发布|发文|成文|日期)", key):
                hints["published_on"] = date
            continue
        if len(key) <= 40 and "。" not in key and any(rx.match(key) for rx in _CHROME):
            continue
        lines.append(Line(no, line))
    if pinyin_lines:
        for no in pinyin_lines[:3]:
            warn(no, _("文字夹杂拼音注音（如“衛(wèi)”），已删除拼音"))
        if len(pinyin_lines) > 3:
            warn(pinyin_lines[3], _("从此行起另有 %(n)d 行夹杂拼音注音，均已删除") % {"n": len(pinyin_lines) - 3})
    source = hints["issuer"] or hints["source"]
    if source and not _official(source):
        hints["copy_site"] = True
    elif source or hints["written_on"] or hints["doc_number"]:
        hints["official"] = True
    return lines, hints


def _note_field(hints, field, value, line_no, warn):
    value = re.split(r"\s+(?:发布|浏览|作者|时间|日期|發布|瀏覽)", value.strip())[0].strip()
    if not value:
        return
    if field in ("published_on", "written_on", "date"):
        date = find_date(value)
        if date is None:
            date = find_damaged_date(value)
            if date is not None:
                warn(
                    line_no,
                    _("日期“%(written)s”已按 %(date)s 读取（原文日期不完整），请核对")
                    % {"written": value, "date": date},
                )
        if date is not None:
            if field == "date":
                field = "published_on"
            if hints[field] is None:
                hints[field] = date
    elif field in ("issuer", "source", "doc_number") and hints[field] is None:
        hints[field] = re.sub(r"\s+", "", value) if field == "doc_number" else value


# A line that opens an item or a section: never the tail of the line before it.
_OPENS = re.compile(
    r"^\s*(第[一二三四五六七八九十百零〇两\d]+(部分|篇|章)|[一二三四五六七八九十]{1,3}\s*[、.]|\(\s*[一二三四五六七八九十\d]{1,3}\s*\)"
    r"|\d{1,3}\s*[.、]|[①-⑳])"
)
_ENDS = tuple("。；;：:！!？?)")


def display_width(text):
    """Columns the text takes on a page: Han and full-width forms (three bytes in UTF-8) count two."""
    return len(text) + (len(text.encode("utf-8")) - len(text)) // 2


_NARROWEST_PAGE = 40  # columns: 20 Han characters, about the narrowest line a printed plan has


def wrap_width(widths):
    """The page width lines were hard-wrapped at, or None when the text was not wrapped.

    Wrapped text has many lines ending within a few columns of the same width (the edge of the
    page); paragraphs written one per line do not.
    """
    long = sorted(w for w in widths if w >= 30)
    if len(long) < 6:
        return None
    edge = long[min(len(long) - 1, int(len(long) * 0.9))]
    if edge < _NARROWEST_PAGE:  # a list of short lines of one length (文件清单) is no wrapped text
        return None
    near = sum(1 for w in long if edge - 6 <= w <= edge + 2)
    return edge if near >= max(4, len(long) * 0.3) else None


def join_hard_breaks(lines):
    """Lines of one paragraph broken at the page edge (a PDF's text layer, a copy of one) joined
    back, so that no heading, owner note or name is read in halves."""
    widths = [display_width(line.text) for line in lines]
    edge = wrap_width(widths)
    if edge is None:
        return list(lines)
    prime_keys(line.text for line in lines)
    out: list[Line] = []
    full = False  # the previous physical line reached the page edge
    for line, width in zip(lines, widths, strict=True):
        if out and full and not out[-1].text.endswith(_ENDS) and not _OPENS.match(line.text):
            out[-1] = Line(out[-1].no, out[-1].text + line.text)
        else:
            out.append(line)
        full = width >= edge - 6
    return out
