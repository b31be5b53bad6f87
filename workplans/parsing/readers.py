"""Readers: bytes of a txt/HTML/docx/PDF/xlsx/csv file to text lines or table rows."""
import csv
import datetime
import io
import os
import re
import zipfile

from .errors import ParseError

_TAG = re.compile(rb"<\s*/?\s*(html|head|body|div|p|span|br|table|tr|td|meta|script|style|a|li|ul|h[1-6]|font|"
                  rb"legend|section|article|strong|b|center|input|form|iframe|link|title)\b[^>]*>", re.I)
_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


class Extracted:
    """What a reader found: ``lines`` of text, or ``rows`` per sheet for spreadsheets.

    ``preamble`` holds text lines seen before a table (a docx title above its 任务分解表).
    """

    def __init__(self, kind, text="", sheets=None, preamble="", encoding=None, fmt=None):
        self.kind = kind
        self.text = text
        self.sheets = sheets or []
        self.preamble = preamble
        self.encoding = encoding
        self.format = fmt


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

    results = from_bytes(data)
    best = results.best()
    if best is None:
        raise ParseError("无法识别文件的文字编码，请另存为 UTF-8 文本后再导入")
    text = str(best)
    han = len(re.findall(r"[\u4e00-\u9fff]", text))
    if han < len(text.strip()) * 0.05:  # a Latin code page won: insist on the CJK candidates
        cjk = from_bytes(data, cp_isolation=["gb18030", "big5", "big5hkscs", "cp950", "gbk", "utf_16"])
        alt = cjk.best()
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
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(text, "lxml")
    for tag in soup(["script", "style", "nav", "head", "noscript", "iframe", "form", "select", "button",
                     "textarea", "input", "svg", "template", "footer"]):
        tag.decompose()
    chrome = re.compile(r"(nav|menu|footer|share|breadcrumb|crumb|sidebar|toolbar|topbar|header)", re.I)
    for tag in soup.find_all(True):
        if getattr(tag, "decomposed", False) or tag.attrs is None:
            continue
        marks = " ".join(tag.get("class") or []) + " " + (tag.get("id") or "")
        if chrome.search(marks) and len(tag.get_text(strip=True)) < 300:
            tag.decompose()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    blocks = ("p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "section", "article",
              "blockquote", "pre", "dd", "dt", "ul", "ol", "center", "header", "footer", "title")
    for tag in soup.find_all(blocks):
        tag.insert_before("\n")
        tag.append("\n")
    for tag in soup.find_all(["td", "th"]):
        tag.append(" ")
    return soup.get_text()


