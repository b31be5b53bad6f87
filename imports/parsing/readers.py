"""Readers: bytes of a txt/HTML/docx/doc/wps/PDF/OFD/xlsx/csv file to text lines or table rows."""

import csv
import datetime
import io
import os
import re

from django.utils.translation import gettext as _

from core.uploads import DEFAULT_LIMITS, DEFAULT_MAX_BYTES, check_size
from core.uploads.ofd import check_ofd, is_ofd
from core.uploads.office import open_zip
from core.uploads.ole import check_word_binary
from core.uploads.pdf import check_pdf
from core.uploads.sniff import CFB_MAGIC
from core.uploads.text import refuse_junk_text

from . import legacy, ocr
from .errors import ParseError
from .layout import page_text, reflow_lines
from .ofd import read_ofd_pages
from .safety import reader_boundary, refusals_as_parse_errors

_TAG = re.compile(
    rb"<\s*/?\s*(html|head|body|div|p|span|br|table|tr|td|meta|script|style|a|li|ul|h[1-6]|font|"
    rb"legend|section|article|strong|b|center|input|form|iframe|link|title)\b[^>]*>",
    re.I,
)
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
    from charset_normalizer import from_bytes

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
    import warnings

    from bs4 import BeautifulSoup

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


def _int_attr(value, default):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _docx_numbering(document):
    """A function paragraph -> label text for Word's automatic list numbering (1. / 一、 / (一))."""
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml.ns import qn

    try:
        numbering = document.part.numbering_part.element
    except (KeyError, NotImplementedError, AttributeError):
        return lambda p: ""
    abstract_of = {}
    for num in numbering.findall(qn("w:num")):
        ref = num.find(qn("w:abstractNumId"))
        if ref is not None:
            abstract_of[num.get(qn("w:numId"))] = ref.get(qn("w:val"))
    levels = {}
    for absn in numbering.findall(qn("w:abstractNum")):
        for lvl in absn.findall(qn("w:lvl")):
            fmt = lvl.find(qn("w:numFmt"))
            text = lvl.find(qn("w:lvlText"))
            start = lvl.find(qn("w:start"))
            levels[(absn.get(qn("w:abstractNumId")), lvl.get(qn("w:ilvl")))] = (
                fmt.get(qn("w:val")) if fmt is not None else "decimal",
                (text.get(qn("w:val")) or "") if text is not None else "%1.",
                _int_attr(start.get(qn("w:val")) if start is not None else None, 1),
            )
    counters: dict[tuple[str | None, str], int] = {}
    cn = "零一二三四五六七八九十"

    def render(value, fmt):
        if fmt in ("chineseCounting", "chineseCountingThousand", "ideographTraditional", "chineseLegalSimplified"):
            if not 0 <= value < 100:
                return str(value)
            if value <= 10:
                return cn[value]
            if value < 20:
                return "十" + (cn[value - 10] if value > 10 else "")
            return cn[value // 10] + "十" + (cn[value % 10] if value % 10 else "")
        if fmt == "bullet" or fmt == "none":
            return None
        return str(value)

    by_style: dict[str | None, object] = {}

    def style_num_pr(style_id):
        """The numbering a paragraph style (List Number…) or the styles it is based on give, once per
        style: python-docx's ``paragraph.style`` looks the style up among all styles each time."""
        if style_id not in by_style:
            style = document.styles.default(WD_STYLE_TYPE.PARAGRAPH) if style_id is None else None
            if style is None:
                try:
                    style = document.styles.get_by_id(style_id, WD_STYLE_TYPE.PARAGRAPH)
                except (KeyError, ValueError):
                    style = None
            found, hops = None, 0
            while style is not None and hops < 32:  # basedOn chains may loop in hostile files
                sppr = style.element.pPr
                if sppr is not None and sppr.numPr is not None and sppr.numPr.numId is not None:
                    found = sppr.numPr
                    break
                style, hops = style.base_style, hops + 1
            by_style[style_id] = found
        return by_style[style_id]

    def num_pr(paragraph):
        ppr = paragraph._p.pPr
        if ppr is not None and ppr.numPr is not None and ppr.numPr.numId is not None:
            return ppr.numPr
        return style_num_pr(paragraph._p.style)

    def label(paragraph):
        numpr = num_pr(paragraph)
        if numpr is None:
            return ""
        num_id = str(numpr.numId.val)
        if num_id == "0":
            return ""
        ilvl = str(numpr.ilvl.val) if numpr.ilvl is not None else "0"
        if not ilvl.isdigit():
            return ""
        absn = abstract_of.get(num_id)
        fmt, text, start = levels.get((absn, ilvl), ("decimal", "%1.", 1))
        key = (absn, ilvl)
        counters[key] = counters.get(key, start - 1) + 1
        for a, lv in list(counters):  # a new item restarts the deeper levels (keys hold digits only)
            if a == absn and int(lv) > int(ilvl):
                del counters[(a, lv)]
        rendered = render(counters[key], fmt)
        if rendered is None:
            return ""
        return text.replace("%" + str(int(ilvl) + 1), rendered).replace("（", "(").replace("）", ")")

    return label


def read_docx(data, limits=DEFAULT_LIMITS):
    try:
        import docx

        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises several types for broken packages
        raise ParseError(
            _("无法读取 Word 文档：文件已损坏或不是 .docx 格式（%(error)s）") % {"error": type(exc).__name__}
        ) from exc
    with reader_boundary(_("无法读取 Word 文档：文件内容已损坏")):
        return _docx_content(document, limits)


def _docx_content(document, limits):
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    label = _docx_numbering(document)
    lines: list[str] = []
    tables: list[list[list[str]]] = []
    before_table: list[str] = []
    for child in document.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1] if isinstance(child.tag, str) else ""
        if tag == "p":
            paragraph = Paragraph(child, document)
            text = paragraph.text
            if text.strip():
                lines.append(label(paragraph) + text)
        elif tag == "tbl":
            rows = _table_rows(Table(child, document), limits)
            if not tables:
                before_table = list(lines)
            tables.append(rows)
            lines.extend(" ".join(c for c in r if c) for r in rows)
    return lines, tables, before_table


