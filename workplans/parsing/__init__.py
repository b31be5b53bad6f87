"""Plan parsing: a published plan file (txt, HTML, docx, PDF, xlsx, csv) to the import parse document.

Pure Python, no Django: ``parse_file(path)`` / ``parse_bytes(data, filename)`` return the shape
described in shared/spec/import-format.md; unreadable input raises ``ParseError`` with a Chinese
message.
"""
import os

from .cleaning import clean_lines, script_key
from .errors import ParseError
from .readers import read
from .structure import parse_lines
from .tables import parse_sheets

__all__ = ["ParseError", "parse_bytes", "parse_file", "script_key"]


def _report(progress, value):
    if progress is not None:
        progress(max(0, min(100, int(value))))


def parse_bytes(data, filename, progress=None):
    """The parse document for a file's bytes; ``progress`` (optional) receives 0–100."""
    _report(progress, 0)
    warnings = []

    def warn(line_no, message):
        entry = "line %d: %s" % (line_no, message)
        if entry not in warnings:
            warnings.append(entry)

    extracted = read(data, filename)
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
        warnings.append("line 1: 没有识别出任何工作任务，请检查文件内容或格式")
    doc["warnings"] = sorted(warnings, key=_line_of)
    _report(progress, 100)
    return {"plan": doc["plan"], "sections": doc["sections"], "tasks": doc["tasks"], "warnings": doc["warnings"]}


def _line_of(entry):
    try:
        return int(entry.split(":", 1)[0].split()[1])
    except (IndexError, ValueError):
        return 0


def parse_file(path, progress=None):
    """The parse document for a file on disk."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise ParseError("无法打开文件：%s" % os.path.basename(str(path))) from exc
    return parse_bytes(data, os.path.basename(str(path)), progress=progress)
