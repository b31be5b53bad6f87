"""Legacy Word (.doc) and WPS text (.wps): converted by LibreOffice when it is installed (tables,
numbering and paragraphs kept, as a .docx), else read as text by antiword or catdoc."""

from __future__ import annotations

import os
import time

from django.utils.translation import gettext as _

from .errors import ParseError
from .tools import Workdir, run, which

# Seconds a conversion may take; LibreOffice needs a few to start.
CONVERT_TIME_LIMIT = 120.0
LIBREOFFICE = ("soffice", "libreoffice")
TEXT_READERS = ("antiword", "catdoc")


def missing_message() -> str:
    return _(
        "无法读取旧版 Word/WPS 文档（.doc/.wps）：服务器未安装 LibreOffice，也没有 antiword 或 catdoc。"
        "请另存为 .docx 后再导入，或请系统管理员安装其中之一"
    )


def available() -> bool:
    return which(*LIBREOFFICE, *TEXT_READERS) is not None


def convert(data: bytes, time_limit: float = CONVERT_TIME_LIMIT) -> tuple[str, bytes | str]:
    """("docx", bytes of the converted document) or ("text", its text)."""
    office = which(*LIBREOFFICE)
    with Workdir() as work:
        source = work.file("plan.doc", data)
        if office:
            deadline = time.monotonic() + time_limit
            out_dir = work.file("out")
            os.mkdir(out_dir)
            run(
                [
                    office,
                    "--headless",
                    "--norestore",
                    "--nolockcheck",
                    "--nodefault",
                    "-env:UserInstallation=file://" + work.file("profile"),
                    "--convert-to",
                    "docx:MS Word 2007 XML",
                    "--outdir",
                    out_dir,
                    source,
                ],
                time_limit,
                work,
                "LibreOffice",
            )
            target = os.path.join(out_dir, "plan.docx")
            if not os.path.isfile(target):
                raise ParseError(_("LibreOffice 无法转换这个文件，文件可能已损坏"))
            if time.monotonic() > deadline:
                raise ParseError(_("LibreOffice 处理超时，请另存为 .docx 后再导入"))
            with open(target, "rb") as handle:
                return "docx", handle.read()
        antiword = which("antiword")
        if antiword:
            out = run([antiword, "-m", "UTF-8.txt", "-w", "0", source], time_limit, work, "antiword")
            return "text", out.decode("utf-8", "replace")
        catdoc = which("catdoc")
        if catdoc:
            out = run([catdoc, "-d", "utf-8", "-w", source], time_limit, work, "catdoc")
            return "text", out.decode("utf-8", "replace")
    raise ParseError(missing_message())
