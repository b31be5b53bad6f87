"""Images (PNG, JPEG, GIF, WebP) read to their end: nothing may hide after the image or in
its text chunks (image/HTML polyglots), and no canvas is big enough to exhaust memory when
decoded. Only headers are read until the image is known to be sane."""

import io
from typing import Literal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image

from core.uploads.errors import FileRefused
from core.uploads.sniff import MARKUP

# Far above any photo or scan (a 48-megapixel phone photo is 8000×6000), far below what it
# takes to exhaust memory when decoded (50 M pixels × 4 bytes = 200 MB).
MAX_PIXELS = 50_000_000
LABELS = {
    "png": gettext_lazy("PNG 图片"),
    "jpeg": gettext_lazy("JPEG 图片"),
    "gif": gettext_lazy("GIF 图片"),
    "webp": gettext_lazy("WebP 图片"),
}
_PIL_FORMATS = {"png": ("PNG",), "jpeg": ("JPEG", "MPO"), "gif": ("GIF",), "webp": ("WEBP",)}
# Bytes tolerated after the end of the image: some JPEG/GIF writers pad a little (zeros, a
# newline); PNG and WebP state their own length, so nothing may follow.
_TRAILING_SLACK = {"png": 0, "webp": 0, "jpeg": 16, "gif": 16}


class _Truncated(Exception):
    pass


class _Malformed(Exception):
    pass


def invalid(kind: str) -> FileRefused:
    return FileRefused(_("不是有效的%(what)s，请重新导出后上传。") % {"what": LABELS[kind]}, about_file=True)


def _too_many_pixels(dimensions) -> FileRefused:
    actual = f"（{dimensions[0]}×{dimensions[1]}）" if dimensions else ""
    return FileRefused(
        _("的尺寸过大%(actual)s，超过上限 %(limit)d 万像素，请缩小图片后再上传。")
        % {"actual": actual, "limit": MAX_PIXELS // 10_000},
        "too_large",
        about_file=True,
    )


def check_image(data: bytes, kind: str) -> None:
    """`data` is an image of `kind` (png, jpeg, gif, webp) with nothing else in it, or
    FileRefused says what is wrong."""
    what = LABELS[kind]
    # Opening reads only the header: nothing is decoded, so a huge canvas costs nothing yet.
    # Pillow's own bomb limit (Image.MAX_IMAGE_PIXELS) is a process-wide global; ours is here.
    width, height = _pillow(data, kind, lambda image: image.size)
    if width * height > MAX_PIXELS:
        raise _too_many_pixels((width, height))
    try:
        end, texts = _IMAGE_END[kind](data)
    except _Truncated:
        raise FileRefused(
            _("不完整（%(what)s数据提前结束），可能上传中断或文件已损坏，请重新上传。") % {"what": what},
            about_file=True,
        ) from None
    except _Malformed:
        raise invalid(kind) from None
    trailing = data[end:]
    if len(trailing) > _TRAILING_SLACK[kind] or b"<" in trailing:
        content = _("网页代码") if MARKUP.search(trailing) else _("%(n)d 字节的其他数据") % {"n": len(trailing)}
        hint = _("如为手机拍摄的“动态照片”，请关闭动态照片或另存为普通照片后再上传。") if kind == "jpeg" else ""
        raise FileRefused(
            _("在%(what)s数据结束之后还附带了%(content)s（可能是伪装或隐藏的文件），已拒绝。%(hint)s")
            % {"what": what, "content": content, "hint": hint},
            "unsafe",
            about_file=True,
        )
    for chunk in (data[:1024], data[-1024:], *texts):
        markup = MARKUP.search(chunk)
        if markup:
            raise FileRefused(
                _("中含有网页代码（%(tag)s），正常的图片不会包含，疑似伪装文件，已拒绝。")
                % {"tag": markup.group().decode()},
                "unsafe",
                about_file=True,
            )
    _pillow(data, kind, lambda image: image.verify())  # PNG: every chunk's CRC


def _pillow(data, kind, use):
    """``use(image)`` on the image Pillow opens from ``data``, its failures turned into ours."""
    try:
        with Image.open(io.BytesIO(data), formats=_PIL_FORMATS[kind]) as image:
            if image.format not in _PIL_FORMATS[kind]:
                raise invalid(kind)
            return use(image)
    except FileRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(None) from None
    except Exception:
        raise invalid(kind) from None


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
    """Offset just past the final EOI, following the images an MPF index lists after the
    first (phones store Ultra HDR gain maps and depth maps that way), and the text segments."""
    end, texts, mpf = _jpeg_walk(data, 0)
    if mpf:
        for offset in _mpf_offsets(*mpf):
            if offset < end or offset - end > _TRAILING_SLACK["jpeg"] or data[offset : offset + 2] != b"\xff\xd8":
                break  # not the next image in line: what follows is judged as trailing bytes
            end, more, _mpf = _jpeg_walk(data, offset)
            texts += more
    return end, texts


def _jpeg_walk(data, start):
    """Offset just past the EOI of the JPEG at ``start``, its COM/XMP segments, and its MPF
    index as (absolute offset of the index's TIFF header, the index bytes) or None."""
    size, pos, mpf = len(data), start + 2, None
    texts: list[bytes] = []
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
    byte_orders: dict[bytes, Literal["little", "big"]] = {b"II*\x00": "little", b"MM\x00*": "big"}
    order = byte_orders.get(index[:4])
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
    size = len(data)
    texts: list[bytes] = []
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
            pos, _body = _sub_blocks(data, pos)
        else:
            raise _Malformed()


def _color_table(flags):
    return 3 << ((flags & 7) + 1) if flags & 0x80 else 0


def _sub_blocks(data, pos, keep=False):
    kept: list[bytes] = []
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
