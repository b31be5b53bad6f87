"""PDF files: Flate streams inflated within a budget (PDF bombs), and the envelope around the
document (header, end marker, and no page hidden before or after them).

Every ``stream`` keyword followed by zlib data is inflated with a bounded decompressor
(never more than the remaining budget is produced), so the check stays linear and within
``max_uncompressed``. LZW and RunLength streams are not measured: PDFium, which reads the
text layer (imports.parsing.pdftext), reads such bombs without inflating them
(tests/imports/parsing/test_safety.py).
"""

import io
import json
import re
import zlib

import pikepdf
from django.utils.translation import gettext as _

from core.uploads.errors import FileRefused
from core.uploads.limits import DEFAULT_LIMITS, MB, Limits, size_text
from core.uploads.sniff import MARKUP

_STREAM = re.compile(rb"stream\r?\n")
_ZLIB_CMF = frozenset(b"\x08\x18\x28\x38\x48\x58\x68\x78")


class _Budget:
    def __init__(self, limit):
        self.limit, self.used = limit, 0

    def spend(self, n):
        self.used += n
        if self.used > self.limit:
            raise FileRefused(
                _("PDF 文件解压后过大（超过 %(limit)s），疑似压缩炸弹，已拒绝") % {"limit": size_text(self.limit)},
                "unsafe",
            )


def _inflate_from(data, start, budget, depth):
    """Inflate the zlib stream at ``data[start:]`` within ``budget``; returns where it ended,
    or None when it is no zlib data. An inflated stream that is itself zlib data (a filter
    chain ``[/FlateDecode /FlateDecode]``) is inflated in turn, up to three levels."""
    inflater = zlib.decompressobj()
    offset = start
    keep: list[bytes] | None = [] if depth < 3 else None
    decided = False
    try:
        while not inflater.eof and offset < len(data):
            buf = data[offset : offset + 64 * 1024]
            offset += len(buf)
            while buf:
                out = inflater.decompress(buf, MB)
                budget.spend(len(out))
                if keep is not None and out:
                    if not decided and out[0] not in _ZLIB_CMF:
                        keep = None
                    else:
                        keep.append(out)
                    decided = True
                buf = inflater.unconsumed_tail
                if inflater.eof or not out:
                    break
    except zlib.error:
        return None
    if keep:
        inner = b"".join(keep)
        _inflate_from(inner, 0, budget, depth + 1)
    return offset - len(inflater.unused_data) if inflater.eof else offset


