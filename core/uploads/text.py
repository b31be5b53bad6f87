"""Text files: decoded text that is mostly characters no document is written in is binary
junk decoded through the wrong code page, not a plan."""

import re

from django.utils.translation import gettext as _

from core.uploads.errors import FileRefused

# Characters a plan is written in: Han (and its punctuation, full-width forms, kana/bopomofo),
# ASCII, Latin-1 punctuation, the pinyin vowels with tone marks, and the symbol blocks plans
# use (①, ■, ≥, ℃, Ⅱ, →, ☆). Junk decoded through a Latin code page is mostly none of these.
_PLAUSIBLE_CHARS = (
    "\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff\u3000-\u312f\uff00-\uffef"
    "\u2000-\u27bf\u0020-\u007e\u00a0-\u00bf\u00d7\u00f7\u00e0-\u00fc\u0101-\u01dc"
)
# Counted by what they are not: a plan has few such characters, so the search finds little and
# builds no list of every character (the parser's read step spent most of its time there).
_IMPLAUSIBLE = re.compile(f"[^{_PLAUSIBLE_CHARS}]")
_WHITESPACE = re.compile(r"\s")


def refuse_junk_text(text: str, data: bytes = b"") -> None:
    """Refuse decoded text that is mostly characters no plan is written in (binary junk)."""
    sample = _WHITESPACE.sub("", text[:20000])
    if not sample and not data.strip():
        raise FileRefused(_("文件中没有可识别的文字内容（文件只有空白）"), "empty")
    if not sample:
        raise FileRefused(_("无法识别文件内容：解码后没有任何文字（可能是二进制文件或扩展名错误）"))
    plausible = len(sample) - len(_IMPLAUSIBLE.findall(sample))
    if plausible < len(sample) * 0.85:
        raise FileRefused(
            _(
                "无法识别文件内容：看起来不是文本（可能是二进制文件或扩展名错误），"
                "请上传 txt、网页、Word、PDF 或 Excel 文件"
            )
        )
