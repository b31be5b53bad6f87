"""Checks on an uploaded file that run before any reader touches it.

Everything here refuses input with a ``ParseError`` carrying a Chinese message that names the
reason (文件为空 / 文件过大 / 压缩比异常 / 文件已加密 / 路径越界 / 无法识别…):

* size: empty files and files over ``max_bytes`` (``DEFAULT_MAX_BYTES``, 20 MB; the Django layer
  passes its setting through ``parse_bytes(..., max_bytes=…)``);
* zip packages (.docx/.xlsx): that it is a zip at all, entry count, total uncompressed size,
  per-entry and overall compression ratio (zip bombs, overlapping entries), entry names that are
  absolute or climb out with ``..``, encrypted entries, and XML parts that declare a DOCTYPE or
  entities (billion laughs, external entities). Sizes are the ones the central directory declares;
  that is enough because :mod:`zipfile`, which python-docx and openpyxl read through, never returns
  more than the declared ``file_size`` of an entry (and fails the CRC check when the data lies).
  The XML check parses each part's prolog with expat, stopping at the root element — a DOCTYPE
  can only stand before it — so it costs next to nothing even on big sheets;
* OLE compound files: a password-protected .docx/.xlsx is saved by Office as a compound file
  holding an ``EncryptedPackage`` stream; other compound files are the old .doc/.xls formats;
* PDF: Flate streams are inflated with a bounded decompressor to refuse PDF bombs before
  pdfminer inflates them in full.

HTML needs no check here: BeautifulSoup's "lxml" builder uses libxml2's HTML parser, which never
expands entities declared in a DOCTYPE (``&x;`` stays literal text), never loads external DTDs or
entities, and lxml parsers default to ``no_network=True`` (see test_safety.py for the check).
python-docx parses with ``resolve_entities=False`` and openpyxl through defusedxml when it is
installed; the DOCTYPE refusal below makes both independent of that.
"""

import contextlib
import dataclasses
import io
import os
import re
import zipfile
import zlib

from .errors import ParseError

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

# Reader failures that come from a library parsing hostile bytes (see ``reader_boundary``).
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _size(n):
    return "%.1f MB" % (n / MB) if n >= MB / 10 else "%d 字节" % n


def check_size(data, max_bytes=DEFAULT_MAX_BYTES, size=None):
    """Refuse an empty file and one over ``max_bytes`` (``size``: the file's real size when only
    part of it was read)."""
    size = len(data) if size is None else max(size, len(data))
    if not size:
        raise ParseError("文件为空：没有任何内容，请检查上传的文件")
    if max_bytes is not None and size > max_bytes:
        raise ParseError("文件过大（%s），超过上限（%s），请拆分或压缩后再导入" % (_size(size), _size(max_bytes)))


# ---------------------------------------------------------------------------------------------
# zip packages


def _bad_name(name):
    """True for entry names that are absolute or climb out of the archive."""
    if not name or "\x00" in name:
        return True
    unified = name.replace("\\", "/")
    if unified.startswith("/") or re.match(r"^[A-Za-z]:", unified):
        return True
    return any(part == ".." for part in unified.split("/"))


