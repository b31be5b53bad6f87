"""Readers: bytes of a txt/HTML/docx/doc/wps/PDF/OFD/xlsx/csv file to text lines or table rows."""

import csv
import datetime
import io
import os
import re
import warnings

import openpyxl
from bs4 import BeautifulSoup
from charset_normalizer import from_bytes
from django.utils.translation import gettext as _

from core.uploads import DEFAULT_LIMITS, DEFAULT_MAX_BYTES, check_size
from core.uploads.ofd import check_ofd, is_ofd
from core.uploads.office import open_zip
from core.uploads.ole import check_word_binary
from core.uploads.pdf import check_pdf
from core.uploads.sniff import CFB_MAGIC
from core.uploads.text import refuse_junk_text

from . import legacy, ocr, wordml
from .errors import ParseError
from .layout import page_text, reflow_lines
from .ofd import read_ofd_pages
from .pdftext import text_pages
from .safety import reader_boundary, refusals_as_parse_errors

_TAG = re.compile(
    rb"<\s*/?\s*(html|head|body|div|p|span|br|table|tr|td|meta|script|style|a|li|ul|h[1-6]|font|"
    rb"legend|section|article|strong|b|center|input|form|iframe|link|title)\b[^>]*>",
    re.I,
)
# Control characters no text document holds (tab, line feed, form feed and carriage return aside).
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")
_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


class Extracted:
    """What a reader found: ``lines`` of text, or ``rows`` per sheet for spreadsheets.

    ``preamble`` holds text lines seen before a table (a docx title above its 任务分解表).
    """

    def __init__(self, kind, text="", sheets=None, preamble="", encoding=None, fmt=None, notes=None):
        self.kind = kind
        self.text = text
        self.sheets = sheets or []
        self.preamble = preamble
        self.encoding = encoding
        self.format = fmt
        self.notes: list[str] = notes or []  # warnings about the whole file (OCR, running headers)


def decode_text(data):
    """(text, encoding): UTF-8 strictly first, then detection by charset-normalizer."""
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(enc), enc.replace("-sig", "")
            except UnicodeDecodeError:
                break
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    with reader_boundary(_("无法识别文件的文字编码，请另存为 UTF-8 文本后再导入")):
        best = from_bytes(data).best()
    if best is None:
        raise ParseError(_("无法识别文件的文字编码，请另存为 UTF-8 文本后再导入"))
    text = str(best)
    han = len(re.findall(r"[\u4e00-\u9fff]", text))
    if han < len(text.strip()) * 0.05:  # a Latin code page won: insist on the CJK candidates
        with reader_boundary(_("无法识别文件的文字编码，请另存为 UTF-8 文本后再导入")):
            alt = from_bytes(data, cp_isolation=["gb18030", "big5", "big5hkscs", "cp950", "gbk", "utf_16"]).best()
        if alt is not None:
            best, text = alt, str(alt)
    encoding = best.encoding
    return text, encoding


def looks_like_html(text):
    head = text[:20000].encode("utf-8", "ignore")
    if re.match(rb"\s*<(!doctype|html|\?xml)", head, re.I):
        return True
    return len(_TAG.findall(head)) >= 5


def html_to_text(text):
    """Visible text of an HTML page. lxml's HTML parser expands no DOCTYPE entities and loads
    nothing from the network or disk (checked in test_safety.py)."""
    with reader_boundary(_("无法读取网页文件：HTML 结构已损坏")):
        return _html_to_text(text)


MAX_HTML_DEPTH = 256


