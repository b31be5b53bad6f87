"""External programs the readers may use (LibreOffice, antiword, catdoc, pdftoppm, tesseract):
run by core.programs (private directory, time limit, process group stopped), their
failures told as the parser's ParseError."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.translation import gettext as _

from core import programs
from core.programs import MAX_OUTPUT, which

from .errors import ParseError

__all__ = ["MAX_OUTPUT", "Workdir", "run", "which"]


class Workdir(programs.Workdir):
    """A private temporary directory for one conversion; removed with everything in it."""

    def __init__(self) -> None:
        super().__init__(prefix="plan-import-")


def run(args: Sequence[str], timeout: float, workdir: programs.Workdir, what: str) -> bytes:
    """The standard output of ``args`` run in ``workdir`` (also its HOME), or ParseError when it
    fails or runs past ``timeout`` seconds (then its whole process group is stopped)."""
    try:
        return programs.run(args, timeout, workdir)
    except programs.ProgramFailed as failed:
        messages = {
            programs.START: _("无法启动%(what)s，请联系系统管理员"),
            programs.TIMEOUT: _("%(what)s处理超时（超过 %(seconds)d 秒），请另存为 .docx 或带文字的 PDF 后再导入"),
            programs.TOO_BIG: _("%(what)s输出的内容过大，疑似恶意文件，已拒绝"),
            programs.EXIT: _("%(what)s无法读取这个文件，文件可能已损坏"),
        }
        raise ParseError(messages[failed.reason] % {"what": what, "seconds": int(timeout)}) from failed
