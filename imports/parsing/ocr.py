"""Scanned PDFs (no text layer): each page rendered by pdftoppm and read by tesseract, within a
time limit of its own and with progress per page."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable

from django.utils.translation import gettext as _

from .errors import ParseError
from .pdftext import page_sizes
from .tools import Workdir, run, which

# Seconds the whole recognition may take (a page takes a few); the import job gives OCR this
# limit rather than the parse limit.
OCR_TIME_LIMIT = 600.0
MAX_PAGES = 60
# Rendering resolution, lowered for big pages so that no page is rendered past this many pixels.
DPI = 300
MAX_PAGE_PIXELS = 12_000_000
LANGUAGES = ("chi_sim", "chi_tra")  # the first installed is used
_HAN_GAP = re.compile(
    r"(?<=[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef])[ \t]+(?=[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef])"
)


def _tessdata_languages(tesseract: str) -> set[str]:
    with Workdir() as work:
        try:
            out = run([tesseract, "--list-langs"], 20, work, "tesseract")
        except ParseError:
            return set()
    return {line.strip() for line in out.decode("utf-8", "replace").splitlines()[1:]}


def missing() -> str | None:
    """What the server lacks for OCR, in words for the refusal, or None when all is there."""
    parts = []
    if which("pdftoppm") is None:
        parts.append("pdftoppm（poppler-utils）")
    tesseract = which("tesseract")
    if tesseract is None:
        parts.append("tesseract（tesseract-ocr）")
    elif not _tessdata_languages(tesseract) & set(LANGUAGES):
        parts.append(_("tesseract 的中文语言包（tesseract-ocr-chi-sim / tesseract-ocr-chi-tra）"))
    return "、".join(parts) or None


def refusal(what_is_missing: str) -> ParseError:
    return ParseError(
        _(
            "PDF 没有文字层（可能是扫描件），需要文字识别（OCR），但服务器未安装%(missing)s。"
            "请提供带文字的 PDF 或 Word 文档"
        )
        % {"missing": what_is_missing}
    )


def recognise(
    data: bytes,
    progress: Callable[[int], None] | None = None,
    time_limit: float = OCR_TIME_LIMIT,
) -> list[list[str]]:
    """Lines of text per page of a scanned PDF; ``progress`` gets the share of pages done (0–100)."""
    lacking = missing()
    if lacking:
        raise refusal(lacking)
    sizes = page_sizes(data, MAX_PAGES)
    if not sizes:
        raise ParseError(_("PDF 文件中没有页面"))
    if len(sizes) > MAX_PAGES:
        raise ParseError(
            _("扫描件页数过多（超过 %(limit)d 页），文字识别无法完成，请拆分后再导入") % {"limit": MAX_PAGES}
        )
    tesseract, pdftoppm = which("tesseract"), which("pdftoppm")
    assert tesseract is not None and pdftoppm is not None
    # one model: chi_sim+chi_tra together mixes the scripts within a line
    languages = next(lang for lang in LANGUAGES if lang in _tessdata_languages(tesseract))
    deadline = time.monotonic() + time_limit
    pages = []
    with Workdir() as work:
        source = work.file("scan.pdf", data)
        for number, (width, height) in enumerate(sizes, start=1):
            dpi = _dpi(width, height)
            if dpi is None:
                raise ParseError(_("PDF 第 %(page)d 页的页面尺寸异常，无法识别") % {"page": number})
            image = work.file(f"page-{number}")
            run(
                [
                    pdftoppm,
                    "-r",
                    str(dpi),
                    "-f",
                    str(number),
                    "-l",
                    str(number),
                    "-gray",
                    "-png",
                    "-singlefile",
                    source,
                    image,
                ],
                _remaining(deadline, time_limit),
                work,
                _("PDF 渲染"),
            )
            out = run(
                [tesseract, image + ".png", "stdout", "-l", languages, "--psm", "6"],
                _remaining(deadline, time_limit),
                work,
                _("文字识别（OCR）"),
            )
            os.remove(image + ".png")
            pages.append([_HAN_GAP.sub("", line).strip() for line in out.decode("utf-8", "replace").splitlines()])
            if progress is not None:
                progress(int(100 * number / len(sizes)))
    return pages


def _dpi(width: float, height: float) -> int | None:
    if not (1 <= width <= 14400 and 1 <= height <= 14400):  # PDF's own limit is 200 inches
        return None
    inches = (width / 72) * (height / 72)
    dpi = min(DPI, int((MAX_PAGE_PIXELS / inches) ** 0.5))
    return dpi if dpi >= 50 else None


def _remaining(deadline: float, time_limit: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise ParseError(
            _("文字识别超时（超过 %(seconds)d 秒），请提供带文字的 PDF 或 Word 文档") % {"seconds": int(time_limit)}
        )
    return left