def _depth(soup):
    """The deepest tag nesting of a parsed page (iterative: no recursion on hostile pages)."""
    deepest, stack = 0, [(soup, 0)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        for child in getattr(node, "contents", None) or ():
            if getattr(child, "contents", None):
                stack.append((child, depth + 1))
    return deepest


def _html_to_text(text):
    with warnings.catch_warnings():  # XML or a bare URL parsed as HTML: nothing the user can act on
        warnings.simplefilter("ignore")
        soup = BeautifulSoup(text, "lxml")
    for tag in soup(
        [
            "script",
            "style",
            "nav",
            "head",
            "noscript",
            "iframe",
            "form",
            "select",
            "button",
            "textarea",
            "input",
            "svg",
            "template",
            "footer",
        ]
    ):
        tag.decompose()
    if _depth(soup) > MAX_HTML_DEPTH:
        # bs4's insert/append and per-tag get_text cost O(depth) each: on thousands of nested
        # (unclosed) tags the block handling below turns quadratic; one string per line instead
        return soup.get_text("\n")
    chrome = re.compile(r"(nav|menu|footer|share|breadcrumb|crumb|sidebar|toolbar|topbar|header)", re.I)
    for tag in soup.find_all(True):
        # a tag inside a decomposed one has an emptied __dict__; bs4's ``decomposed`` property
        # would search the subtree for a tag named "_decomposed" (quadratic on deep pages)
        state = vars(tag)
        if state.get("_decomposed") or state.get("attrs") is None:
            continue
        marks = " ".join(tag.get("class") or []) + " " + str(tag.get("id") or "")
        if chrome.search(marks) and len(tag.get_text(strip=True)) < 300:
            tag.decompose()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    blocks = (
        "p",
        "div",
        "li",
        "tr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "table",
        "section",
        "article",
        "blockquote",
        "pre",
        "dd",
        "dt",
        "ul",
        "ol",
        "center",
        "header",
        "footer",
        "title",
    )
    for tag in soup.find_all(blocks):
        # "\n" as the tag's first child reads the same as one before it, and insert_before would
        # look the tag up among its siblings (quadratic on pages with thousands of paragraphs)
        tag.insert(0, "\n")
        tag.append("\n")
    for tag in soup.find_all(["td", "th"]):
        tag.append(" ")
    return soup.get_text()


def read_docx(archive, limits=DEFAULT_LIMITS):
    """(lines, tables, lines before the first table) of a checked .docx package (open_zip)."""
    document, numbering, load_styles = wordml.read_package(archive)
    with reader_boundary(_("无法读取 Word 文档：文件内容已损坏")):
        label = wordml.numbering_labels(numbering, load_styles)
        return wordml.body_content(document, label, limits.max_span)


def read_pdf(data, progress=None, ocr_time_limit=ocr.OCR_TIME_LIMIT):
    """An Extracted PDF: its text layer ("pdf"), or what OCR reads on a scan ("pdf-ocr")."""
    pages = text_pages(data)
    notes = []
    fmt = "pdf"
    if not _has_text(pages):
        fmt = "pdf-ocr"
        with reader_boundary(_("PDF 文件已损坏，无法读取")):
            pages = ocr.recognise(data, progress, ocr_time_limit)
        if not any(line.strip() for page in pages for line in page):
            raise ParseError(
                _(
                    "PDF 没有文字层（可能是扫描件），文字识别（OCR）也没有识别出任何文字，"
                    "请提供带文字的 PDF 或 Word 文档"
                )
            )
        notes.append(_("这是扫描件，文字由 OCR 识别，可能有错字或漏字，请逐项核对"))
    text, removed = page_text(pages)
    notes += [_("页眉/页脚“%(text)s”在多页重复出现，已删除") % {"text": line} for line in removed]
    return Extracted("text", text=text, fmt=fmt, notes=notes)


def _has_text(pages):
    return any(not line.isspace() and line for page in pages for line in page)


def needs_ocr(data, limits=DEFAULT_LIMITS):
    """True for a PDF without a text layer (a scan): its parse runs OCR, which takes minutes, not
    seconds. False for anything else, including files that will be refused."""
    if not data.startswith(b"%PDF"):
        return False
    try:
        with refusals_as_parse_errors():
            check_pdf(data, limits)
        return not _has_text(text_pages(data, max_pages=3))
    except Exception:  # damaged or encrypted: the parse will say so
        return False


def reflow(text):
    """Join PDF lines that were wrapped by the page width back into paragraphs."""
    return reflow_lines(text.split("\n"))


def _cell_text(value):
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if not value.time() else value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_xlsx(data, limits=DEFAULT_LIMITS):
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except Exception as exc:
        raise ParseError(
            _("无法读取 Excel 文件：文件已损坏或不是 .xlsx 格式（%(error)s）") % {"error": type(exc).__name__}
        ) from exc
    with reader_boundary(_("无法读取 Excel 文件：文件内容已损坏")):
        return [_sheet_grid(sheet, limits) for sheet in workbook.worksheets]


def _used_area(sheet):
    """(rows, columns) holding values; styled empty cells (a format applied to whole columns)
    would otherwise make openpyxl walk 1048576 x 16384 cells."""
    cells = getattr(sheet, "_cells", None)
    if cells is None:
        return sheet.max_row, sheet.max_column
    rows = cols = 0
    for (r, c), cell in cells.items():
        if cell.value is not None:
            rows, cols = max(rows, r), max(cols, c)
    return rows, cols


def _sheet_grid(sheet, limits):
    rows, cols = _used_area(sheet)
    if rows * cols > limits.max_cells:
        raise ParseError(
            _(
                "表格过大（工作表“%(sheet)s”有 %(rows)d 行 × %(cols)d 列），超过 %(limit)d 个单元格的上限，"
                "请删去无关内容后再导入"
            )
            % {"sheet": sheet.title, "rows": rows, "cols": cols, "limit": limits.max_cells}
        )
    if not rows or not cols:
        return []
    grid = [
        [_cell_text(v) for v in row]
        for row in sheet.iter_rows(min_row=1, max_row=rows, min_col=1, max_col=cols, values_only=True)
    ]
    for merged in sheet.merged_cells.ranges:  # a merged block repeats its value in every cell
        r0, c0, r1, c1 = merged.min_row - 1, merged.min_col - 1, merged.max_row - 1, merged.max_col - 1
        if r0 >= len(grid):
            continue
        value = grid[r0][c0] if c0 < len(grid[r0]) else ""
        for r in range(r0, min(r1, len(grid) - 1) + 1):
            for c in range(c0, min(c1, len(grid[r]) - 1) + 1):
                grid[r][c] = value
    return grid


def read_csv_text(text):
    sample = text[:8192]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    try:
        return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text), dialect)]
    except csv.Error as exc:  # a field over csv.field_size_limit(), a NUL byte…
        raise ParseError(_("无法读取 CSV 文件：格式错误（单元格内容过长或含有非法字符）")) from exc


