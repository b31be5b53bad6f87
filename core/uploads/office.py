"""Office files: zip packages (.docx/.xlsx/.pptx) and OLE compound files (.doc/.xls).

A package is checked before python-docx or openpyxl opens it: that it is a zip at all,
entry count, total uncompressed size, per-entry and overall compression ratio (zip bombs,
overlapping entries), entry names that are absolute or climb out with ``..``, encrypted
entries, and XML parts that declare a DOCTYPE or entities (billion laughs, external
entities). Sizes are the ones the central directory declares; that is enough because
:mod:`zipfile`, which python-docx and openpyxl read through, never returns more than the
declared ``file_size`` of an entry (and fails the CRC check when the data lies). The XML
check parses each part's prolog with expat, stopping at the root element — a DOCTYPE can
only stand before it — so it costs next to nothing even on big sheets.

A password-protected .docx/.xlsx is saved by Office as a compound file holding an
``EncryptedPackage`` stream; other compound files are the old .doc/.xls formats.
"""

import io
import re
import zipfile
import zlib
from xml.parsers import expat

from django.utils.translation import gettext as _

from core.uploads.active import check_active_content
from core.uploads.errors import FileRefused, KindMismatch
from core.uploads.limits import DEFAULT_LIMITS, Limits, size_text
from core.uploads.sniff import MARKUP

# The part that makes a package a Word document, a workbook or a presentation.
MAIN_PARTS = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml", "pptx": "ppt/presentation.xml"}


def _bad_name(name: str) -> bool:
    """True for entry names that are absolute or climb out of the archive."""
    if not name or "\x00" in name:
        return True
    unified = name.replace("\\", "/")
    if unified.startswith("/") or re.match(r"^[A-Za-z]:", unified):
        return True
    return any(part == ".." for part in unified.split("/"))


def _unsafe(message: str) -> FileRefused:
    return FileRefused(message, "unsafe")


