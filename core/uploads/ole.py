"""Legacy Word files (.doc, and WPS text saved as .wps): an OLE compound file checked before any
converter opens it.

olefile reads the header, the sector tables and the directory without trusting them (sector
chains that loop or point past the end are errors); on top of that the file may hold at most
``limits.max_entries`` directory entries, its streams may not declare more than
``limits.max_uncompressed`` bytes together, and the Word stream must be there and not
encrypted. A password-protected .docx saved by Office (an ``EncryptedPackage`` stream) is
refused as encrypted by core.uploads.office's own check.
"""

import io

import olefile
from django.utils.translation import gettext as _

from core.uploads.errors import FileRefused
from core.uploads.limits import DEFAULT_LIMITS, Limits, size_text
from core.uploads.office import refuse_compound_file
from core.uploads.sniff import CFB_MAGIC

# FIB (the Word stream's header): wIdent, and the flags word with fEncrypted / fObfuscated.
_WORD_IDENT = 0xA5EC
_FLAGS_AT = 0x0A
_ENCRYPTED = 0x0100
_OBFUSCATED = 0x8000


def _damaged() -> FileRefused:
    return FileRefused(_("文件已损坏：旧版 Word 文档（.doc/.wps）的结构无法读取"))


def check_word_binary(data: bytes, limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse a .doc/.wps that is damaged, encrypted, oversized inside, or not a Word document."""
    if not data.startswith(CFB_MAGIC):
        raise _damaged()
    try:  # an encrypted .docx/.xlsx is said so even when its compound file is damaged
        refuse_compound_file(data)
    except FileRefused as exc:
        if exc.code == "encrypted":
            raise
    try:
        ole = olefile.OleFileIO(io.BytesIO(data))
    except Exception as exc:  # olefile raises OSError, struct.error, IndexError… on hostile bytes
        raise _damaged() from exc
    with ole:
        entries = [entry for entry in ole.direntries if entry is not None]
        if len(entries) > limits.max_entries:
            raise FileRefused(
                _("文档内部条目过多（%(n)d 个，上限 %(limit)d 个），疑似恶意文件，已拒绝")
                % {"n": len(entries), "limit": limits.max_entries},
                "unsafe",
            )
        declared = sum(entry.size for entry in entries if entry.entry_type == olefile.STGTY_STREAM)
        if declared > limits.max_uncompressed:
            raise FileRefused(
                _("文档内部声明的数据过大（%(size)s），疑似恶意文件，已拒绝") % {"size": size_text(declared)},
                "unsafe",
            )
        names = {"/".join(path) for path in ole.listdir(streams=True, storages=False)}
        if "EncryptedPackage" in names or "EncryptionInfo" in names:
            raise FileRefused(_("文件已加密（Word/Excel 文件设置了打开密码），请取消密码、另存后再导入"), "encrypted")
        if "WordDocument" not in names:
            if {"Workbook", "Book"} & names:
                raise FileRefused(_("这是旧版 Excel 文件（.xls/.et），无法直接读取，请另存为 .xlsx 后再导入"))
            raise FileRefused(_("无法识别的文件格式：这个文件不是 Word 文档（.doc/.wps）"))
        try:
            with ole.openstream("WordDocument") as stream:
                fib = stream.read(_FLAGS_AT + 2)
        except Exception as exc:  # a sector chain that breaks off or points past the end
            raise _damaged() from exc
    if len(fib) < _FLAGS_AT + 2 or int.from_bytes(fib[:2], "little") != _WORD_IDENT:
        raise _damaged()
    flags = int.from_bytes(fib[_FLAGS_AT : _FLAGS_AT + 2], "little")
    if flags & (_ENCRYPTED | _OBFUSCATED):
        raise FileRefused(_("文件已加密（Word 文档设置了打开密码），请取消密码、另存后再导入"), "encrypted")