def open_zip(data, limits=DEFAULT_LIMITS):
    """The checked ``ZipFile`` for a .docx/.xlsx; raises ParseError for anything suspicious."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise ParseError("文件已损坏：压缩包结构无法读取（Word/Excel 文件本质上是压缩包）") from exc
    except NotImplementedError as exc:
        raise ParseError("文件已损坏：使用了不支持的压缩方式") from exc
    if len(infos) > limits.max_entries:
        raise ParseError(
            "压缩包内文件过多（%d 个，上限 %d 个），疑似恶意文件，已拒绝" % (len(infos), limits.max_entries)
        )
    total = compressed = 0
    seen = set()
    for info in infos:
        if _bad_name(info.filename) or _bad_name(info.orig_filename):
            raise ParseError(
                "压缩包内的文件路径异常（“%s”为绝对路径或越出压缩包），疑似恶意文件，已拒绝" % info.filename[:80]
            )
        if info.filename in seen:
            raise ParseError("压缩包内有重名文件（“%s”），文件已损坏或被篡改" % info.filename[:80])
        seen.add(info.filename)
        if info.flag_bits & 0x1 or info.flag_bits & 0x40:
            raise ParseError("文件已加密（压缩包内容受密码保护），请取消密码后再导入")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ParseError("文件已损坏：压缩包使用了 Word/Excel 不会使用的压缩方式")
        size, packed = info.file_size, info.compress_size
        total += size
        compressed += packed
        if size > limits.max_uncompressed or total > limits.max_uncompressed:
            raise ParseError("文件解压后过大（超过 %s），疑似压缩炸弹，已拒绝" % _size(limits.max_uncompressed))
        if size >= limits.ratio_floor and size > packed * limits.max_ratio:
            raise ParseError(
                "压缩比异常（“%s”解压后 %s，压缩比约 %d:1），疑似压缩炸弹，已拒绝"
                % (info.filename[:80], _size(size), size // max(1, packed))
            )
    if compressed > len(data):
        raise ParseError("压缩包结构异常（条目相互重叠），疑似压缩炸弹，已拒绝")
    if total >= limits.ratio_floor and total > len(data) * limits.max_total_ratio:
        raise ParseError(
            "压缩比异常（整体解压后 %s，压缩比约 %d:1），疑似压缩炸弹，已拒绝"
            % (_size(total), total // max(1, len(data)))
        )
    check_xml_parts(archive)
    return archive


class _Doctype(Exception):
    pass


class _RootReached(Exception):
    pass


_DECLS = [
    d.encode(enc)
    for d in ("<!DOCTYPE", "<!ENTITY")
    for enc in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
]


def _prolog_declares_dtd(stream):
    """True when the XML read from ``stream`` has a DOCTYPE or an entity declaration before its root.

    Reads only up to the root element's start tag; for parts expat cannot read at all (unknown
    encoding, broken bytes) it falls back to looking for the declarations in the raw bytes.
    """
    from xml.parsers import expat

    parser = expat.ParserCreate()

    def doctype(*args):
        raise _Doctype()

    def root(*args):
        raise _RootReached()

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = doctype
    parser.StartElementHandler = root
    seen = []
    while True:
        chunk = stream.read(64 * 1024)
        seen.append(chunk)
        try:
            parser.Parse(chunk, not chunk)
        except _Doctype:
            return True
        except _RootReached:
            return False
        except (expat.ExpatError, LookupError, ValueError):  # broken XML, unknown encoding
            break
        if not chunk:
            return False
    rest = b"".join(seen) + stream.read()
    return any(decl in rest or decl.lower() in rest for decl in _DECLS)


def check_xml_parts(archive):
    """Refuse a package whose XML parts declare a DOCTYPE or entities (entity expansion, XXE)."""
    for info in archive.infolist():
        if info.is_dir():
            continue
        try:
            with archive.open(info) as stream:
                head = stream.read(512)
                probe = head.lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n")
                if not probe.startswith(b"<"):
                    continue  # images and other binary parts: no parser reads them as XML
                declares = _prolog_declares_dtd(_Chain(head, stream))
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError) as exc:
            raise ParseError("文件已损坏：压缩包中的“%s”无法解压" % info.filename[:80]) from exc
        except RuntimeError as exc:  # zipfile: "File is encrypted, password required"
            raise ParseError("文件已加密（压缩包内容受密码保护），请取消密码后再导入") from exc
        if declares:
            raise ParseError(
                "文件中的 XML 部件“%s”含有 DOCTYPE/实体声明（可被用于实体膨胀攻击），"
                "正常的 Word/Excel 文件不会包含，已拒绝" % info.filename[:80]
            )


class _Chain:
    """A read() over bytes already read followed by the rest of a stream."""

    def __init__(self, head, stream):
        self.head, self.stream = head, stream

    def read(self, n=-1):
        if self.head:
            out, self.head = self.head, b""
            return out
        return self.stream.read(n)


# ---------------------------------------------------------------------------------------------
# OLE compound files (.doc/.xls, and password-protected .docx/.xlsx)

CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def refuse_compound_file(data):
    if "EncryptedPackage".encode("utf-16-le") in data or "EncryptionInfo".encode("utf-16-le") in data:
        raise ParseError("文件已加密（Word/Excel 文件设置了打开密码），请取消密码、另存后再导入")
    raise ParseError("这是旧版 Office 格式（.doc/.xls），无法直接读取，请另存为 .docx 或 .xlsx 后再导入")


# ---------------------------------------------------------------------------------------------
# PDF

_STREAM = re.compile(rb"stream\r?\n")
_ZLIB_CMF = frozenset(b"\x08\x18\x28\x38\x48\x58\x68\x78")


class _Budget:
    def __init__(self, limit):
        self.limit, self.used = limit, 0

    def spend(self, n):
        self.used += n
        if self.used > self.limit:
            raise ParseError("PDF 文件解压后过大（超过 %s），疑似压缩炸弹，已拒绝" % _size(self.limit))


def _inflate_from(data, start, budget, depth):
    """Inflate the zlib stream at ``data[start:]`` within ``budget``; returns where it ended, or
    None when it is no zlib data. An inflated stream that is itself zlib data (a filter chain
    ``[/FlateDecode /FlateDecode]``) is inflated in turn, up to three levels."""
    inflater = zlib.decompressobj()
    offset = start
    keep = [] if depth < 3 else None
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


def check_pdf(data, limits=DEFAULT_LIMITS):
    """Refuse PDFs whose Flate streams inflate beyond the limits (a PDF bomb).

    Every ``stream`` keyword followed by zlib data is inflated with a bounded decompressor (never
    more than the remaining budget is produced), so the check stays linear and within
    ``max_uncompressed``. LZW and RunLength streams are not measured (see the module notes).
    """
    budget = _Budget(limits.max_uncompressed)
    pos = 0
    while True:
        m = _STREAM.search(data, pos)
        if not m:
            break
        pos = m.end()
        if data[pos : pos + 1] and data[pos] in _ZLIB_CMF:
            end = _inflate_from(data, pos, budget, 1)
            if end is not None:
                pos = max(pos, end)
    total = budget.used
    if total >= limits.ratio_floor and total > len(data) * limits.max_ratio:
        raise ParseError(
            "PDF 压缩比异常（解压后 %s，压缩比约 %d:1），疑似压缩炸弹，已拒绝"
            % (_size(total), total // max(1, len(data)))
        )


# ---------------------------------------------------------------------------------------------
# text

# Characters a plan is written in: Han (and its punctuation, full-width forms, kana/bopomofo),
# ASCII, Latin-1 punctuation, the pinyin vowels with tone marks, and the symbol blocks plans use
# (①, ■, ≥, ℃, Ⅱ, →, ☆). Junk decoded through a Latin code page is mostly none of these.
_PLAUSIBLE = re.compile(
    "[\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff\u3000-\u312f\uff00-\uffef"
    "\u2000-\u27bf\u0020-\u007e\u00a0-\u00bf\u00d7\u00f7\u00e0-\u00fc\u0101-\u01dc]"
)


def refuse_junk_text(text, data=b""):
    """Refuse decoded text that is mostly characters no plan is written in (binary junk)."""
    sample = re.sub(r"\s", "", text[:20000])
    if not sample and not data.strip():
        raise ParseError("文件中没有可识别的文字内容（文件只有空白）")
    if not sample:
        raise ParseError("无法识别文件内容：解码后没有任何文字（可能是二进制文件或扩展名错误）")
    plausible = len(_PLAUSIBLE.findall(sample))
    if plausible < len(sample) * 0.85:
        raise ParseError(
            "无法识别文件内容：看起来不是文本（可能是二进制文件或扩展名错误），"
            "请上传 txt、网页、Word、PDF 或 Excel 文件"
        )


# ---------------------------------------------------------------------------------------------
# the reader boundary


def _raised_in_package(exc):
    """True when the innermost frame of ``exc``'s traceback is code of this package."""
    tb = exc.__traceback__
    last = None
    while tb is not None:
        last = tb
        tb = tb.tb_next
    if last is None:
        return False
    filename = os.path.abspath(last.tb_frame.f_code.co_filename)
    return os.path.dirname(filename) == _PACKAGE_DIR


@contextlib.contextmanager
def reader_boundary(message):
    """Turn what a third-party reader raises on hostile bytes into ``ParseError(message)``.

    Exceptions raised by this package's own code pass through untouched: they are bugs to fix,
    not bad input, and the tests (and the property test) must see them.
    """
    try:
        yield
    except ParseError:
        raise
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except Exception as exc:  # zipfile, lxml, python-docx, openpyxl, pdfminer, bs4, codecs…
        if _raised_in_package(exc) and not isinstance(exc, (RecursionError, MemoryError)):
            raise
        raise ParseError("%s（%s）" % (message, type(exc).__name__)) from exc