def read(
    data, filename, max_bytes=DEFAULT_MAX_BYTES, limits=DEFAULT_LIMITS, progress=None, ocr_time_limit=ocr.OCR_TIME_LIMIT
):
    """Extract a file's content; raises ParseError for what cannot be read.

    The format is sniffed from the content (a PDF named .docx is read as a PDF, a .docx named .txt
    as a Word document); the extension only decides between plain text and CSV, and explains the
    refusal when the content is neither.
    """
    with refusals_as_parse_errors():
        return _read(data, filename, max_bytes, limits, progress, ocr_time_limit)


def _read(data, filename, max_bytes, limits, progress, ocr_time_limit):
    check_size(data, max_bytes)
    ext = os.path.splitext(filename or "")[1].lower()
    if data.startswith(b"%PDF"):
        check_pdf(data, limits)
        return read_pdf(data, progress, ocr_time_limit)
    if data.startswith(CFB_MAGIC[:4]):
        return _read_word_binary(data, limits)
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        archive = open_zip(data, limits)
        names = set(archive.namelist())
        if "word/document.xml" in names:
            return _docx_extracted(archive, limits, "docx")
        if "xl/workbook.xml" in names:
            return Extracted("table", sheets=read_xlsx(data, limits), fmt="xlsx")
        if is_ofd(names):
            check_ofd(archive)
            text, removed = page_text(read_ofd_pages(archive))
            notes = [_("页眉/页脚“%(text)s”在多页重复出现，已删除") % {"text": line} for line in removed]
            return Extracted("text", text=text, fmt="ofd", notes=notes)
        raise ParseError(_("无法识别的文件格式：这个压缩包不是 Word(.docx)、Excel(.xlsx) 或 OFD 文件"))
    if ext in (".docx", ".xlsx", ".ofd"):
        raise ParseError(
            _("文件内容与扩展名 %(ext)s 不符：不是 Word/Excel/OFD 文件，文件可能已损坏或扩展名有误") % {"ext": ext}
        )
    if ext == ".pdf":
        raise ParseError(_("文件内容与扩展名 .pdf 不符：不是 PDF 文件，文件可能已损坏或扩展名有误"))
    if ext in (".doc", ".wps"):
        raise ParseError(
            _("文件内容与扩展名 %(ext)s 不符：不是 Word/WPS 文档，文件可能已损坏或扩展名有误") % {"ext": ext}
        )
    if ext in (".xls", ".et"):
        raise ParseError(_("不支持 %(ext)s 格式，请另存为 .xlsx 后再导入") % {"ext": ext})
    if data.count(b"\x00") > len(data) // 20 and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ParseError(_("无法识别的文件格式（不是文本、网页、Word、PDF、OFD 或 Excel 文件）"))
    text, encoding = decode_text(data)
    controls = len(_CONTROLS.findall(text, 0, 20000))
    if controls > len(text[:20000]) * 0.02:
        raise ParseError(_("无法识别的文件格式（不是文本、网页、Word、PDF、OFD 或 Excel 文件）"))
    refuse_junk_text(text, data)
    if looks_like_html(text):
        return Extracted("text", text=html_to_text(text), encoding=encoding, fmt="html")
    if ext in (".csv", ".tsv"):
        return Extracted("table", sheets=[read_csv_text(text)], encoding=encoding, fmt="csv")
    return Extracted("text", text=text, encoding=encoding, fmt="text")


def _docx_extracted(archive, limits, fmt):
    lines, tables, before = read_docx(archive, limits)
    if tables:
        return Extracted("docx", text="\n".join(lines), sheets=tables, preamble="\n".join(before), fmt=fmt)
    return Extracted("text", text="\n".join(lines), fmt=fmt)


def _read_word_binary(data, limits):
    """A .doc/.wps: checked as a compound file, converted, then read like a .docx (or as text)."""
    check_word_binary(data, limits)
    kind, converted = legacy.convert(data)
    if kind == "docx":
        assert isinstance(converted, bytes)
        return _docx_extracted(open_zip(converted, limits), limits, "doc")
    assert isinstance(converted, str)
    refuse_junk_text(converted)
    return Extracted("text", text=converted, fmt="doc")
