"""Word documents (.docx) read from their XML: body paragraphs with Word's automatic list numbering
(1. / 一、 / (一)), and tables.

python-docx, used before, wraps every paragraph, run and style in Python objects and parses every
part of the package on opening: a fifth of a 40 KB plan's parse. This reads the three parts the
parser uses (document, numbering, styles) with lxml and gives what python-docx gave:

- the parts are found as python-docx finds them: the package's officeDocument relationship, whose
  content type must be a Word document's (not a template's, not a macro document's), then that
  part's numbering and styles relationships;
- a paragraph's text is its runs' (direct ``w:r`` and ``w:r`` inside ``w:hyperlink``): ``w:t``,
  ``w:tab``/``w:ptab`` as a tab, ``w:br`` (a line break only) and ``w:cr`` as a new line,
  ``w:noBreakHyphen`` as ``-``; runs inside ``w:ins``, ``w:sdt`` or ``w:smartTag`` are not read;
- numbering comes from the paragraph's own ``w:numPr``, else its style's or the style it is based
  on (the default paragraph style when it names none);
- XML is parsed as python-docx parses it (no entities resolved, nothing loaded from outside; a
  package declaring a DOCTYPE was refused before, by core.uploads.office.open_zip).

A part that a relationship names but the package lacks, or a malformed numbering value, leaves the
numbering out instead of refusing the document.
"""

from __future__ import annotations

import posixpath
import zipfile
import zlib
from collections.abc import Callable

from django.utils.translation import gettext as _
from lxml import etree

from .errors import ParseError

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_RELATIONSHIP = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_CONTENT_TYPES = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_RT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
_MAIN_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"

_P, _TBL, _R, _HYPERLINK = W + "p", W + "tbl", W + "r", W + "hyperlink"
_T, _TAB, _PTAB, _BR, _CR, _NB_HYPHEN = W + "t", W + "tab", W + "ptab", W + "br", W + "cr", W + "noBreakHyphen"
_VAL, _TYPE = W + "val", W + "type"
_CHINESE_FORMATS = ("chineseCounting", "chineseCountingThousand", "ideographTraditional", "chineseLegalSimplified")
_CN = "零一二三四五六七八九十"
_STYLE_TYPES = (None, "paragraph", "character", "table", "numbering")


