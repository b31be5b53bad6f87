"""Text repair before structure: width folding, pinyin annotations, '?' damage, site chrome."""

import re

from core.text import script_key

from .numerals import find_date

# Full-width ASCII (digits, letters, parentheses, commas…) and the ideographic space fold to
# ASCII so that labels like （一） and １． parse the same as (一) and 1.; 。 and 、 stay.
_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
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


def fold_width(text):
    return text.translate(_WIDTH)


# A tone-marked pinyin syllable in brackets right after a Han character: 衛(wèi)生 → 衛生.
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
_PINYIN_TONED = re.compile(r"(?<=[\u4e00-\u9fff])\(([a-zü]*[%s][a-zü]*)\)" % _TONED)
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
_PUBLISHED = re.compile(r"^(发布日期|发布时间|发文日期|成文日期|日期|时间)[:]")
_SOURCE = re.compile(r"^(信息来源|来源|发布机构|发文机关|发布单位)[:](.*)$")
_SITE_META = re.compile(r"(发布日期|发布时间|浏览次数|阅读次数|点击数|访问次数|来源)[:]")


class Line:
    """One cleaned line of the document with its 1-based number in the extracted text."""

    __slots__ = ("no", "text")

    def __init__(self, no, text):
        self.no = no
        self.text = text

    def __repr__(self):
        return "Line(%d, %r)" % (self.no, self.text)


def strip_pinyin(text):
    """Remove pinyin annotations; returns (text, count removed)."""
    text, n = _PINYIN_TONED.subn("", text)
    if n:  # the same hand also wrote toneless syllables (de, men) on such lines
        text, n2 = _PINYIN_PLAIN.subn("", text)
        n += n2
    return text, n


def clean_lines(text, warn):
    """Split extracted text into cleaned lines, dropping site chrome.

    ``warn(line_no, message)`` records a warning. Returns (lines, hints) where hints holds
    what the site chrome said about the page (publication date, source agency).
    """
    hints = {"published_on": None, "source": None}
    lines = []
    pinyin_lines = []
    for no, raw in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), start=1):
        line = fold_width(raw)
        line, n = strip_pinyin(line)
        if n:
            pinyin_lines.append(no)
        # '?' standing in for characters the copy lost; leading/trailing runs were spaces.
        stripped = line.strip()
        core = stripped.strip("? \t")
        if "?" in stripped and _HAN.search(stripped):
            inner = core.count("?")
            if inner:
                warn(no, "有 %d 处字符丢失，显示为“?”，请核对原文" % inner)
        if "?" in stripped and not _HAN.search(core):
            core = ""
        line = re.sub(r"\s+", " ", core).strip()
        if not line:
            continue
        key = script_key(line)
        if _SITE_META.search(key):
            date = find_date(line)
            if date and not hints["published_on"] and re.search(r"(发布|发文|成文|日期)", key):
                hints["published_on"] = date
        m = _SOURCE.match(key)
        if m:
            src = re.sub(r"^\s*[:：]\s*", "", line.split(":", 1)[-1]).strip() if ":" in line else ""
            src = re.split(r"\s{1,}(?:发布|浏览|作者|时间|日期)", src)[0].strip()
            if src and not hints["source"]:
                hints["source"] = src
            continue
        if _PUBLISHED.match(key) or (_SITE_META.search(key) and len(key) < 60 and "。" not in key):
            continue
        if len(key) <= 40 and "。" not in key and any(rx.match(key) for rx in _CHROME):
            continue
        lines.append(Line(no, line))
    if pinyin_lines:
        for no in pinyin_lines[:3]:
            warn(no, "文字夹杂拼音注音（如“衛(wèi)”），已删除拼音")
        if len(pinyin_lines) > 3:
            warn(pinyin_lines[3], "从此行起另有 %d 行夹杂拼音注音，均已删除" % (len(pinyin_lines) - 3))
    return lines, hints
