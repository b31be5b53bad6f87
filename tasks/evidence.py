"""Evidence files on a progress update: which kinds are accepted, judged by content, not by name."""

import dataclasses
import io
import os
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from PIL import Image

from workplans.parsing.errors import ParseError
from workplans.parsing.safety import CFB_MAGIC, DEFAULT_LIMITS, open_zip, refuse_compound_file

MB = 1024 * 1024
DEFAULT_MAX_BYTES = 20 * MB
# Far above any photo or scan (a 48-megapixel phone photo is 8000×6000), far below what it takes
# to exhaust memory when decoded (50 M pixels × 4 bytes = 200 MB).
MAX_PIXELS = 50_000_000


@dataclasses.dataclass(frozen=True)
class EvidenceKind:
    key: str  # "pdf" | "docx" | "xlsx" | "png" | "jpeg" | "gif" | "webp"
    label: str  # Chinese label e.g. "PDF 文档", "Word 文档", "Excel 表格", "图片"
    content_type: str  # the MIME type to serve it with
    extensions: tuple[str, ...]  # accepted name endings, e.g. (".jpg", ".jpeg")


KINDS = (
    EvidenceKind("pdf", "PDF 文档", "application/pdf", (".pdf",)),
    EvidenceKind(
        "docx", "Word 文档", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",)
    ),
    EvidenceKind("xlsx", "Excel 表格", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",)),
    EvidenceKind("png", "图片", "image/png", (".png",)),
    EvidenceKind("jpeg", "图片", "image/jpeg", (".jpg", ".jpeg")),
    EvidenceKind("gif", "图片", "image/gif", (".gif",)),
    EvidenceKind("webp", "图片", "image/webp", (".webp",)),
)
_BY_EXTENSION = {extension: kind for kind in KINDS for extension in kind.extensions}

ACCEPT_ATTRIBUTE = ",".join(_BY_EXTENSION)

_ACCEPTED = "可上传的文件类型：PDF、Word（.docx）、Excel（.xlsx）、图片（PNG/JPEG/GIF/WebP）。"

# Formats people try that have an obvious way out.
_EXTENSION_HINTS = {
    ".doc": "是旧版 Word 格式（.doc），请用 Word 或 WPS 另存为 .docx 后再上传。",
    ".xls": "是旧版 Excel 格式（.xls），请用 Excel 或 WPS 另存为 .xlsx 后再上传。",
    ".wps": "是 WPS 文字格式（.wps），请用 WPS 另存为 .docx 后再上传。",
    ".et": "是 WPS 表格格式（.et），请用 WPS 另存为 .xlsx 后再上传。",
    ".svg": "是 SVG 图像，可携带脚本，不予接受；请导出为 PNG 或 JPEG 后再上传。",
    ".heic": "是 HEIC 图片（苹果手机默认格式），请转换为 JPEG 后再上传（或在手机“设置—相机—格式”中选择“兼容性最佳”）。",
    ".heif": "是 HEIF 图片，请转换为 JPEG 后再上传。",
}

# What the bytes really are, for messages; keys are those of _sniff().
_WHAT = {
    "pdf": "PDF 文档",
    "docx": "Word 文档",
    "xlsx": "Excel 表格",
    "pptx": "PowerPoint 演示文稿",
    "png": "PNG 图片",
    "jpeg": "JPEG 图片",
    "gif": "GIF 图片",
    "webp": "WebP 图片",
    "zip": "压缩包（或 Word/Excel 文件）",
    "ole": "旧版 Office 文件（.doc/.xls）",
    "exe": "可执行程序",
    "html": "网页（HTML）文件",
    "svg": "SVG 图像（可携带脚本）",
}
# Content that is refused whatever the name: it runs, or a browser would run it.
_DANGEROUS = {"exe", "html", "svg"}

# Tags that make a browser treat bytes as a page; real images and PDFs never carry them where we look.
_MARKUP = re.compile(rb"<(?:html|script|svg|body|iframe|!doctype\s+html)", re.IGNORECASE)

_OFFICE_MAIN_PARTS = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml", "pptx": "ppt/presentation.xml"}

_PIL_FORMATS = {"png": ("PNG",), "jpeg": ("JPEG", "MPO"), "gif": ("GIF",), "webp": ("WEBP",)}
# Bytes tolerated after the end of the image: some JPEG/GIF writers pad a little (zeros, a newline);
# PNG and WebP state their own length, so nothing may follow.
_TRAILING_SLACK = {"png": 0, "webp": 0, "jpeg": 16, "gif": 16}


# ---------------------------------------------------------------------------------------------
# the check


def check_evidence_file(uploaded, *, max_bytes: int | None = None) -> EvidenceKind:
    """`uploaded` is a Django UploadedFile (has .name, .size, .read()/.chunks(), .seek()).
    Returns the kind, or raises django.core.exceptions.ValidationError with a Chinese message
    that names the file and the reason. max_bytes defaults to settings.EVIDENCE_MAX_BYTES.
    Leaves the file position at 0.

    The error's ``code`` is one of ``unsupported_type``, ``empty``, ``too_large``,
    ``content_mismatch``, ``invalid``, ``unsafe``.
    """
    if max_bytes is None:
        max_bytes = getattr(settings, "EVIDENCE_MAX_BYTES", DEFAULT_MAX_BYTES)
    name = _display_name(uploaded.name)
    try:
        kind = _kind_from_name(uploaded.name, name)
        if (uploaded.size or 0) > max_bytes:
            raise _too_large(name, uploaded.size, max_bytes)
        data = _read_at_most(uploaded, max_bytes + 1)
    finally:
        uploaded.seek(0)
    if not data:
        raise _error(name, "是空文件（0 字节），请检查后重新上传。", "empty")
    if len(data) > max_bytes:  # .size said otherwise: trust the bytes
        raise _too_large(name, None, max_bytes)
    _check_content(data, kind, name)
    return kind


def _read_at_most(uploaded, limit):
    uploaded.seek(0)
    parts, left = [], limit
    while left > 0:
        part = uploaded.read(min(left, MB))
        if not part:
            break
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def _display_name(name):
    name = os.path.basename((name or "").replace("\\", "/")) or "未命名文件"
    return name if len(name) <= 80 else name[:50] + "…" + name[-20:]


def _kind_from_name(raw_name, name):
    # The same rule the Attachment model uses to name the stored file.
    extension = os.path.splitext(raw_name or "")[1].lower()
    if not extension:
        raise _error(name, "没有扩展名，无法判断文件类型。" + _ACCEPTED, "unsupported_type")
    if extension in _EXTENSION_HINTS:
        raise _error(name, _EXTENSION_HINTS[extension], "unsupported_type")
    if extension not in _BY_EXTENSION:
        raise _error(name, f"的类型（{extension[:20]}）不在可上传范围内。{_ACCEPTED}", "unsupported_type")
    return _BY_EXTENSION[extension]


def _check_content(data, kind, name):
    actual = _sniff(data)
    expected = "zip" if kind.key in ("docx", "xlsx") else kind.key
    if actual in _DANGEROUS:
        raise _error(name, f"实际上是{_WHAT[actual]}，不是{_WHAT[kind.key]}，已拒绝。", "unsafe")
    if actual == "ole" and expected == "zip":
        # A password-protected .docx/.xlsx, or a .doc/.xls renamed: the parser's message says which.
        try:
            refuse_compound_file(data)
        except ParseError as exc:
            raise _from_parse_error(name, exc) from None
    if actual is not None and actual != expected:
        raise _mismatch(name, kind, actual)
    if actual is None:
        raise _invalid(name, kind)
    if kind.key == "pdf":
        _check_pdf(data, name)
    elif expected == "zip":
        _check_office(data, kind, name)
    else:
        _check_image(data, kind, name)


def _sniff(data):
    """What the bytes are, by their signature: a key of _WHAT, or None when nothing known."""
    head = data[:1024]
    if head.startswith((b"MZ", b"\x7fELF")):
        return "exe"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    if head.startswith(CFB_MAGIC):
        return "ole"
    if b"%PDF-" in head:  # readers accept the header anywhere in the first 1024 bytes
        return "pdf"
    markup = _MARKUP.search(head)
    if markup:
        return "svg" if markup.group().lower() == b"<svg" else "html"
    return None


# ---------------------------------------------------------------------------------------------
# PDF


def _check_pdf(data, name):
    header = data.find(b"%PDF-", 0, 1024)
    if not re.match(rb"%PDF-[12]\.[0-9]", data[header : header + 8]):
        raise _invalid(name, _BY_EXTENSION[".pdf"])
    # Leading bytes are legal, which is what PDF/HTML polyglots hide behind.
    if _MARKUP.search(data[:header]):
        raise _error(name, "在 PDF 文件头之前夹带了网页代码，疑似伪装文件，已拒绝。", "unsafe")
    end = data.rfind(b"%%EOF", max(0, len(data) - 1024))
    if end < 0:
        raise _error(
            name, "不完整（末尾缺少 PDF 结束标记 %%EOF），可能上传中断或文件已损坏，请重新导出后上传。", "invalid"
        )
    if _MARKUP.search(data[end:]):
        raise _error(name, "在 PDF 结束标记之后夹带了网页代码，疑似伪装文件，已拒绝。", "unsafe")


# ---------------------------------------------------------------------------------------------
# Word / Excel


def _check_office(data, kind, name):
    try:
        archive = open_zip(data, DEFAULT_LIMITS)  # also runs check_xml_parts (DOCTYPE/entities)
    except ParseError as exc:
        raise _from_parse_error(name, exc) from None
    with archive:
        # OPC part names are case-insensitive.
        parts = {entry.lower() for entry in archive.namelist()}
    if _zip_trailer(data):
        raise _error(name, "在压缩包结尾之后还附带了其他数据（可能是伪装或隐藏的文件），已拒绝。", "unsafe")
    if any(part.rsplit("/", 1)[-1] == "vbaproject.bin" for part in parts):
        raise _error(
            name,
            f"含有宏（vbaProject.bin），宏可执行任意代码，不予接受；"
            f"请另存为不含宏的{kind.label}（{kind.extensions[0]}）后再上传。",
            "unsafe",
        )
    if "[content_types].xml" not in parts:
        raise _error(
            name, f"缺少 Office 文件必需的 [Content_Types].xml，不是有效的{kind.label}，请重新另存后上传。", "invalid"
        )
    main = _OFFICE_MAIN_PARTS[kind.key]
    if main not in parts:
        for other, part in _OFFICE_MAIN_PARTS.items():
            if part in parts:
                raise _mismatch(name, kind, other)
        raise _error(
            name,
            f"缺少{kind.label}的主体部分（{main}），文件已损坏或不是{kind.label}，请重新另存后上传。",
            "invalid",
        )


def _zip_trailer(data):
    """True when bytes follow the archive's end record, or its comment holds markup: zipfile reads
    such a file all the same, which is how zip/HTML polyglots pass for a .docx."""
    end_record = data.rfind(b"PK\x05\x06")  # zipfile too takes the last one
    comment = data[end_record + 22 :]
    declared = int.from_bytes(data[end_record + 20 : end_record + 22], "little")
    return len(comment) != declared or bool(_MARKUP.search(comment))


# ---------------------------------------------------------------------------------------------
# images


class _Truncated(Exception):
    pass


class _Malformed(Exception):
    pass


def _check_image(data, kind, name):
    what = _WHAT[kind.key]
    # Opening reads only the header: nothing is decoded, so a huge canvas costs nothing yet.
    # Pillow's own bomb limit (Image.MAX_IMAGE_PIXELS) is a process-wide global; ours is checked here.
    width, height = _pillow(data, kind, name, lambda image: image.size)
    if width * height > MAX_PIXELS:
        raise _too_many_pixels(name, (width, height))
    try:
        end, texts = _IMAGE_END[kind.key](data)
    except _Truncated:
        raise _error(name, f"不完整（{what}数据提前结束），可能上传中断或文件已损坏，请重新上传。", "invalid") from None
    except _Malformed:
        raise _invalid(name, kind) from None
    trailing = data[end:]
    if len(trailing) > _TRAILING_SLACK[kind.key] or b"<" in trailing:
        content = "网页代码" if _MARKUP.search(trailing) else f"{len(trailing)} 字节的其他数据"
        hint = "如为手机拍摄的“动态照片”，请关闭动态照片或另存为普通照片后再上传。" if kind.key == "jpeg" else ""
        raise _error(name, f"在{what}数据结束之后还附带了{content}（可能是伪装或隐藏的文件），已拒绝。{hint}", "unsafe")
    for chunk in (data[:1024], data[-1024:], *texts):
        markup = _MARKUP.search(chunk)
        if markup:
            raise _error(
                name,
                f"中含有网页代码（{markup.group().decode()}），正常的图片不会包含，疑似伪装文件，已拒绝。",
                "unsafe",
            )
    _pillow(data, kind, name, lambda image: image.verify())  # PNG: every chunk's CRC


def _pillow(data, kind, name, use):
    """``use(image)`` on the image Pillow opens from ``data``, its failures turned into our messages."""
    try:
        with Image.open(io.BytesIO(data), formats=_PIL_FORMATS[kind.key]) as image:
            if image.format not in _PIL_FORMATS[kind.key]:
                raise _invalid(name, kind)
            return use(image)
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(name, None) from None
    except Exception:
        raise _invalid(name, kind) from None


def _png_end(data):
    """Offset just past the IEND chunk, and the text chunks (tEXt/iTXt)."""
    pos, texts = 8, []
    while True:
        if pos + 12 > len(data):
            raise _Truncated()
        length, chunk_type = int.from_bytes(data[pos : pos + 4], "big"), data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > len(data):
            raise _Truncated()
        if chunk_type in (b"tEXt", b"iTXt"):
            texts.append(data[pos + 8 : pos + 8 + length])
        pos = end
        if chunk_type == b"IEND":
            return pos, texts


def _jpeg_end(data):
    """Offset just past the final EOI, following the images an MPF index lists after the first
    (phones store Ultra HDR gain maps and depth maps that way), and the text segments."""
    end, texts, mpf = _jpeg_walk(data, 0)
    if mpf:
        for offset in _mpf_offsets(*mpf):
            if offset < end or offset - end > _TRAILING_SLACK["jpeg"] or data[offset : offset + 2] != b"\xff\xd8":
                break  # not the next image in line: what follows is judged as trailing bytes
            end, more, _ = _jpeg_walk(data, offset)
            texts += more
    return end, texts


def _jpeg_walk(data, start):
    """Offset just past the EOI of the JPEG at ``start``, its COM/XMP segments, and its MPF
    index as (absolute offset of the index's TIFF header, the index bytes) or None."""
    size, pos, texts, mpf = len(data), start + 2, [], None
    while True:
        pos = data.find(b"\xff", pos)  # like libjpeg, skip stray bytes before a marker
        if pos < 0:
            raise _Truncated()
        while pos < size and data[pos] == 0xFF:  # fill bytes
            pos += 1
        if pos >= size:
            raise _Truncated()
        marker = data[pos]
        pos += 1
        if marker == 0xD9:  # EOI
            return pos, texts, mpf
        if marker == 0xD8:  # a second SOI
            raise _Malformed()
        if marker in (0x00, 0x01) or 0xD0 <= marker <= 0xD7:  # no length follows
            continue
        if pos + 2 > size:
            raise _Truncated()
        length = int.from_bytes(data[pos : pos + 2], "big")
        if length < 2:
            raise _Malformed()
        body, pos = data[pos + 2 : pos + length], pos + length
        if pos > size:
            raise _Truncated()
        if marker == 0xFE or (marker == 0xE1 and body.startswith(b"http://ns.adobe.com/xap/")):
            texts.append(body)
        elif marker == 0xE2 and body.startswith(b"MPF\x00") and mpf is None:
            mpf = (pos - length + 2 + 4, body[4:])
        if marker == 0xDA:  # SOS: entropy-coded data up to the next marker
            pos = _skip_entropy(data, pos)


def _skip_entropy(data, pos):
    while True:
        pos = data.find(b"\xff", pos)
        if pos < 0 or pos + 1 >= len(data):
            raise _Truncated()
        following = data[pos + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7:  # stuffed byte, restart marker
            pos += 2
        elif following == 0xFF:
            pos += 1
        else:
            return pos


def _mpf_offsets(base, index):
    """Absolute offsets of the images after the first that an MPF index (CIPA DC-007) lists."""
    order = {b"II*\x00": "little", b"MM\x00*": "big"}.get(index[:4])
    if order is None:
        return []

    def number(at, width):
        return int.from_bytes(index[at : at + width], order)

    ifd = number(4, 4)
    for n in range(number(ifd, 2)):
        entry = ifd + 2 + 12 * n
        if number(entry, 2) == 0xB002:  # MPEntry: 16 bytes per image, the first is this one
            count, at = number(entry + 4, 4), number(entry + 8, 4)
            entries = index[at : at + count]
            offsets = [int.from_bytes(entries[i + 8 : i + 12], order) for i in range(16, len(entries) - 15, 16)]
            return sorted(base + offset for offset in offsets if offset)
    return []


def _gif_end(data):
    """Offset just past the trailer (0x3B), and the comment extensions."""
    size, texts = len(data), []
    if size < 13:
        raise _Truncated()
    pos = 13 + _color_table(data[10])
    while True:
        if pos >= size:
            raise _Truncated()
        block = data[pos]
        if block == 0x3B:
            return pos + 1, texts
        if block == 0x21:  # extension: label, then sub-blocks
            if pos + 1 >= size:
                raise _Truncated()
            label = data[pos + 1]
            pos, body = _sub_blocks(data, pos + 2, keep=label == 0xFE)
            if label == 0xFE:
                texts.append(body)
        elif block == 0x2C:  # image: descriptor, local colour table, LZW code size, sub-blocks
            if pos + 10 > size:
                raise _Truncated()
            pos += 10 + _color_table(data[pos + 9]) + 1
            pos, _ = _sub_blocks(data, pos)
        else:
            raise _Malformed()


def _color_table(flags):
    return 3 << ((flags & 7) + 1) if flags & 0x80 else 0


def _sub_blocks(data, pos, keep=False):
    kept = []
    while True:
        if pos >= len(data):
            raise _Truncated()
        length = data[pos]
        pos += 1
        if not length:
            return pos, b"".join(kept)
        if keep:
            kept.append(data[pos : pos + length])
        pos += length


def _webp_end(data):
    """Offset just past the RIFF container, and the XMP chunk."""
    end, texts = 8 + int.from_bytes(data[4:8], "little"), []
    if end > len(data):
        raise _Truncated()
    pos = 12
    while pos + 8 <= end:
        chunk, length = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "little")
        if pos + 8 + length > end:
            raise _Malformed()
        if chunk == b"XMP ":
            texts.append(data[pos + 8 : pos + 8 + length])
        pos += 8 + length + (length & 1)
    return end, texts


_IMAGE_END = {"png": _png_end, "jpeg": _jpeg_end, "gif": _gif_end, "webp": _webp_end}


# ---------------------------------------------------------------------------------------------
# messages


def _error(name, reason, code, *, space=True):
    return ValidationError(f"“{name}”{_spaced(reason) if space else reason}", code=code)


def _spaced(text):
    # Chinese typesetting puts a space between Han characters and Latin letters or digits
    # ("不是有效的 PDF 文件"); labels are put together from parts, so the spaces are added here.
    text = re.sub(r"([\u4e00-\u9fff])([A-Za-z0-9])", r"\1 \2", text)
    return re.sub(r"([A-Za-z0-9])([\u4e00-\u9fff])", r"\1 \2", text)


def _from_parse_error(name, exc):
    message = str(exc)
    if not message.endswith(("。", "！", "）")):
        message += "。"
    # The message is the parser's own, entry names and all: left as it is. The parser says 已拒绝
    # for what looks hostile (zip bombs, climbing paths, entity declarations), not for damage.
    return _error(name, "：" + message, "unsafe" if "已拒绝" in message else "invalid", space=False)


_NOT_VALID = {
    "pdf": "不是有效的 PDF 文件，请重新导出后上传。",
    "docx": "不是有效的 Word 文档（.docx），请用 Word 或 WPS 重新另存后上传。",
    "xlsx": "不是有效的 Excel 表格（.xlsx），请用 Excel 或 WPS 重新另存后上传。",
}


def _invalid(name, kind):
    return _error(name, _NOT_VALID.get(kind.key) or f"不是有效的{_WHAT[kind.key]}，请重新导出后上传。", "invalid")


def _mismatch(name, kind, actual):
    extension = os.path.splitext(name)[1].lower()
    actual_kind = {k.key: k for k in KINDS}.get(actual)
    if actual_kind:
        advice = f"请把扩展名改为 {actual_kind.extensions[0]} 后再上传。"
    elif actual == "ole":
        advice = "请另存为 .docx 或 .xlsx 后再上传。"
    else:
        advice = "请上传正确的文件。"
    return _error(
        name,
        f"的内容是{_WHAT[actual]}，与扩展名 {extension} 不符。文件名和内容必须一致，{advice}",
        "content_mismatch",
    )


def _too_large(name, size, max_bytes):
    actual = f"（该文件 {_size(size)}）" if size else ""
    return _error(name, f"超过了大小上限 {_size(max_bytes)}{actual}，请压缩或拆分后再上传。", "too_large")


def _too_many_pixels(name, dimensions):
    actual = f"（{dimensions[0]}×{dimensions[1]}）" if dimensions else ""
    return _error(
        name,
        f"的尺寸过大{actual}，超过上限 {MAX_PIXELS // 10_000} 万像素，请缩小图片后再上传。",
        "too_large",
    )


def _size(n):
    if n < MB // 10:
        return f"{n} 字节"
    return f"{n / MB:.1f}".rstrip("0").rstrip(".") + " MB"
