"""Plan parsing: a published plan file (txt, HTML, docx, PDF, xlsx, csv) to the import parse document.

Pure Python, no Django: ``parse_file(path)`` / ``parse_bytes(data, filename)`` return the shape
described in shared/spec/import-format.md; unreadable input raises ``ParseError`` with a Chinese
message — and nothing else: every file, however hostile, yields a document or a ``ParseError``
(core.uploads has the checks that run before any reader; tests/imports/parsing/
test_properties.py is the property test).

``max_bytes`` (default ``DEFAULT_MAX_BYTES``, 20 MB) is the upload size limit; ``limits`` (a
``safety.Limits``) the archive/spreadsheet limits. A text in which no plan structure (numbered
items, sections) is found is refused with a ParseError; ``require_structure=False`` returns an
empty document with a warning instead.
"""

import os

from core.text import script_key
from core.uploads import DEFAULT_LIMITS, DEFAULT_MAX_BYTES, Limits, check_size

from .cleaning import clean_lines
from .errors import ParseError
from .readers import read
from .safety import refusals_as_parse_errors
from .structure import parse_lines
from .tables import parse_sheets

__all__ = ["DEFAULT_MAX_BYTES", "Limits", "ParseError", "parse_bytes", "parse_file", "script_key"]

NO_STRUCTURE = (
    "未能识别出工作要点的结构：文件中没有找到编号的工作任务（如“1.”“(一)”）或章节标题，"
    "请确认上传的是年度工作要点或任务分解表"
)
NO_TABLE_TASKS = "未能识别出任务分解表的内容：表头下面没有任何任务行"


def _report(progress, value):
    if progress is not None:
        progress(max(0, min(100, int(value))))


def parse_bytes(data, filename, progress=None, max_bytes=DEFAULT_MAX_BYTES, limits=None, require_structure=True):
    """The parse document for a file's bytes; ``progress`` (optional) receives 0–100."""
    if isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    _report(progress, 0)
    warnings = []
    seen = set()

    def warn(line_no, message):
        entry = "line %d: %s" % (line_no, message)
        if entry not in seen:
            seen.add(entry)
            warnings.append(entry)

    extracted = read(data, filename, max_bytes=max_bytes, limits=limits or DEFAULT_LIMITS)
    _report(progress, 20)
    doc = None
    if extracted.kind in ("table", "docx"):
        doc = parse_sheets(extracted.sheets, extracted.preamble, warn)
        if doc is None and extracted.kind == "table":
            raise ParseError("表格中没有找到任务列（如“重点任务”“工作任务”“任务内容”），无法识别为任务分解表")
    if doc is None:
        lines, hints = clean_lines(extracted.text, warn)
        _report(progress, 40)
        if not lines:
            raise ParseError("文件中没有可识别的文字内容")
        doc = parse_lines(lines, hints, warn, progress=lambda v: _report(progress, v))
    if not doc["tasks"]:
        if require_structure:
            raise ParseError(NO_TABLE_TASKS if extracted.kind == "table" and not doc["sections"] else NO_STRUCTURE)
        warnings.append("line 1: 没有识别出任何工作任务，请检查文件内容或格式")
    doc["warnings"] = sorted(warnings, key=_line_of)
    _report(progress, 100)
    return {
        "plan": doc["plan"],
        "sections": doc["sections"],
        "tasks": doc["tasks"],
        "warnings": doc["warnings"],
        "dropped": doc.get("dropped", []),
        "format": extracted.format,
    }


def _line_of(entry):
    try:
        return int(entry.split(":", 1)[0].split()[1])
    except (IndexError, ValueError):
        return 0


def parse_file(path, progress=None, max_bytes=DEFAULT_MAX_BYTES, limits=None, require_structure=True):
    """The parse document for a file on disk (never reads more than ``max_bytes`` + 1 bytes)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1) if max_bytes is not None else handle.read()
            if max_bytes is not None and len(data) > max_bytes:
                with refusals_as_parse_errors():
                    check_size(data, max_bytes, size=os.fstat(handle.fileno()).st_size)
    except OSError as exc:
        raise ParseError("无法打开文件：%s" % os.path.basename(str(path))) from exc
    return parse_bytes(
        data,
        os.path.basename(str(path)),
        progress=progress,
        max_bytes=max_bytes,
        limits=limits,
        require_structure=require_structure,
    )
