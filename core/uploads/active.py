"""Active content in an Office package kept as evidence: what runs, fetches or opens
something when the file is opened, judged from the package's parts, relationships, Word
field codes and Excel formulas (PDFs: core.uploads.pdf.check_pdf_active).

Refused (FileRefused, code ``unsafe``):
- relationships with ``TargetMode="External"`` other than a hyperlink to an http, https or
  mailto address (attached templates, linked pictures and OLE objects, frames, subdocuments,
  external workbooks: each makes Office fetch something, a UNC path leaks the Windows login);
  a hyperlink is what a reader clicks, so it stays — but not to ``file:``, a UNC path or
  ``javascript:``;
- embedded objects and controls: relationships of type oleObject, package, control,
  activeXControl, aFChunk (altChunk), attachedTemplate, subDocument, externalLink, and parts
  under ``embeddings/``, ``activeX/``, ``macrosheets/`` (Excel 4.0 macros), ``externalLinks/``,
  ``connections.xml`` (data connections refreshed from outside), macro-enabled content types;
- Word fields that run or fetch: DDE, DDEAUTO, INCLUDETEXT, LINK, IMPORT, and INCLUDEPICTURE
  from anything but an http(s) address (a picture pasted from a web page keeps an
  ``INCLUDEPICTURE "https://…"`` field with the picture stored in the file);
- Excel formulas (cells and defined names) that call out: DDE (``cmd|'/c calc'!A1``: a bar
  outside a string), RTD, WEBSERVICE, CALL, REGISTER, REGISTER.ID, EXEC.

Every XML part is read once with expat (DOCTYPEs were refused before by open_zip), so the
work is linear in the package's declared size, which open_zip has bounded.
"""

import re
import zipfile
from xml.parsers import expat

from django.utils.translation import gettext as _

from core.uploads.errors import FileRefused

_RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_S_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"

# Relationship types (the last segment of the Type URI) that embed or link active content.
_ACTIVE_TYPES = {
    "oleobject": "embedded",
    "package": "embedded",
    "control": "embedded",
    "activexcontrol": "embedded",
    "activexcontrolbinary": "embedded",
    "afchunk": "embedded",
    "vbaproject": "macro",
    "wordvbadata": "macro",
    "attachedtemplate": "template",
    "subdocument": "external",
    "externallink": "external",
    "externallinkpath": "external",
    "frame": "external",
}
_SAFE_LINK = re.compile(r"^(?:https?://|mailto:)", re.IGNORECASE)
# Folders of a package that only hold embedded objects, controls, macros or links out.
_ACTIVE_FOLDERS = ("embeddings/", "activex/", "macrosheets/", "externallinks/")
_FIELD_NAME = re.compile(r'\s*"?\\?([A-Za-z]+)')
_FIELD_TARGET = re.compile(r'\s*"?[A-Za-z]+"?\s+"?([^"\s]*)')
_RUNNING_FIELDS = {"DDE", "DDEAUTO", "INCLUDETEXT", "LINK", "IMPORT"}
_FORMULA_STRING = re.compile(r'"(?:[^"]|"")*"')
_CALLING_FUNCTIONS = re.compile(
    r"(?<![A-Za-z0-9_.])(?:_xlfn\.)?(RTD|WEBSERVICE|CALL|REGISTER|REGISTER\.ID|EXEC)\s*\(", re.IGNORECASE
)


def _refuse(reason: str, label: str, extension: str) -> FileRefused:
    return FileRefused(
        _("%(reason)s，打开时可能自动运行或连接外部，不予接受；请删除后另存为普通的%(label)s（%(extension)s）再上传。")
        % {"reason": reason, "label": label, "extension": extension},
        "unsafe",
        about_file=True,
    )


def _reason(kind: str, detail: str) -> str:
    detail = detail[:60]
    if kind == "macro":
        return _("含有宏（%(detail)s）") % {"detail": detail}
    if kind == "embedded":
        return _("含有嵌入的对象或控件（%(detail)s）") % {"detail": detail}
    if kind == "template":
        return _("引用了附加模板（%(detail)s）") % {"detail": detail}
    if kind == "dde":
        return _("含有 DDE 或外部调用（%(detail)s）") % {"detail": detail}
    return _("引用了外部文件或地址（%(detail)s）") % {"detail": detail}


def check_active_content(archive: zipfile.ZipFile, kind: str, label: str, extension: str) -> None:
    """Refuse a .docx/.xlsx (already checked by open_zip) that carries active content (see
    the module's docstring). `kind` is docx or xlsx; `label` and `extension` are for messages."""
    found = _find_active(archive, kind)
    if found is not None:
        raise _refuse(_reason(*found), label, extension)


