"""A PDF's text layer and page sizes, read by PDFium (pypdfium2) after core.uploads.pdf's checks.

PDFium reads a 40 KB plan's text layer in a few milliseconds; pdfminer.six, used before, took
about half a second on the same file, most of it building one Python object per character for a
layout analysis the parser does not need. What the parser does need: the lines of each page in
reading order (page_text removes running headers and page numbers by page), and their text
(display widths, from the text, decide which lines were wrapped at the page edge).

PDFium gives the characters in the order the page draws them, with a line break wherever the
baseline moves. Word and WPS draw the body top to bottom, but may draw a page's header and footer
before (or after) it: the lines in the page's top and bottom margins (the outer 8 % of its height)
are put first and last, top to bottom, as pdfminer's layout analysis put them. Everything else
keeps its drawing order, so that a table cell's lines stay together.

PDFium is not thread-safe (not even across documents): every call here holds one lock.
"""

from __future__ import annotations

import ctypes
import re
import threading

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from django.utils.translation import gettext as _

from .errors import ParseError
from .safety import reader_boundary

_PDFIUM = threading.Lock()
# PDFium marks a hyphen that ends a line (and so joins it to the next) as U+FFFE; in a Chinese plan
# it is a real one (2021-2025年, 急诊-ICU): keep it as written.
_LINE_END_HYPHEN = "\ufffe"


def _open(data: bytes):
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if exc.err_code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            raise ParseError(_("PDF 文件已加密，无法读取，请提供未加密的文件")) from exc
        raise ParseError(_("PDF 文件已损坏，无法读取")) from exc


_MARGIN = 0.08  # of the page height: where headers and footers stand, and no body text
_LINE = re.compile(r"[^\r\n]+")


def _page_lines(document, index: int) -> list[str]:
    page = document[index]
    try:
        textpage = page.get_textpage()
        try:
            text = textpage.get_text_range()
            lines = _reading_order(page, textpage, text)
        finally:
            textpage.close()
    finally:
        page.close()
    return [line.replace(_LINE_END_HYPHEN, "-") for line in lines]


def _reading_order(page, textpage, text: str) -> list[str]:
    """The page's non-blank lines, those in the top and bottom margins moved first and last."""
    found = [(m.start(), m.group()) for m in _LINE.finditer(text) if not m.group().isspace()]
    if len(found) < 2 or page.get_rotation() or max(text, default="") > "\uffff":
        # one line, a turned page, or text indices that are not string offsets: drawing order
        return [line for _, line in found]
    # the text index get_text_range started from: that of the first character not left out
    count, first = pdfium_c.FPDFText_CountChars(textpage), 0
    while first < count and pdfium_c.FPDFText_GetTextIndexFromCharIndex(textpage, first) < 0:
        first += 1
    start = pdfium_c.FPDFText_GetTextIndexFromCharIndex(textpage, first) if first < count else -1
    if start < 0:
        return [line for _, line in found]
    bottom, top = page.get_bbox()[1::2]
    band = (top - bottom) * _MARGIN
    left, right, low, high = (ctypes.c_double() for _ in range(4))
    keyed = []
    for offset, line in found:
        char = pdfium_c.FPDFText_GetCharIndexFromTextIndex(textpage, start + offset + len(line) - len(line.lstrip()))
        key: tuple[int, float] = (1, 0.0)  # the body: drawing order
        if char >= 0 and pdfium_c.FPDFText_GetCharBox(textpage, char, left, right, low, high):
            middle = (low.value + high.value) / 2
            if top - band < middle <= top:
                key = (0, -middle)
            elif bottom <= middle < bottom + band:
                key = (2, -middle)
        keyed.append((key, line))
    keyed.sort(key=lambda item: item[0])  # stable: body lines keep their order
    return [line for _, line in keyed]


def text_pages(data: bytes, max_pages: int | None = None) -> list[list[str]]:
    """The text lines of each page (of the first ``max_pages``); ParseError for a PDF that is
    encrypted or too damaged to open."""
    with _PDFIUM:
        document = _open(data)
        try:
            # PdfiumError on a page that fails to load; RecursionError in get_text_range's edge walk
            with reader_boundary(_("PDF 文件已损坏，无法读取")):
                count = len(document) if max_pages is None else min(max_pages, len(document))
                return [_page_lines(document, index) for index in range(count)]
        finally:
            document.close()


def page_sizes(data: bytes, limit: int) -> list[tuple[float, float]]:
    """(width, height) in points of each page, up to ``limit`` + 1 pages (enough to tell that a
    document has more than ``limit``)."""
    with _PDFIUM:
        document = _open(data)
        try:
            return [document.get_page_size(index) for index in range(min(len(document), limit + 1))]
        finally:
            document.close()