def check_pdf(data: bytes, limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse a PDF whose Flate streams inflate beyond the limits (a PDF bomb)."""
    budget = _Budget(limits.max_uncompressed)
    pos = 0
    while True:
        match = _STREAM.search(data, pos)
        if not match:
            break
        pos = match.end()
        if data[pos : pos + 1] and data[pos] in _ZLIB_CMF:
            end = _inflate_from(data, pos, budget, 1)
            if end is not None:
                pos = max(pos, end)
    total = budget.used
    if total >= limits.ratio_floor and total > len(data) * limits.max_ratio:
        raise FileRefused(
            _("PDF 压缩比异常（解压后 %(size)s，压缩比约 %(ratio)d:1），疑似压缩炸弹，已拒绝")
            % {"size": size_text(total), "ratio": total // max(1, len(data))},
            "unsafe",
        )


def check_pdf_envelope(data: bytes) -> None:
    """A PDF to keep as it is (evidence): a real header, a final %%EOF, and no web page hidden
    before the header or after the end marker (PDF/HTML polyglots). FileRefused with an
    empty message when the header is not a PDF's: the caller says what it expected."""
    header = data.find(b"%PDF-", 0, 1024)
    if header < 0 or not re.match(rb"%PDF-[12]\.[0-9]", data[header : header + 8]):
        raise FileRefused("", "invalid")
    # Leading bytes are legal, which is what PDF/HTML polyglots hide behind.
    if MARKUP.search(data[:header]):
        raise FileRefused(_("在 PDF 文件头之前夹带了网页代码，疑似伪装文件，已拒绝。"), "unsafe", about_file=True)
    end = data.rfind(b"%%EOF", max(0, len(data) - 1024))
    if end < 0:
        raise FileRefused(
            _("不完整（末尾缺少 PDF 结束标记 %%EOF），可能上传中断或文件已损坏，请重新导出后上传。"), about_file=True
        )
    if MARKUP.search(data[end:]):
        raise FileRefused(_("在 PDF 结束标记之后夹带了网页代码，疑似伪装文件，已拒绝。"), "unsafe", about_file=True)


# --- active content ------------------------------------------------------------------------

# Names that only stand in a PDF for something that runs, opens another file or carries one.
_ACTIVE_NAMES = {
    "JavaScript": "javascript",
    "JS": "javascript",
    "Launch": "launch",
    "SubmitForm": "submit",
    "ImportData": "submit",
    "GoToR": "remote",
    "GoToE": "embedded",
    "EmbeddedFile": "embedded",
    "EmbeddedFiles": "embedded",
    "EF": "embedded",
    "FileAttachment": "embedded",
    "RichMedia": "richmedia",
    "RichMediaExecute": "richmedia",
    "XFA": "xfa",
}
# Action types (/S) that run something or reach outside the file; a URI action is checked by its address.
_ACTIVE_ACTIONS = {
    "JavaScript",
    "Launch",
    "SubmitForm",
    "ImportData",
    "GoToR",
    "GoToE",
    "RichMediaExecute",
    "Rendition",
}
_SAFE_URI = re.compile(rb"^\s*(?:https?://|mailto:)", re.IGNORECASE)
# A name token: a solidus and the regular characters after it (PDF 32000-1, 7.2.2 and 7.3.5).
_NAME = re.compile(rb"/([^\x00\t\n\x0c\r ()<>\[\]{}/%]*)")
_HEX_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_STREAM_BODY = re.compile(rb"stream\r?\n(.*?)endstream", re.DOTALL)
_OBJECT_STREAM = re.compile(rb"/Type\s*/ObjStm")
_OTHER_FILTERS = re.compile(
    rb"/(?:LZWDecode|RunLengthDecode|ASCIIHexDecode|ASCII85Decode|Crypt|JBIG2Decode|DCTDecode|JPXDecode|CCITTFaxDecode|LZW|RL|AHx|A85)\b"
)


def _name(raw: bytes) -> str:
    """A name token as readers see it: #xx escapes decoded (/J#61vaScript is /JavaScript)."""
    return _HEX_ESCAPE.sub(lambda match: bytes([int(match.group(1), 16)]), raw).decode("latin-1")


def _active_name_in(text: bytes) -> str | None:
    for match in _NAME.finditer(text):
        found = _ACTIVE_NAMES.get(_name(match.group(1)))
        if found:
            return found
    return None


def _raw_scan(data: bytes, limits: Limits) -> str | None:
    """The names of the file's bytes outside stream data, and inside its Flate object
    streams, read without a parser: objects a reader's repair would find that the parser
    skipped (not in the cross-reference table, or a file the parser gives up on)."""
    budget = _Budget(limits.max_uncompressed)
    outside, last = [], 0
    for match in _STREAM_BODY.finditer(data):
        head = data[last : match.start()]
        outside.append(head)
        last = match.end()
        head = head[-2048:]
        dictionary = _HEX_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), head[head.rfind(b"obj") :])
        if _OBJECT_STREAM.search(dictionary):
            if _OTHER_FILTERS.search(dictionary):
                return "hidden"  # producers compress object streams with Flate alone
            if b"FlateDecode" not in dictionary:
                continue
            inflater = zlib.decompressobj()
            try:
                inner = inflater.decompress(match.group(1), limits.max_uncompressed - budget.used + 1)
            except zlib.error:
                continue
            budget.spend(len(inner))
            found = _active_name_in(inner)
            if found:
                return found
    outside.append(data[last:])
    return _active_name_in(b"".join(outside))


def _active_message(found: str) -> str:
    reasons = {
        "javascript": _("含有 JavaScript 脚本"),
        "launch": _("含有启动外部程序的动作（Launch）"),
        "submit": _("含有向外部提交或导入数据的表单动作"),
        "remote": _("含有打开其他文件的动作（GoToR）"),
        "embedded": _("含有嵌入的附件文件"),
        "richmedia": _("含有多媒体或 Flash 内容（RichMedia）"),
        "xfa": _("含有 XFA 动态表单"),
        "openaction": _("含有打开文件时自动执行的动作（OpenAction）"),
        "additional": _("含有自动触发的附加动作（AA）"),
        "uri": _("含有指向非网页地址的链接（如本地文件或脚本）"),
        "hidden": _("含有以非常规方式压缩的对象（可用于隐藏脚本，无法检查）"),
    }
    return _(
        "%(reason)s，打开时可能自动运行或连接外部，不予接受；请用“打印为 PDF”重新生成不含脚本和附件的 PDF 后再上传。"
    ) % {"reason": reasons[found]}