class _Unreadable(Exception):
    """The package is not a Word document python-docx would open (named like its error)."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


def _parser() -> etree.XMLParser:
    # python-docx's own parser settings (docx.oxml.parser): the text read is the text it read
    return etree.XMLParser(remove_blank_text=True, resolve_entities=False)


class _Package:
    """The parts of a checked zip package, found through their relationships."""

    def __init__(self, archive: zipfile.ZipFile):
        self.archive = archive
        self.names = set(archive.namelist())

    def xml(self, member: str):
        return etree.fromstring(self.archive.read(member), _parser())

    def related(self, source: str, reltype: str) -> list[str]:
        """Zip members that part ``source`` ('' for the package) relates to by ``reltype``."""
        folder, name = posixpath.split(source)
        rels = posixpath.join(folder, "_rels", name + ".rels")
        if rels not in self.names:
            return []
        found = []
        for rel in self.xml(rels).iterchildren(_RELATIONSHIP):
            if rel.get("Type") != reltype or rel.get("TargetMode") == "External" or not rel.get("Target"):
                continue
            uri = posixpath.normpath(posixpath.join("/" + folder, rel.get("Target")))
            found.append(uri.lstrip("/"))
        return found

    def content_type(self, member: str) -> str | None:
        if "[Content_Types].xml" not in self.names:
            raise _Unreadable("KeyError")
        types = self.xml("[Content_Types].xml")
        wanted = "/" + member.lower()
        for override in types.iterchildren(_CONTENT_TYPES + "Override"):
            if (override.get("PartName") or "").lower() == wanted:
                return override.get("ContentType")
        ext = posixpath.splitext(member)[1][1:].lower()
        for default in types.iterchildren(_CONTENT_TYPES + "Default"):
            if (default.get("Extension") or "").lower() == ext:
                return default.get("ContentType")
        raise _Unreadable("KeyError")


def read_package(archive: zipfile.ZipFile):
    """(document root, numbering root or None, a function giving the styles root or None)."""
    try:
        package = _Package(archive)
        main = package.related("", _RT + "officeDocument")
        if len(main) != 1 or main[0] not in package.names:
            raise _Unreadable("KeyError" if len(main) < 2 else "ValueError")
        if package.content_type(main[0]) != _MAIN_CONTENT_TYPE:
            raise _Unreadable("ValueError")
        document = package.xml(main[0])
        numbering = _optional_part(package, main[0], "numbering")
    except _Unreadable as exc:
        raise ParseError(
            _("无法读取 Word 文档：文件已损坏或不是 .docx 格式（%(error)s）") % {"error": exc.name}
        ) from exc
    except (etree.XMLSyntaxError, zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        raise ParseError(
            _("无法读取 Word 文档：文件已损坏或不是 .docx 格式（%(error)s）") % {"error": type(exc).__name__}
        ) from exc
    styles: list = []

    def load_styles():
        if not styles:
            try:
                # Word's full style gallery is 350 KB: parsed only when a style numbers paragraphs
                styles.append(_optional_part(package, main[0], "styles", needs=b"numPr"))
            except (etree.XMLSyntaxError, zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
                raise ParseError(
                    _("无法读取 Word 文档：文件已损坏或不是 .docx 格式（%(error)s）") % {"error": type(exc).__name__}
                ) from exc
        return styles[0]

    return document, numbering, load_styles


def _optional_part(package: _Package, source: str, kind: str, needs: bytes | None = None):
    """The root of the part ``source`` relates to by ``kind``, or None when there is none, or when
    its bytes lack ``needs`` (a tag name: an ASCII-compatible part without it has no such element,
    and need not be parsed)."""
    members = [m for m in package.related(source, _RT + kind) if m in package.names]
    if not members:
        return None
    data = package.archive.read(members[0])
    ascii_compatible = b"\x00" not in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff"))
    if needs is not None and ascii_compatible and needs not in data:
        return None
    return etree.fromstring(data, _parser())


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _render(value: int, fmt: str) -> str | None:
    if fmt in _CHINESE_FORMATS:
        if not 0 <= value < 100:
            return str(value)
        if value <= 10:
            return _CN[value]
        if value < 20:
            return "十" + (_CN[value - 10] if value > 10 else "")
        return _CN[value // 10] + "十" + (_CN[value % 10] if value % 10 else "")
    if fmt == "bullet" or fmt == "none":
        return None
    return str(value)


def _num_pr(ppr):
    """The ``w:numPr`` of a paragraph's or a style's ``w:pPr`` when it names a list (``w:numId``)."""
    if ppr is None:
        return None
    numpr = ppr.find(W + "numPr")
    if numpr is None or numpr.find(W + "numId") is None:
        return None
    return numpr


class _Styles:
    """Paragraph style lookups as python-docx makes them (docx.styles.styles.Styles)."""

    def __init__(self, root):
        self.by_id: dict[str, etree._Element] = {}
        self.default: etree._Element | None = None
        if root is None:
            return
        for style in root.iterchildren(W + "style"):
            style_id = style.get(W + "styleId")
            if style_id is not None:
                self.by_id.setdefault(style_id, style)
            if style.get(_TYPE) == "paragraph" and style.get(W + "default") in ("1", "true", "on"):
                self.default = style  # the last default wins

    def paragraph_style(self, style_id: str | None):
        if not style_id:
            return self.default
        style = self.by_id.get(style_id)
        if style is not None and style.get(_TYPE) not in _STYLE_TYPES:
            return None  # python-docx cannot read the type: no style
        return style if style is not None and style.get(_TYPE) == "paragraph" else self.default

    def num_pr(self, style_id: str | None):
        style, hops = self.paragraph_style(style_id), 0
        while style is not None and hops < 32:  # basedOn chains may loop in hostile files
            found = _num_pr(style.find(W + "pPr"))
            if found is not None:
                return found
            based = style.find(W + "basedOn")
            style = self.by_id.get(based.get(_VAL)) if based is not None and based.get(_VAL) is not None else None
            hops += 1
        return None


def numbering_labels(numbering, load_styles: Callable[[], object]) -> Callable[[object], str]:
    """A function paragraph element -> label text for Word's automatic list numbering.

    A document without a numbering part still numbers its list paragraphs (1., 2. …), as Word
    and python-docx do (python-docx supplies an empty numbering part)."""
    abstract_of = {}
    levels = {}
    if numbering is None:
        numbering = etree.Element(W + "numbering")
    for num in numbering.iterchildren(W + "num"):
        ref = num.find(W + "abstractNumId")
        if ref is not None:
            abstract_of[num.get(W + "numId")] = ref.get(_VAL)
    for absn in numbering.iterchildren(W + "abstractNum"):
        for lvl in absn.iterchildren(W + "lvl"):
            fmt = lvl.find(W + "numFmt")
            text = lvl.find(W + "lvlText")
            start = lvl.find(W + "start")
            start_value = _int(start.get(_VAL)) if start is not None else None
            levels[(absn.get(W + "abstractNumId"), lvl.get(W + "ilvl"))] = (
                fmt.get(_VAL) if fmt is not None else "decimal",
                (text.get(_VAL) or "") if text is not None else "%1.",
                1 if start_value is None else start_value,
            )
    counters: dict[tuple[str | None, str], int] = {}
    by_style: dict[str | None, etree._Element | None] = {}
    styles: list[_Styles] = []

    def style_num_pr(style_id):
        if style_id not in by_style:
            if not styles:
                styles.append(_Styles(load_styles()))
            by_style[style_id] = styles[0].num_pr(style_id)
        return by_style[style_id]

    def label(paragraph) -> str:
        ppr = paragraph.find(W + "pPr")
        numpr = _num_pr(ppr)
        if numpr is None:
            pstyle = ppr.find(W + "pStyle") if ppr is not None else None
            numpr = style_num_pr(pstyle.get(_VAL) if pstyle is not None else None)
            if numpr is None:
                return ""
        num = _int(numpr.find(W + "numId").get(_VAL))
        if num is None or num == 0:
            return ""
        ilvl_element = numpr.find(W + "ilvl")
        level = _int(ilvl_element.get(_VAL)) if ilvl_element is not None else 0
        if level is None or level < 0:
            return ""
        ilvl = str(level)
        absn = abstract_of.get(str(num))
        fmt, text, start = levels.get((absn, ilvl), ("decimal", "%1.", 1))
        key = (absn, ilvl)
        counters[key] = counters.get(key, start - 1) + 1
        for a, lv in list(counters):  # a new item restarts the deeper levels (keys hold digits only)
            if a == absn and int(lv) > level:
                del counters[(a, lv)]
        rendered = _render(counters[key], fmt)
        if rendered is None:
            return ""
        return text.replace("%" + str(level + 1), rendered).replace("（", "(").replace("）", ")")

    return label


def _run_text(run, out: list[str]) -> None:
    for e in run:
        tag = e.tag
        if tag == _T:
            if e.text:
                out.append(e.text)
        elif tag in (_TAB, _PTAB):
            out.append("\t")
        elif tag == _BR:
            if e.get(_TYPE, "textWrapping") == "textWrapping":
                out.append("\n")
        elif tag == _CR:
            out.append("\n")
        elif tag == _NB_HYPHEN:
            out.append("-")


def paragraph_text(paragraph) -> str:
    out: list[str] = []
    for child in paragraph:
        tag = child.tag
        if tag == _R:
            _run_text(child, out)
        elif tag == _HYPERLINK:
            for run in child.iterchildren(_R):
                _run_text(run, out)
    return "".join(out)


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def table_rows(tbl, max_span: int) -> list[list[str]]:
    """Cell texts per row, a horizontally merged cell once, a vertically merged one repeated.

    Walks the ``w:tc`` elements itself: a cell's ``gridSpan`` is clamped to ``max_span``
    (``gridSpan="1000000000"`` is a memory bomb in a tiny file) and a vertical merge repeats the
    value above it without following the merge back (python-docx recursed: RecursionError on long
    merges).
    """
    rows: list[list[str]] = []
    above: dict[int, str] = {}
    for tr in tbl.iterchildren(W + "tr"):
        cells: list[str] = []
        here: dict[int, str] = {}
        offset = _grid_value(tr.find(W + "trPr"), "gridBefore", 0)
        for tc in tr.iterchildren(W + "tc"):
            tcpr = tc.find(W + "tcPr")
            span = max(1, min(_grid_value(tcpr, "gridSpan", 1), max_span))
            if _v_merge(tcpr) == "continue":
                value = above.get(offset, "")
            else:
                value = "\n".join(paragraph_text(p) for p in tc.iterchildren(_P)).strip()
            for k in range(span):
                here[offset + k] = value
                if not cells or value != cells[-1] or not value:
                    cells.append(value)
            offset += span
        above = here
        rows.append(cells)
    return rows


def _grid_value(props, name: str, default: int) -> int:
    element = props.find(W + name) if props is not None else None
    if element is None:
        return default
    value = _int(element.get(_VAL))
    if value is None:
        raise ParseError(_("无法读取 Word 文档：文件内容已损坏"))
    return value


def _v_merge(tcpr) -> str | None:
    element = tcpr.find(W + "vMerge") if tcpr is not None else None
    if element is None:
        return None
    return element.get(_VAL, "continue")


def body_content(document, label: Callable[[object], str], max_span: int):
    """(lines, tables, lines before the first table) of the document body."""
    body = document.find(W + "body")
    if body is None:
        raise ParseError(_("无法读取 Word 文档：文件内容已损坏"))
    lines: list[str] = []
    tables: list[list[list[str]]] = []
    before_table: list[str] = []
    for child in body.iterchildren():
        tag = _local(child.tag)
        if tag == "p":
            text = paragraph_text(child)
            if text.strip():
                lines.append(label(child) + text)
        elif tag == "tbl":
            rows = table_rows(child, max_span)
            if not tables:
                before_table = list(lines)
            tables.append(rows)
            lines.extend(" ".join(c for c in r if c) for r in rows)
    return lines, tables, before_table
