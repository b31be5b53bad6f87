"""Plan parsing: a published plan file (txt, HTML, docx, doc/wps, PDF, OFD, xlsx, csv) to the import parse document.

Plain Python, no ORM: ``parse_file(path)`` / ``parse_bytes(data, filename)`` return the shape
described in shared/spec/import-format.md; unreadable input raises ``ParseError`` with a Chinese
message — and nothing else: every file, however hostile, yields a document or a ``ParseError``
(core.uploads has the checks that run before any reader; tests/imports/parsing/
test_properties.py is the property test).

Besides the spec's keys the document carries optional ones for the import preview: each task's
``rule``, ``confidence`` and ``owner_details``, each indicator's ``rule``, ``confidence`` and
``source`` sentence (see confidence.py), the ``dropped`` lines with their reasons and the reader's
``format``. Consumers that know only the spec ignore them.

``max_bytes`` (default ``DEFAULT_MAX_BYTES``, 20 MB) is the upload size limit; ``limits`` (a
``safety.Limits``) the archive/spreadsheet limits; ``ocr_time_limit`` the seconds OCR of a scanned
PDF may take. A text in which no plan structure (numbered items, sections) is found is refused
with a ParseError; ``require_structure=False`` returns an empty document with a warning instead.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from django.utils.translation import gettext as _

from core.text import script_key
from core.uploads import DEFAULT_LIMITS, DEFAULT_MAX_BYTES, Limits, check_size

from . import cleaning, indicators
from .cleaning import clean_lines
from .errors import ParseError
from .ocr import OCR_TIME_LIMIT
from .readers import needs_ocr, read
from .safety import refusals_as_parse_errors
from .structure import parse_lines
from .tables import parse_sheets

__all__ = [
    "DEFAULT_MAX_BYTES",
    "OCR_TIME_LIMIT",
    "Limits",
    "ParseError",
    "forget_texts",
    "needs_ocr",
    "parse_bytes",
    "parse_file",
    "script_key",
]


class _Progress:
    """Forwards 0–100 to the caller's callback, never backwards."""

    def __init__(self, callback: Callable[[int], None] | None):
        self.callback = callback
        self.value = -1

    def __call__(self, value: float) -> None:
        value = max(0, min(100, int(value)))
        if self.callback is not None and value > self.value:
            self.value = value
            self.callback(value)

    def span(self, start: int, end: int) -> Callable[[int], None]:
        """A callback whose 0–100 is this one's ``start``–``end``."""
        return lambda value: self(start + (end - start) * value / 100)


def parse_bytes(
    data: bytes | bytearray | memoryview,
    filename: str,
    progress: Callable[[int], None] | None = None,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    limits: Limits | None = None,
    require_structure: bool = True,
    ocr_time_limit: float = OCR_TIME_LIMIT,
) -> dict:
    """The parse document for a file's bytes; ``progress`` (optional) receives 0–100."""
    if isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    report = _Progress(progress)
    report(0)
    warnings: list[str] = []
    seen: set[str] = set()

    def warn(line_no: int, message: str) -> None:
        entry = f"line {line_no}: {message}"
        if entry not in seen:
            seen.add(entry)
            warnings.append(entry)

    # reading is most of the work only for a scan (OCR): its pages move the bar up to 80
    extracted = read(
        data,
        filename,
        max_bytes=max_bytes,
        limits=limits or DEFAULT_LIMITS,
        progress=report.span(0, 80),
        ocr_time_limit=ocr_time_limit,
    )
    report(20)
    for note in extracted.notes:
        warn(1, note)
    doc = None
    if extracted.kind in ("table", "docx"):
        doc = parse_sheets(extracted.sheets, extracted.preamble, warn)
        if doc is None and extracted.kind == "table":
            raise ParseError(_("表格中没有找到任务列（如“重点任务”“工作任务”“任务内容”），无法识别为任务分解表"))
    if doc is None:
        lines, hints = clean_lines(extracted.text, warn)
        report(40)
        if not lines:
            raise ParseError(_("文件中没有可识别的文字内容"))
        doc = parse_lines(lines, hints, warn, progress=report)
    if not doc["tasks"]:
        if require_structure:
            if extracted.kind == "table" and not doc["sections"]:
                raise ParseError(_("未能识别出任务分解表的内容：表头下面没有任何任务行"))
            raise ParseError(
                _(
                    "未能识别出工作要点的结构：文件中没有找到编号的工作任务（如“1.”“(一)”）或章节标题，"
                    "请确认上传的是年度工作要点或任务分解表"
                )
            )
        warnings.append("line 1: " + _("没有识别出任何工作任务，请检查文件内容或格式"))
    report(100)
    return {
        "plan": doc["plan"],
        "sections": doc["sections"],
        "tasks": doc["tasks"],
        "warnings": sorted(warnings, key=_line_of),
        "dropped": doc.get("dropped", []),
        "format": extracted.format,
    }


def _line_of(entry: str) -> int:
    try:
        return int(entry.split(":", 1)[0].split()[1])
    except (IndexError, ValueError):
        return 0


def parse_file(
    path: str | os.PathLike,
    progress: Callable[[int], None] | None = None,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    limits: Limits | None = None,
    require_structure: bool = True,
    ocr_time_limit: float = OCR_TIME_LIMIT,
) -> dict:
    """The parse document for a file on disk (never reads more than ``max_bytes`` + 1 bytes)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1) if max_bytes is not None else handle.read()
            if max_bytes is not None and len(data) > max_bytes:
                with refusals_as_parse_errors():
                    check_size(data, max_bytes, size=os.fstat(handle.fileno()).st_size)
    except OSError as exc:
        raise ParseError(_("无法打开文件：%(name)s") % {"name": os.path.basename(str(path))}) from exc
    return parse_bytes(
        data,
        os.path.basename(str(path)),
        progress=progress,
        max_bytes=max_bytes,
        limits=limits,
        require_structure=require_structure,
        ocr_time_limit=ocr_time_limit,
    )


def forget_texts() -> None:
    """Empty every cache the parser keeps of texts it has read (script keys, labels, names, owner
    notes, item texts), so that the next parse is cold, as for a plan never seen before.

    For benchmarks and tests: a parse of a new plan pays for everything these caches save.
    """
    for name, module in list(sys.modules.items()):
        if name.startswith(__name__ + "."):
            for value in list(vars(module).values()):
                if callable(getattr(value, "cache_clear", None)):
                    value.cache_clear()
    cleaning._KEYS.clear()
    indicators._NORMED_UNITS.clear()