def check_pdf_active(data: bytes, limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse a PDF kept as evidence that carries active content: JavaScript (name tree,
    actions, /JS anywhere), Launch, SubmitForm, ImportData, GoToR and GoToE actions, an
    /OpenAction or /AA that is more than a jump inside the document, a URI action to
    anything but http(s) or mailto, embedded files and file attachment annotations,
    RichMedia, XFA forms.

    qpdf (pikepdf) parses the file — names with #xx escapes, objects in compressed object
    streams, indirect objects — and every object, reachable or not, is looked at. A raw scan
    of the bytes outside stream data (and of the Flate object streams) comes first, for what
    a lenient reader's repair would find that the parser does not. Run check_pdf first:
    it bounds what the Flate streams inflate to."""
    found = _raw_scan(data, limits)
    if found is None:
        found = _parsed_scan(data)
    if found is not None:
        raise FileRefused(_active_message(found), "unsafe", about_file=True)


def _parsed_scan(data: bytes) -> str | None:
    try:
        pdf = pikepdf.open(io.BytesIO(data))
    except pikepdf.PasswordError:
        # Encryption leaves names readable (the raw scan has read them) but hides what is
        # inside object streams: a locked file that has them cannot be checked.
        if _OBJECT_STREAM.search(_HEX_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), data)):
            raise FileRefused(
                _("设置了打开密码，其中的压缩对象无法检查，请取消密码后再上传。"), "encrypted", about_file=True
            ) from None
        return None
    except (pikepdf.PdfError, ValueError, RuntimeError):
        return None  # qpdf cannot read it at all: the raw scan is what could be checked
    with pdf:
        for obj in pdf.objects:
            found = _object_problem(pdf, obj)
            if found:
                return found
    return None


# In qpdf's JSON of an object a name is "/Name" (escapes decoded) and a string "u:…" or
# "b:…", so a name is never mistaken for text. Objects are searched as JSON text, which is
# quick; only a URI's value, and the few objects with an OpenAction or an AA, are decoded.
_JSON_ACTIVE = re.compile(rb'"/(%s)"' % b"|".join(re.escape(n.encode()) for n in [*_ACTIVE_NAMES, "Rendition"]))
_JSON_URI = re.compile(rb'"/URI":\s*("(?:[^"\\]|\\.)*")')
_JSON_SAFE_URI = re.compile(rb'"u:(?:https?://|mailto:)', re.IGNORECASE)
_JSON_TRIGGERS = re.compile(rb'"/(?:OpenAction|AA)"')


def _object_problem(pdf, obj) -> str | None:
    text = obj.to_json(dereference=True)
    match = _JSON_ACTIVE.search(text)
    if match:
        return _ACTIVE_NAMES.get(match.group(1).decode(), "richmedia")  # a Rendition plays media
    for uri in _JSON_URI.finditer(text):
        if _JSON_SAFE_URI.match(uri.group(1)):
            continue  # the usual web link, without decoding it
        value = _resolved(pdf, json.loads(uri.group(1)))
        if isinstance(value, str) and not _SAFE_URI.match(_json_string(value)):
            return "uri"
    if not _JSON_TRIGGERS.search(text):
        return None
    stack = [json.loads(text)]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        if not isinstance(item, dict):
            continue
        opening = _resolved(pdf, item.get("/OpenAction"))
        if isinstance(opening, dict) and opening.get("/S", "/GoTo") != "/GoTo":
            return "openaction"  # a destination, or a GoTo, only opens at a page
        if "/AA" in item and _resolved(pdf, item["/AA"]) != {}:
            return "additional"
        stack.extend(item.values())
    return None


def _json_string(value: str) -> bytes:
    """A PDF string from qpdf's JSON: "u:text" (Unicode) or "b:hex" (bytes)."""
    if value.startswith("b:"):
        try:
            return bytes.fromhex(value[2:])
        except ValueError:
            return b""
    return value[2:].encode("utf-8", "replace")


def _resolved(pdf, value):
    """An indirect reference ("12 0 R") in qpdf's JSON, read; other values as they are."""
    if isinstance(value, str) and (reference := re.fullmatch(r"(\d+) (\d+) R", value)):
        try:
            target = pdf.get_object(int(reference.group(1)), int(reference.group(2)))
        except (pikepdf.PdfError, ValueError):
            return None
        return json.loads(target.to_json(dereference=True))
    return value
