"""OFD files (GB/T 33190, a zip of XML parts): the package checks of a .docx, and no encryption.

An OFD is opened through core.uploads.office.open_zip, so it gets the same refusals as a
Word file: entry count, uncompressed size and ratios (zip bombs), climbing entry names,
encrypted entries and XML parts that declare a DOCTYPE or entities. On top of that it must
have its entry point OFD.xml, and no encryption description (Encryptions.xml, GM/T 0099):
encrypted parts read as noise.
"""

import zipfile

from django.utils.translation import gettext as _

from core.uploads.errors import FileRefused
from core.uploads.limits import DEFAULT_LIMITS, Limits
from core.uploads.office import open_zip

ENTRY_POINT = "OFD.xml"


def is_ofd(names: set[str]) -> bool:
    return ENTRY_POINT in names or ENTRY_POINT.lower() in {name.lower() for name in names}


def open_ofd(data: bytes, limits: Limits = DEFAULT_LIMITS) -> zipfile.ZipFile:
    """The checked archive of an OFD file; FileRefused for anything suspicious."""
    archive = open_zip(data, limits)
    check_ofd(archive)
    return archive


def check_ofd(archive: zipfile.ZipFile) -> None:
    """The OFD-specific checks on an archive open_zip has already checked."""
    names = {name.replace("\\", "/") for name in archive.namelist()}
    if not is_ofd(names):
        raise FileRefused(_("文件已损坏：OFD 文件缺少入口文件 OFD.xml"))
    if any(name.rsplit("/", 1)[-1].lower() == "encryptions.xml" for name in names):
        raise FileRefused(_("OFD 文件已加密，无法读取，请提供未加密的文件"), "encrypted")
