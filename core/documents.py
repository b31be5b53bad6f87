"""Word documents filled from a docxtpl template the bureau may replace with its own: the
printable 督办单 (escalation/printing.py) and the 通报 (dashboards/bulletins.py). Here only
where the template is and how it is rendered; each caller says what a failure means."""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

from django.conf import settings
from docx.opc.exceptions import PackageNotFoundError
from docxtpl import DocxTemplate
from jinja2 import TemplateError
from jinja2.sandbox import SandboxedEnvironment

# Why a template would not do: not there, not a Word package, or its Jinja does not run.
MISSING, NOT_DOCX, MARKUP = "missing", "not_docx", "markup"
# A rendered document is kept in memory up to this size, then spooled to a temporary file.
SPOOL_BYTES = 8 * 1024 * 1024


class TemplateFailed(Exception):
    """`reason`: MISSING, NOT_DOCX or MARKUP; `path` the template; `error` Jinja's message."""

    def __init__(self, reason: str, path: Path, error: str = ""):
        super().__init__(reason)
        self.reason, self.path, self.error = reason, path, error


def template_file(configured: str, default: Path) -> Path:
    """The template a setting names (relative: to the project's folder), else our own."""
    if not configured:
        return default
    path = Path(configured).expanduser()
    return path if path.is_absolute() else Path(settings.BASE_DIR) / path


def render_docx(path: Path, context: dict) -> bytes:
    """The template at `path` filled with `context`, as .docx bytes. What people typed is
    escaped on the way in, and the template runs in Jinja's sandbox (a bureau's own
    template is trusted no further than that). TemplateFailed when it will not do."""
    if not path.is_file():
        raise TemplateFailed(MISSING, path)
    try:
        document = DocxTemplate(path)
        document.render(context, jinja_env=SandboxedEnvironment(autoescape=True), autoescape=True)
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError) as exc:
        raise TemplateFailed(NOT_DOCX, path) from exc
    except TemplateError as exc:
        raise TemplateFailed(MARKUP, path, str(exc)) from exc
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as out:
        document.save(out)
        out.seek(0)
        return out.read()