def _docx_numbering(document):
    """A function paragraph -> label text for Word's automatic list numbering (1. / 一、 / (一))."""
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
                text.get(qn("w:val")) if text is not None else "%1.",
                int(start.get(qn("w:val"))) if start is not None else 1)
    counters = {}
    cn = "零一二三四五六七八九十"

    def render(value, fmt):
        if fmt in ("chineseCounting", "chineseCountingThousand", "ideographTraditional", "chineseLegalSimplified"):
            if value <= 10:
                return cn[value]
            if value < 20:
                return "十" + (cn[value - 10] if value > 10 else "")
            return cn[value // 10] + "十" + (cn[value % 10] if value % 10 else "")
        if fmt == "bullet" or fmt == "none":
            return None
        return str(value)

    def num_pr(paragraph):
        ppr = paragraph._p.pPr
        if ppr is not None and ppr.numPr is not None and ppr.numPr.numId is not None:
            return ppr.numPr
        style = paragraph.style
        while style is not None:  # numbering given by the paragraph style (List Number…)
            sppr = style.element.pPr
            if sppr is not None and sppr.numPr is not None and sppr.numPr.numId is not None:
                return sppr.numPr
            style = style.base_style
        return None

    def label(paragraph):
        numpr = num_pr(paragraph)
        if numpr is None:
            return ""
        num_id = str(numpr.numId.val)
        if num_id == "0":
            return ""
        ilvl = str(numpr.ilvl.val) if numpr.ilvl is not None else "0"
        absn = abstract_of.get(num_id)
        fmt, text, start = levels.get((absn, ilvl), ("decimal", "%1.", 1))
        key = (absn, ilvl)
        counters[key] = counters.get(key, start - 1) + 1
        for (a, lv) in list(counters):  # a new item restarts the deeper levels
            if a == absn and int(lv) > int(ilvl):
                del counters[(a, lv)]
        rendered = render(counters[key], fmt)
        if rendered is None:
            return ""
        return text.replace("%" + str(int(ilvl) + 1), rendered).replace("（", "(").replace("）", ")")

    return label


def read_docx(data):
    try:
        import docx
        from docx.table import Table
        from docx.text.paragraph import Paragraph

        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises several types for broken packages
        raise ParseError("无法读取 Word 文档：文件已损坏或不是 .docx 格式（%s）" % type(exc).__name__) from exc
    label = _docx_numbering(document)
    lines, tables, before_table = [], [], []
    for child in document.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            paragraph = Paragraph(child, document)
            text = paragraph.text
            if text.strip():
                lines.append(label(paragraph) + text)
        elif tag == "tbl":
            rows = []
            for row in Table(child, document).rows:
                cells = []
                for cell in row.cells:
                    value = cell.text.strip()
                    if not cells or value != cells[-1] or not value:
                        cells.append(value)
                rows.append(cells)
            if not tables:
                before_table = list(lines)
            tables.append(rows)
            lines.extend(" ".join(c for c in r if c) for r in rows)
    return lines, tables, before_table


def read_pdf(data):
    from pdfminer.high_level import extract_text
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFSyntaxError

    try:
        text = extract_text(io.BytesIO(data))
    except (PDFPasswordIncorrect, PDFEncryptionError) as exc:
        raise ParseError("PDF 已加密，无法读取，请提供未加密的文件") from exc
    except PDFSyntaxError as exc:
        raise ParseError("PDF 文件已损坏，无法读取") from exc
    except Exception as exc:
        if "encrypt" in str(exc).lower() or "password" in str(exc).lower():
            raise ParseError("PDF 已加密，无法读取，请提供未加密的文件") from exc
        raise ParseError("无法读取 PDF 文件（%s）" % type(exc).__name__) from exc
    if not re.sub(r"\s", "", text):
        raise ParseError("PDF 没有文字层（可能是扫描件），请提供带文字的 PDF 或 Word 文档")
    return reflow(text.replace("\x0c", "\n"))


_PAGE_NO = re.compile(r"^\s*(?:[-—–]\s*\d+\s*[-—–]|第\s*\d+\s*页(?:\s*共\s*\d+\s*页)?|\d+\s*/\s*\d+|\d{1,3})\s*$")
_LABEL_START = re.compile(r"^\s*(第[一二三四五六七八九十]+部分|[一二三四五六七八九十]+[、.]|[(（][一二三四五六七八九十\d]+[)）]|\d{1,3}\s*[.、．])")


def reflow(text):
    """Join PDF lines that were wrapped by the page width back into paragraphs."""
    raw = [l.rstrip() for l in text.split("\n")]
    raw = [l for l in raw if not _PAGE_NO.match(l)]
    widths = sorted(len(l.strip()) for l in raw if l.strip())
    if not widths:
        return ""
    full = widths[int(len(widths) * 0.9)] if len(widths) > 3 else widths[-1]
    out = []
    for line in raw:
        s = line.strip()
        if not s:
            out.append("")
            continue
        prev = next((o for o in reversed(out) if o), "") if out else ""
        prev_i = max((i for i, o in enumerate(out) if o), default=None)
        joinable = (prev_i is not None and prev_i >= len(out) - 2 and len(prev) >= full * 0.85
                    and not prev.endswith(("。", ":", ";", ")", "》", "”", "!", "?"))
                    and not _LABEL_START.match(s))
        if joinable:
            out[prev_i] = prev + s
            del out[prev_i + 1:]
        else:
            out.append(s)
    return "\n".join(out)


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


def read_xlsx(data):
    try:
        import openpyxl

        workbook = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except Exception as exc:
        raise ParseError("无法读取 Excel 文件：文件已损坏或不是 .xlsx 格式（%s）" % type(exc).__name__) from exc
    sheets = []
    for sheet in workbook.worksheets:
        grid = [[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        for merged in sheet.merged_cells.ranges:  # a merged block repeats its value in every cell
            r0, c0, r1, c1 = merged.min_row - 1, merged.min_col - 1, merged.max_row - 1, merged.max_col - 1
            if r0 >= len(grid):
                continue
            value = grid[r0][c0] if c0 < len(grid[r0]) else ""
            for r in range(r0, min(r1, len(grid) - 1) + 1):
                for c in range(c0, c1 + 1):
                    if c < len(grid[r]):
                        grid[r][c] = value
        sheets.append(grid)
    return sheets


def read_csv_text(text):
    sample = text[:8192]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text), dialect)]


def read(data, filename):
    """Extract a file's content; raises ParseError for what cannot be read."""
    if not data:
        raise ParseError("文件是空的")
    ext = os.path.splitext(filename or "")[1].lower()
    if data.startswith(b"%PDF"):
        return Extracted("text", text=read_pdf(data), fmt="pdf")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ParseError("这是旧版 Office 格式（.doc/.xls）或已加密的 Office 文件，请另存为 .docx 或 .xlsx 后再导入")
    if data.startswith(b"PK\x03\x04"):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except zipfile.BadZipFile as exc:
            raise ParseError("文件已损坏：压缩包结构无法读取") from exc
        if "word/document.xml" in names:
            lines, tables, before = read_docx(data)
            if tables:
                return Extracted("docx", text="\n".join(lines), sheets=tables, preamble="\n".join(before),
                                 fmt="docx")
            return Extracted("text", text="\n".join(lines), fmt="docx")
        if "xl/workbook.xml" in names:
            return Extracted("table", sheets=read_xlsx(data), fmt="xlsx")
        raise ParseError("无法识别的文件格式：这个压缩包不是 Word(.docx) 或 Excel(.xlsx) 文件")
    if ext in (".docx", ".xlsx", ".pdf"):
        raise ParseError("文件内容与扩展名 %s 不符，文件可能已损坏" % ext)
    if ext in (".doc", ".xls", ".wps", ".et"):
        raise ParseError("不支持 %s 格式，请另存为 .docx 或 .xlsx 后再导入" % ext)
    if data.count(b"\x00") > len(data) // 20 and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ParseError("无法识别的文件格式（不是文本、网页、Word、PDF 或 Excel 文件）")
    text, encoding = decode_text(data)
    controls = sum(1 for ch in text[:20000] if ord(ch) < 32 and ch not in "\r\n\t\x0c")
    if controls > len(text[:20000]) * 0.02:
        raise ParseError("无法识别的文件格式（不是文本、网页、Word、PDF 或 Excel 文件）")
    if looks_like_html(text):
        return Extracted("text", text=html_to_text(text), encoding=encoding, fmt="html")
    if ext in (".csv", ".tsv"):
        return Extracted("table", sheets=[read_csv_text(text)], encoding=encoding, fmt="csv")
    return Extracted("text", text=text, encoding=encoding, fmt="text")
