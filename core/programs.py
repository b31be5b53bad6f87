"""External programs (LibreOffice, antiword, catdoc, pdftoppm, tesseract): found with
shutil.which, run in a private temporary directory (also their HOME) with a time limit,
their whole process group stopped when it runs past it. The callers — the plan parser's
readers (imports/parsing/tools.py), the printable notice (escalation/printing.py) and the
bulletin (dashboards/bulletins.py) — say what a failure means to their users; here it is
only ProgramFailed and its reason."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Sequence

# Output a program may write before it is refused (a .doc of 20 MB is mostly text and images).
MAX_OUTPUT = 64 * 1024 * 1024

START, TIMEOUT, TOO_BIG, EXIT = "start", "timeout", "too_big", "exit"


class ProgramFailed(Exception):
    """`reason`: START (could not be started), TIMEOUT (stopped at the time limit),
    TOO_BIG (wrote more than allowed) or EXIT (ended with an error)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def which(*names: str) -> str | None:
    """The path of the first of ``names`` installed on this machine, or None."""
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    return None


class Workdir:
    """A private temporary directory for one run; removed with everything in it."""

    def __init__(self, prefix: str = "program-") -> None:
        self.path = tempfile.mkdtemp(prefix=prefix)

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


def run(args: Sequence[str], timeout: float, workdir: Workdir, max_output: int = MAX_OUTPUT) -> bytes:
    """The standard output of ``args`` run in ``workdir``; ProgramFailed when it cannot
    start, fails, writes too much or runs past ``timeout`` seconds."""
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
        raise ProgramFailed(START) from exc
    try:
        out, _err = process.communicate(timeout=max(1.0, timeout))
    except subprocess.TimeoutExpired:
        _stop(process)
        raise ProgramFailed(TIMEOUT) from None
    if len(out) > max_output:
        raise ProgramFailed(TOO_BIG)
    if process.returncode != 0:
        raise ProgramFailed(EXIT)
    return out


def _stop(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate()


# --- Office documents to PDF (the printable notice, the bulletin) --------------------------

LIBREOFFICE = ("soffice", "libreoffice")
# LibreOffice ran but left no PDF behind (a document it could not read).
NO_OUTPUT = "no_output"


def office_available() -> bool:
    """Whether office_to_pdf can make a PDF here (LibreOffice on the PATH)."""
    return which(*LIBREOFFICE) is not None


def office_to_pdf(data: bytes, name: str, timeout: float) -> bytes | None:
    """The office document ``data`` (named ``name``, e.g. "notice.docx") as a PDF; None where
    LibreOffice is not installed, ProgramFailed (NO_OUTPUT among the reasons) when it fails.

    Each call has its own folder and LibreOffice profile, so conversions at once do not
    wait for each other's profile lock or see each other's files."""
    office = which(*LIBREOFFICE)
    if office is None:
        return None
    with Workdir(prefix="office-pdf-") as work:
        source = work.file(name, data)
        out_dir = os.path.join(work.path, "out")
        os.mkdir(out_dir)
        profile = "file://" + os.path.join(work.path, "profile")
        args = [office, "--headless", "--norestore", "--nolockcheck", "--nodefault"]
        args += ["-env:UserInstallation=" + profile, "--convert-to", "pdf", "--outdir", out_dir, source]
        run(args, timeout, work)
        target = os.path.join(out_dir, os.path.splitext(name)[0] + ".pdf")
        pdf = b""
        if os.path.isfile(target):
            with open(target, "rb") as handle:
                pdf = handle.read()
    if not pdf.startswith(b"%PDF"):
        raise ProgramFailed(NO_OUTPUT)
    return pdf
