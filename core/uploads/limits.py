"""How big an upload and what is inside it may be."""

import dataclasses

from django.utils.translation import gettext as _

from core.uploads.errors import FileRefused

MB = 1024 * 1024
DEFAULT_MAX_BYTES = 20 * MB


@dataclasses.dataclass(frozen=True)
class Limits:
    """Limits for the pre-reader checks; tests make them small to keep bombs small on disk."""

    max_entries: int = 1000  # a .docx holds ~15-40 parts, a big .xlsx a few hundred
    max_uncompressed: int = 100 * MB  # all entries (or all PDF Flate streams) together
    max_ratio: float = 150.0  # per entry; real XML parts compress 5-30:1, zeros 1000:1
    max_total_ratio: float = 100.0  # all entries together against the file size
    ratio_floor: int = 1 * MB  # entries smaller than this may compress as they like
    max_cells: int = 2_000_000  # cells of one spreadsheet's used area
    max_span: int = 64  # Word tables have at most 63 columns


DEFAULT_LIMITS = Limits()


def size_text(n: int) -> str:
    """A size as people read it: "1.2 MB", or bytes below a tenth of a megabyte."""
    if n < MB // 10:
        return _("%(n)d 字节") % {"n": n}
    return f"{n / MB:.1f}".rstrip("0").rstrip(".") + " MB"


def check_size(data: bytes, max_bytes: int | None = DEFAULT_MAX_BYTES, size: int | None = None) -> None:
    """Refuse an empty file and one over `max_bytes` (`size`: the file's real size when only
    part of it was read)."""
    size = len(data) if size is None else max(size, len(data))
    if not size:
        raise FileRefused(_("文件为空：没有任何内容，请检查上传的文件"), "empty")
    if max_bytes is not None and size > max_bytes:
        raise FileRefused(
            _("文件过大（%(size)s），超过上限（%(limit)s），请拆分或压缩后再导入")
            % {"size": size_text(size), "limit": size_text(max_bytes)},
            "too_large",
        )


def read_at_most(uploaded, limit: int) -> bytes:
    """The first `limit` bytes of an uploaded file (from its start), read a megabyte at a
    time: a file bigger than allowed is never read whole into memory. Ask for one byte more
    than the limit to tell "exactly the limit" from "too big"."""
    uploaded.seek(0)
    parts, left = [], limit
    while left > 0:
        part = uploaded.read(min(left, MB))
        if not part:
            break
        parts.append(part)
        left -= len(part)
    return b"".join(parts)