def _table_rows(table, limits):
    """Cell texts per row, a horizontally merged cell once, a vertically merged one repeated.

    Walks the <w:tc> elements itself instead of ``row.cells``: python-docx repeats a cell once per
    spanned grid column (``gridSpan="1000000000"`` is a memory bomb in a tiny file) and follows
    vertical merges recursively (RecursionError on long merges).
    """
    from docx.table import _Cell

    rows: list[list[str]] = []
    above: dict[int, str] = {}
    for tr in table._tbl.tr_lst:
        cells: list[str] = []
        here: dict[int, str] = {}
        offset = tr.grid_before
        for tc in tr.tc_lst:
            span = max(1, min(tc.grid_span, limits.max_span))
            value = above.get(offset, "") if tc.vMerge == "continue" else _Cell(tc, table).text.strip()
            for k in range(span):
                here[offset + k] = value
                if not cells or value != cells[-1] or not value:
                    cells.append(value)
            offset += span
        above = here
        rows.append(cells)
    return rows


def read_pdf(data, progress=None, ocr_time_limit=ocr.OCR_TIME_LIMIT):
    """An Extracted PDF: its text layer ("pdf"), or what OCR reads on a scan ("pdf-ocr")."""
    from pdfminer.high_level import extract_text
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFSyntaxError

    try:
        text = extract_text(io.BytesIO(data))
    except (PDFPasswordIncorrect, PDFEncryptionError) as exc:
        raise ParseError(_("PDF 文件已加密，无法读取，请提供未加密的文件")) from exc
    except PDFSyntaxError as exc:
        raise ParseError(_("PDF 文件已损坏，无法读取")) from exc
    except Exception as exc:  # pdfminer raises many types (and RecursionError) on broken files
        if "encrypt" in str(exc).lower() or "password" in str(exc).lower():
            raise ParseError(_("PDF 文件已加密，无法读取，请提供未加密的文件")) from exc
        raise ParseError(_("PDF 文件已损坏，无法读取（%(error)s）") % {"error": type(exc).__name__}) from exc
    notes = []
    fmt = "pdf"
    if re.sub(r"\s", "", text):
        pages = [page.split("\n") for page in text.split("\x0c")]
    else:
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


def needs_ocr(data, limits=DEFAULT_LIMITS):
    """True for a PDF without a text layer (a scan): its parse runs OCR, which takes minutes, not
    seconds. False for anything else, including files that will be refused."""
    if not data.startswith(b"%PDF"):
        return False
    from pdfminer.high_level import extract_text

    try:
        with refusals_as_parse_errors():
            check_pdf(data, limits)
        return not re.sub(r"\s", "", extract_text(io.BytesIO(data), maxpages=3))
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
        import openpyxl

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
            return _docx_extracted(data, limits, "docx")
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
    controls = sum(1 for ch in text[:20000] if ord(ch) < 32 and ch not in "\r\n\t\x0c")
    if controls > len(text[:20000]) * 0.02:
        raise ParseError(_("无法识别的文件格式（不是文本、网页、Word、PDF、OFD 或 Excel 文件）"))
    refuse_junk_text(text, data)
    if looks_like_html(text):
        return Extracted("text", text=html_to_text(text), encoding=encoding, fmt="html")
    if ext in (".csv", ".tsv"):
        return Extracted("table", sheets=[read_csv_text(text)], encoding=encoding, fmt="csv")
    return Extracted("text", text=text, encoding=encoding, fmt="text")


def _docx_extracted(data, limits, fmt):
    lines, tables, before = read_docx(data, limits)
    if tables:
        return Extracted("docx", text="\n".join(lines), sheets=tables, preamble="\n".join(before), fmt=fmt)
    return Extracted("text", text="\n".join(lines), fmt=fmt)


def _read_word_binary(data, limits):
    """A .doc/.wps: checked as a compound file, converted, then read like a .docx (or as text)."""
    check_word_binary(data, limits)
    kind, converted = legacy.convert(data)
    if kind == "docx":
        assert isinstance(converted, bytes)
        open_zip(converted, limits)
        return _docx_extracted(converted, limits, "doc")
    assert isinstance(converted, str)
    refuse_junk_text(converted)
    return Extracted("text", text=converted, fmt="doc")