def open_zip(data: bytes, limits: Limits = DEFAULT_LIMITS) -> zipfile.ZipFile:
    """The checked ``ZipFile`` of a .docx/.xlsx; FileRefused for anything suspicious."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise FileRefused(_("文件已损坏：压缩包结构无法读取（Word/Excel 文件本质上是压缩包）")) from exc
    except NotImplementedError as exc:
        raise FileRefused(_("文件已损坏：使用了不支持的压缩方式")) from exc
    if len(infos) > limits.max_entries:
        raise _unsafe(
            _("压缩包内文件过多（%(n)d 个，上限 %(limit)d 个），疑似恶意文件，已拒绝")
            % {"n": len(infos), "limit": limits.max_entries}
        )
    total = compressed = 0
    seen = set()
    for info in infos:
        entry = info.filename[:80]
        if _bad_name(info.filename) or _bad_name(info.orig_filename):
            raise _unsafe(
                _("压缩包内的文件路径异常（“%(entry)s”为绝对路径或越出压缩包），疑似恶意文件，已拒绝")
                % {"entry": entry}
            )
        if info.filename in seen:
            raise FileRefused(_("压缩包内有重名文件（“%(entry)s”），文件已损坏或被篡改") % {"entry": entry})
        seen.add(info.filename)
        if info.flag_bits & 0x1 or info.flag_bits & 0x40:
            raise FileRefused(_("文件已加密（压缩包内容受密码保护），请取消密码后再导入"), "encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise FileRefused(_("文件已损坏：压缩包使用了 Word/Excel 不会使用的压缩方式"))
        size, packed = info.file_size, info.compress_size
        total += size
        compressed += packed
        if size > limits.max_uncompressed or total > limits.max_uncompressed:
            raise _unsafe(
                _("文件解压后过大（超过 %(limit)s），疑似压缩炸弹，已拒绝")
                % {"limit": size_text(limits.max_uncompressed)}
            )
        if size >= limits.ratio_floor and size > packed * limits.max_ratio:
            raise _unsafe(
                _("压缩比异常（“%(entry)s”解压后 %(size)s，压缩比约 %(ratio)d:1），疑似压缩炸弹，已拒绝")
                % {"entry": entry, "size": size_text(size), "ratio": size // max(1, packed)}
            )
    if compressed > len(data):
        raise _unsafe(_("压缩包结构异常（条目相互重叠），疑似压缩炸弹，已拒绝"))
    if total >= limits.ratio_floor and total > len(data) * limits.max_total_ratio:
        raise _unsafe(
            _("压缩比异常（整体解压后 %(size)s，压缩比约 %(ratio)d:1），疑似压缩炸弹，已拒绝")
            % {"size": size_text(total), "ratio": total // max(1, len(data))}
        )
    check_xml_parts(archive)
    return archive


class _Doctype(Exception):
    pass


class _RootReached(Exception):
    pass


_DECLS = [
    declaration.encode(encoding)
    for declaration in ("<!DOCTYPE", "<!ENTITY")
    for encoding in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
]


def prolog_declares_dtd(stream) -> bool:
    """True when the XML read from `stream` has a DOCTYPE or an entity declaration before
    its root. Reads only up to the root element's start tag; for parts expat cannot read at
    all (unknown encoding, broken bytes) it looks for the declarations in the raw bytes."""
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


class _Chain:
    """A read() over bytes already read followed by the rest of a stream."""

    def __init__(self, head, stream):
        self.head, self.stream = head, stream

    def read(self, n=-1):
        if self.head:
            out, self.head = self.head, b""
            return out
        return self.stream.read(n)


def check_xml_parts(archive: zipfile.ZipFile) -> None:
    """Refuse a package whose XML parts declare a DOCTYPE or entities (entity expansion, XXE)."""
    for info in archive.infolist():
        if info.is_dir():
            continue
        entry = info.filename[:80]
        try:
            with archive.open(info) as stream:
                head = stream.read(512)
                probe = head.lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n")
                if not probe.startswith(b"<"):
                    continue  # images and other binary parts: no parser reads them as XML
                declares = prolog_declares_dtd(_Chain(head, stream))
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError) as exc:
            raise FileRefused(_("文件已损坏：压缩包中的“%(entry)s”无法解压") % {"entry": entry}) from exc
        except RuntimeError as exc:  # zipfile: "File is encrypted, password required"
            raise FileRefused(_("文件已加密（压缩包内容受密码保护），请取消密码后再导入"), "encrypted") from exc
        if declares:
            raise _unsafe(
                _(
                    "文件中的 XML 部件“%(entry)s”含有 DOCTYPE/实体声明（可被用于实体膨胀攻击），"
                    "正常的 Word/Excel 文件不会包含，已拒绝"
                )
                % {"entry": entry}
            )


def refuse_compound_file(data: bytes) -> None:
    """An OLE compound file is never accepted: say whether it is an encrypted Office file
    or an old .doc/.xls."""
    if "EncryptedPackage".encode("utf-16-le") in data or "EncryptionInfo".encode("utf-16-le") in data:
        raise FileRefused(_("文件已加密（Word/Excel 文件设置了打开密码），请取消密码、另存后再导入"), "encrypted")
    raise FileRefused(_("这是旧版 Office 格式（.doc/.xls），无法直接读取，请另存为 .docx 或 .xlsx 后再导入"))


def zip_trailer(data: bytes) -> bool:
    """True when bytes follow the archive's end record, or its comment holds markup: zipfile
    reads such a file all the same, which is how zip/HTML polyglots pass for a .docx."""
    end_record = data.rfind(b"PK\x05\x06")  # zipfile too takes the last one
    comment = data[end_record + 22 :]
    declared = int.from_bytes(data[end_record + 20 : end_record + 22], "little")
    return len(comment) != declared or bool(MARKUP.search(comment))


def package_kind(parts: set[str]) -> str | None:
    """docx, xlsx or pptx by the main part a package holds (part names in lower case)."""
    for kind, part in MAIN_PARTS.items():
        if part in parts:
            return kind
    return None


def check_package(data: bytes, kind: str, label: str, extension: str, limits: Limits = DEFAULT_LIMITS) -> None:
    """A .docx/.xlsx to keep as it is (evidence): safe to open (open_zip), nothing after its
    end, no macros, the package it says it is, and no active content (core.uploads.active).
    `label` and `extension` name the kind in messages ("Word 文档", ".docx"). A package of
    another Office kind raises KindMismatch."""
    with open_zip(data, limits) as archive:
        # OPC part names are case-insensitive.
        parts = {entry.lower() for entry in archive.namelist()}
        _check_package_parts(data, parts, kind, label, extension)
        check_active_content(archive, kind, label, extension)


def _check_package_parts(data: bytes, parts: set[str], kind: str, label: str, extension: str) -> None:
    if zip_trailer(data):
        raise FileRefused(
            _("在压缩包结尾之后还附带了其他数据（可能是伪装或隐藏的文件），已拒绝。"), "unsafe", about_file=True
        )
    if any(part.rsplit("/", 1)[-1] == "vbaproject.bin" for part in parts):
        raise FileRefused(
            _(
                "含有宏（vbaProject.bin），宏可执行任意代码，不予接受；请另存为不含宏的%(label)s（%(extension)s）后再上传。"
            )
            % {"label": label, "extension": extension},
            "unsafe",
            about_file=True,
        )
    if "[content_types].xml" not in parts:
        raise FileRefused(
            _("缺少 Office 文件必需的 [Content_Types].xml，不是有效的%(label)s，请重新另存后上传。") % {"label": label},
            about_file=True,
        )
    if MAIN_PARTS[kind] not in parts:
        other = package_kind(parts)
        if other is not None:
            raise KindMismatch(other)
        raise FileRefused(
            _("缺少%(label)s的主体部分（%(part)s），文件已损坏或不是%(label)s，请重新另存后上传。")
            % {"label": label, "part": MAIN_PARTS[kind]},
            about_file=True,
        )
