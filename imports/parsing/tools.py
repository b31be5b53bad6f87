"""External programs the readers may use (LibreOffice, antiword, catdoc, pdftoppm, tesseract):
found with shutil.which, run in a private temporary directory with a time limit."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Sequence

from django.utils.translation import gettext as _

from .errors import ParseError

# Output a converter may write before it is stopped (a .doc of 20 MB is mostly text and images).
MAX_OUTPUT = 64 * 1024 * 1024


def which(*names: str) -> str | None:
    """The path of the first of ``names`` installed on this machine, or None."""
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    return None


class Workdir:
    """A private temporary directory for one conversion; removed with everything in it."""

    def __init__(self) -> None:
        self.path = tempfile.mkdtemp(prefix="plan-import-")

    def file(self, name: str, data: bytes | None = None) -> str:
        path = os.path.join(self.path, name)
        if data is not None:
            with open(path, "wb") as handle:
                handle.write(data)
        return path

    def __enter__(self) -> Workdir:
        return self

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def run(args: Sequence[str], timeout: float, workdir: Workdir, what: str) -> bytes:
    """The standard output of ``args`` run in ``workdir`` (also its HOME), or ParseError when it
    fails or runs past ``timeout`` seconds (then its whole process group is stopped)."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": workdir.path, "LANG": "C.UTF-8"}
    try:
        process = subprocess.Popen(
            list(args),
            cwd=workdir.path,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as exc:
        raise ParseError(_("无法启动%(what)s，请联系系统管理员") % {"what": what}) from exc
    try:
        out, _err = process.communicate(timeout=max(1.0, timeout))
    except subprocess.TimeoutExpired:
        _stop(process)
        raise ParseError(
            _("%(what)s处理超时（超过 %(seconds)d 秒），请另存为 .docx 或带文字的 PDF 后再导入")
            % {"what": what, "seconds": int(timeout)}
        ) from None
    if len(out) > MAX_OUTPUT:
        raise ParseError(_("%(what)s输出的内容过大，疑似恶意文件，已拒绝") % {"what": what})
    if process.returncode != 0:
        raise ParseError(_("%(what)s无法读取这个文件，文件可能已损坏") % {"what": what})
    return out


def _stop(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate()