def _find_active(archive: zipfile.ZipFile, kind: str) -> tuple[str, str] | None:
    for info in archive.infolist():
        name = info.filename.replace("\\", "/")
        lowered = name.lower()
        if any(f"/{folder}" in f"/{lowered}" for folder in _ACTIVE_FOLDERS):
            return (
                "macro" if "macrosheets/" in lowered else "external" if "externallinks/" in lowered else "embedded",
                name,
            )
        if lowered.rsplit("/", 1)[-1] == "connections.xml":
            return "external", name
        if lowered == "[content_types].xml" and b"macroenabled" in archive.read(info).lower():
            return "macro", "macroEnabled"
        if lowered.endswith(".rels"):
            found = _check_relationships(archive, info)
        elif kind == "docx" and lowered.startswith("word/") and lowered.endswith(".xml"):
            found = _check_fields(archive, info)
        elif kind == "xlsx" and lowered.startswith("xl/") and lowered.endswith(".xml"):
            found = _check_formulas(archive, info)
        else:
            continue
        if found is not None:
            return found
    return None


def _parse(archive, info, start, end=None, text=None) -> None:
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = start
    if end is not None:
        parser.EndElementHandler = end
    if text is not None:
        parser.CharacterDataHandler = text
    try:
        with archive.open(info) as stream:
            parser.ParseFile(stream)
    except expat.ExpatError as exc:
        raise FileRefused(_("文件已损坏：部件“%(entry)s”不是有效的 XML") % {"entry": info.filename[:80]}) from exc


class _Found(Exception):
    def __init__(self, kind, detail):
        super().__init__(kind, detail)
        self.found = (kind, detail)


def _check_relationships(archive, info) -> tuple[str, str] | None:
    def start(tag, attrs):
        if tag != f"{_RELS_NS} Relationship":
            return
        rel_type = attrs.get("Type", "").rstrip("/").rsplit("/", 1)[-1].lower()
        target = attrs.get("Target", "").strip()
        if rel_type in _ACTIVE_TYPES:
            raise _Found(_ACTIVE_TYPES[rel_type], target or rel_type)
        external = attrs.get("TargetMode", "").lower() == "external"
        if external and (rel_type != "hyperlink" or not _SAFE_LINK.match(target)):
            raise _Found("external", target or rel_type)

    try:
        _parse(archive, info, start)
    except _Found as found:
        return found.found
    return None


def _field_problem(code: str) -> str | None:
    match = _FIELD_NAME.match(code)
    if not match:
        return None
    field = match.group(1).upper()
    if field in _RUNNING_FIELDS:
        return code.strip()
    if field == "INCLUDEPICTURE":
        target = _FIELD_TARGET.match(code)
        if not target or not re.match(r"https?://", target.group(1), re.IGNORECASE):
            return code.strip()
    return None


def _check_fields(archive, info) -> tuple[str, str] | None:
    """Word field codes: w:fldSimple's instr, and the w:instrText runs between a complex
    field's begin and separate marks (nested fields each have their own), joined before
    reading, since Word splits a code across runs as it likes."""
    stack: list[list[str]] = []
    in_instr = False

    def start(tag, attrs):
        nonlocal in_instr
        if tag == f"{_W_NS} fldSimple":
            problem = _field_problem(attrs.get(f"{_W_NS} instr", ""))
            if problem:
                raise _Found("dde", problem)
        elif tag == f"{_W_NS} fldChar":
            mark = attrs.get(f"{_W_NS} fldCharType", "")
            if mark == "begin":
                stack.append([])
            elif mark in ("separate", "end") and stack:
                problem = _field_problem("".join(stack.pop()))
                if problem:
                    raise _Found("dde", problem)
        elif tag == f"{_W_NS} instrText":
            in_instr = True

    def end(tag):
        nonlocal in_instr
        if tag == f"{_W_NS} instrText":
            in_instr = False

    def text(data):
        if in_instr:
            if not stack:
                stack.append([])  # an instrText outside any begin mark: still read it
            stack[-1].append(data)

    try:
        _parse(archive, info, start, end, text)
        for code in stack:  # fields never closed
            problem = _field_problem("".join(code))
            if problem:
                return "dde", problem
    except _Found as found:
        return found.found
    return None


def _formula_problem(formula: str) -> str | None:
    bare = _FORMULA_STRING.sub('""', formula)
    if "|" in bare or _CALLING_FUNCTIONS.search(bare):
        return formula.strip()
    return None


def _check_formulas(archive, info) -> tuple[str, str] | None:
    """Cell formulas (<f>) and defined names (<definedName>) of an Excel package."""
    formula: list[str] | None = None
    tags = (f"{_S_NS} f", f"{_S_NS} definedName")

    def start(tag, attrs):
        nonlocal formula
        if tag in tags:
            formula = []

    def end(tag):
        nonlocal formula
        if tag in tags and formula is not None:
            problem = _formula_problem("".join(formula))
            formula = None
            if problem:
                raise _Found("dde", problem)

    def text(data):
        if formula is not None:
            formula.append(data)

    try:
        _parse(archive, info, start, end, text)
    except _Found as found:
        return found.found
    return None
