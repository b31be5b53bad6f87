"""The printable 督办单: a .docx filled from a Word template the bureau can replace
(settings.ESCALATION_NOTICE_TEMPLATE; ours, escalation/docx/notice.docx, is written by
scripts/make_notice_template.py), and a PDF of it where LibreOffice is installed.

The template is Jinja inside Word XML (docxtpl). What people typed (facts, requirements,
agency names) is escaped on the way in (autoescape), so `<`, `&` or `{{` in a notice print
as written and cannot break the document; the template itself runs in Jinja's sandbox,
since whoever swaps the file is a bureau's office, not a developer. Each line of the facts
and the requirements becomes its own paragraph (docxtpl's "\\a"), so every one keeps the
template's first-line indent the way an official document's paragraphs do.

The variables a template may use are notice_context's keys.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from core import documents, programs
from core.spreadsheets import clean_text
from escalation.choices import LEVEL_MEANING, Level

DEFAULT_TEMPLATE = Path(__file__).resolve().parent / "docx" / "notice.docx"
# A notice prints on a page or two; longer text is cut with "…" rather than run on for pages.
TEXT_MAX = 20000
# Seconds LibreOffice may take to start and convert one notice.
PDF_TIME_LIMIT = 60
CONTENT_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}
# What a file name cannot hold on Windows, macOS or in a Content-Disposition header.
_UNSAFE_IN_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')
_LINE_BREAKS = re.compile(r"\r\n|\r|\n")


class NoticeTemplateError(Exception):
    """The notice template is missing, not a .docx, or its Jinja does not run; ``str(exc)``
    is a message for the user."""


class PdfUnavailable(Exception):
    """LibreOffice could not make the PDF (failed, timed out); ``str(exc)`` is a message for
    the user, who can still print the .docx."""


def cn_date(day: datetime.date) -> str:
    return _("%(year)d年%(month)d月%(day)d日") % {"year": day.year, "month": day.month, "day": day.day}


def _line(value) -> str:
    """One line of text an Office file can hold: line breaks and tabs become spaces."""
    return " ".join(clean_text(value, TEXT_MAX).split())


def _paragraphs(value) -> str:
    """Multi-line text as docxtpl paragraphs ("\\a" between them): each line trimmed (also of
    the full-width spaces people indent with, as the template indents), blank lines dropped."""
    lines = (line.strip() for line in _LINE_BREAKS.split(clean_text(value, TEXT_MAX)))
    return "\a".join(line.replace("\t", " ") for line in lines if line)


def notice_context(notice, copied: Iterable | None = None) -> dict:
    """The template's variables: text, the two flags, dates written out ("2026年6月30日").

    office, number, level ("红色督办"), meaning ("严重"), addressee, task ("1. 任务摘要"),
    plan (its title), facts, requirements, wants_evidence, wants_plan (booleans),
    reply_due, issued_on, issuer (the signer's name, else the office), copied_to (names
    joined by "、", empty when none).

    `copied`: the copied agencies, for a notice not saved yet (or already fetched);
    otherwise they are read from a saved notice."""
    office = _line(settings.ESCALATION_ISSUING_OFFICE)
    if copied is None:
        copied = notice.copied_to.all() if notice.pk else ()
    level = Level(notice.level)
    task = notice.task
    issuer = notice.issued_by.display_name if notice.issued_by_id else office
    return {
        "office": office,
        "number": _line(notice.number),
        "level": str(level.label),
        "meaning": str(LEVEL_MEANING[level]),
        "addressee": _line(notice.agency),
        "task": _line(task),
        "plan": _line(task.plan.title),
        "facts": _paragraphs(notice.facts),
        "requirements": _paragraphs(notice.requirements),
        "wants_evidence": bool(notice.wants_evidence),
        "wants_plan": bool(notice.wants_plan),
        "reply_due": cn_date(notice.reply_due_on),
        "issued_on": cn_date(notice.issued_on),
        "issuer": _line(issuer),
        "copied_to": "、".join(_line(agency) for agency in copied),
    }


def template_path() -> Path:
    """settings.ESCALATION_NOTICE_TEMPLATE (relative: to the project's folder), else ours."""
    return documents.template_file(settings.ESCALATION_NOTICE_TEMPLATE, DEFAULT_TEMPLATE)


def render_docx(notice, copied: Iterable | None = None) -> bytes:
    """The notice as a .docx, from template_path(); NoticeTemplateError when that will not do."""
    path = template_path()
    try:
        return documents.render_docx(path, notice_context(notice, copied))
    except documents.TemplateFailed as failed:
        if failed.reason == documents.MISSING:
            message = _("找不到督办单模板文件：%(path)s，请检查 ESCALATION_NOTICE_TEMPLATE 设置") % {"path": path}
        elif failed.reason == documents.NOT_DOCX:
            message = _("督办单模板不是有效的 Word 文档（.docx）：%(path)s") % {"path": path}
        else:
            message = _("督办单模板中的填充标记有误（%(error)s），请修改模板：%(path)s") % {
                "error": failed.error,
                "path": path,
            }
        raise NoticeTemplateError(message) from failed


def pdf_available() -> bool:
    """Whether render_pdf can make a PDF here (LibreOffice on the PATH)."""
    return programs.office_available()


def render_pdf(notice, copied: Iterable | None = None) -> bytes | None:
    """The notice's .docx converted to PDF by LibreOffice; None where LibreOffice is not
    installed, PdfUnavailable when the conversion fails or runs past PDF_TIME_LIMIT."""
    if not programs.office_available():
        return None
    try:
        return programs.office_to_pdf(render_docx(notice, copied), "notice.docx", PDF_TIME_LIMIT)
    except programs.ProgramFailed as failed:
        raise PdfUnavailable(_failure_message(failed.reason)) from failed


def filename(notice, ext: str) -> str:
    """ "督办单-督办〔2026〕12号.docx", without characters a file name cannot hold."""
    stem = _UNSAFE_IN_NAME.sub("_", f"{_('督办单')}-{notice.number}").strip(" .")[:150]
    return f"{stem}.{ext}"


def _failure_message(reason: str) -> str:
    if reason == programs.START:
        return _("无法启动 LibreOffice，请下载 Word 版（.docx）打印")
    if reason == programs.TIMEOUT:
        return _("生成督办单 PDF 超时（超过 %(seconds)d 秒），请下载 Word 版（.docx）打印") % {
            "seconds": PDF_TIME_LIMIT
        }
    return _("LibreOffice 未能生成督办单 PDF，请下载 Word 版（.docx）打印")
