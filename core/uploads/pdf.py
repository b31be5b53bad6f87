"""PDF files: Flate streams inflated within a budget (PDF bombs), and the envelope around the
document (header, end marker, and no page hidden before or after them).

Every ``stream`` keyword followed by zlib data is inflated with a bounded decompressor
(never more than the remaining budget is produced), so the check stays linear and within
``max_uncompressed``. LZW and RunLength streams are not measured: PDFium, which reads the
text layer (imports.parsing.pdftext), reads such bombs without inflating them
(tests/imports/parsing/test_safety.py).
"""

import re
import zlib

from django.utils.translation import gettext as _

from core.uploads.errors import FileRefused
from core.uploads.limits import DEFAULT_LIMITS, MB, Limits, size_text
from core.uploads.sniff import MARKUP

_STREAM = re.compile(rb"stream\r?\n")
_ZLIB_CMF = frozenset(b"\x08\x18\x28\x38\x48\x58\x68\x78")


class _Budget:
    def __init__(self, limit):
        self.limit, self.used = limit, 0

    def spend(self, n):
        self.used += n
        if self.used > self.limit:
            raise FileRefused(
                _("PDF 文件解压后过大（超过 %(limit)s），疑似压缩炸弹，已拒绝") % {"limit": size_text(self.limit)},
                "unsafe",
            )


def _inflate_from(data, start, budget, depth):
    """Inflate the zlib stream at ``data[start:]`` within ``budget``; returns where it ended,
    or None when it is no zlib data. An inflated stream that is itself zlib data (a filter
    chain ``[/FlateDecode /FlateDecode]``) is inflated in turn, up to three levels."""
    inflater = zlib.decompressobj()
    offset = start
    keep: list[bytes] | None = [] if depth < 3 else None
    decided = False
    try:
        while not inflater.eof and offset < len(data):
            buf = data[offset : offset + 64 * 1024]
            offset += len(buf)
            while buf:
                out = inflater.decompress(buf, MB)
                budget.spend(len(out))
                if keep is not None and out:
                    if not decided and out[0] not in _ZLIB_CMF:
                        keep = None
                    else:
                        keep.append(out)
                    decided = True
                buf = inflater.unconsumed_tail
                if inflater.eof or not out:
                    break
    except zlib.error:
        return None
    if keep:
        inner = b"".join(keep)
        _inflate_from(inner, 0, budget, depth + 1)
    return offset - len(inflater.unused_data) if inflater.eof else offset


def check_pdf(data: bytes, limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse a PDF whose Flate streams inflate beyond the limits (a PDF bomb)."""
    budget = _Budget(limits.max_uncompressed)
    pos = 0
    while True:
        match = _STREAM.search(data, pos)
        if not match:
            break
        pos = match.end()
        if data[pos : pos + 1] and data[pos] in _ZLIB_CMF:
            end = _inflate_from(data, pos, budget, 1)
            if end is not None:
                pos = max(pos, end)
    total = budget.used
    if total >= limits.ratio_floor and total > len(data) * limits.max_ratio:
        raise FileRefused(
            _("PDF 压缩比异常（解压后 %(size)s，压缩比约 %(ratio)d:1），疑似压缩炸弹，已拒绝")
            % {"size": size_text(total), "ratio": total // max(1, len(data))},
            "unsafe",
        )


def check_pdf_envelope(data: bytes) -> None:
    """A PDF to keep as it is (evidence): a real header, a final %%EOF, and no web page hidden
    before the header or after the end marker (PDF/HTML polyglots). FileRefused with an
    empty message when the header is not a PDF's: the caller says what it expected."""
    header = data.find(b"%PDF-", 0, 1024)
    if header < 0 or not re.match(rb"%PDF-[12]\.[0-9]", data[header : header + 8]):
        raise FileRefused("", "invalid")
    # Leading bytes are legal, which is what PDF/HTML polyglots hide behind.
    if MARKUP.search(data[:header]):
        raise FileRefused(_("在 PDF 文件头之前夹带了网页代码，疑似伪装文件，已拒绝。"), "unsafe", about_file=True)
    end = data.rfind(b"%%EOF", max(0, len(data) - 1024))
    if end < 0:
        raise FileRefused(
            _("不完整（末尾缺少 PDF 结束标记 %%EOF），可能上传中断或文件已损坏，请重新导出后上传。"), about_file=True
        )
    if MARKUP.search(data[end:]):
        raise FileRefused(_("在 PDF 结束标记之后夹带了网页代码，疑似伪装文件，已拒绝。"), "unsafe", about_file=True)
