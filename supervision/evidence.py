"""Evidence files on a progress report: which kinds are accepted, judged by content, not by
name, and how many may come with one report. The one rule the task page's form and the
API's serializer both call (check_evidence_files); the file checks themselves are
core.uploads, by format family."""

import dataclasses
import os
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from core.uploads import DEFAULT_MAX_BYTES, FileRefused, read_at_most, size_text
from core.uploads.errors import KindMismatch
from core.uploads.images import check_image
from core.uploads.images import invalid as invalid_image
from core.uploads.office import check_package, refuse_compound_file
from core.uploads.pdf import check_pdf, check_pdf_active, check_pdf_envelope
from core.uploads.sniff import sniff


@dataclasses.dataclass(frozen=True)
class EvidenceKind:
    key: str  # "pdf" | "docx" | "xlsx" | "png" | "jpeg" | "gif" | "webp"
    label: str  # e.g. "PDF 文档", "Word 文档", "Excel 表格", "图片"
    content_type: str  # the MIME type to serve it with
    extensions: tuple[str, ...]  # accepted name endings, e.g. (".jpg", ".jpeg")


KINDS = (
    EvidenceKind("pdf", gettext_lazy("PDF 文档"), "application/pdf", (".pdf",)),
    EvidenceKind(
        "docx",
        gettext_lazy("Word 文档"),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (".docx",),
    ),
    EvidenceKind(
        "xlsx",
        gettext_lazy("Excel 表格"),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        (".xlsx",),
    ),
    EvidenceKind("png", gettext_lazy("图片"), "image/png", (".png",)),
    EvidenceKind("jpeg", gettext_lazy("图片"), "image/jpeg", (".jpg", ".jpeg")),
    EvidenceKind("gif", gettext_lazy("图片"), "image/gif", (".gif",)),
    EvidenceKind("webp", gettext_lazy("图片"), "image/webp", (".webp",)),
)
_BY_EXTENSION = {extension: kind for kind in KINDS for extension in kind.extensions}
_BY_KEY = {kind.key: kind for kind in KINDS}

ACCEPT_ATTRIBUTE = ",".join(_BY_EXTENSION)


def _accepted() -> str:
    return _("可上传的文件类型：PDF、Word（.docx）、Excel（.xlsx）、图片（PNG/JPEG/GIF/WebP）。")


# Formats people try that have an obvious way out.
_EXTENSION_HINTS = {
    ".doc": gettext_lazy("是旧版 Word 格式（.doc），请用 Word 或 WPS 另存为 .docx 后再上传。"),
    ".xls": gettext_lazy("是旧版 Excel 格式（.xls），请用 Excel 或 WPS 另存为 .xlsx 后再上传。"),
    ".wps": gettext_lazy("是 WPS 文字格式（.wps），请用 WPS 另存为 .docx 后再上传。"),
    ".et": gettext_lazy("是 WPS 表格格式（.et），请用 WPS 另存为 .xlsx 后再上传。"),
    ".svg": gettext_lazy("是 SVG 图像，可携带脚本，不予接受；请导出为 PNG 或 JPEG 后再上传。"),
    ".heic": gettext_lazy(
        "是 HEIC 图片（苹果手机默认格式），请转换为 JPEG 后再上传（或在手机“设置—相机—格式”中选择“兼容性最佳”）。"
    ),
    ".heif": gettext_lazy("是 HEIF 图片，请转换为 JPEG 后再上传。"),
}

# What the bytes really are, for messages; keys are those of core.uploads.sniff.
_WHAT = {
    "pdf": gettext_lazy("PDF 文档"),
    "docx": gettext_lazy("Word 文档"),
    "xlsx": gettext_lazy("Excel 表格"),
    "pptx": gettext_lazy("PowerPoint 演示文稿"),
    "png": gettext_lazy("PNG 图片"),
    "jpeg": gettext_lazy("JPEG 图片"),
    "gif": gettext_lazy("GIF 图片"),
    "webp": gettext_lazy("WebP 图片"),
    "zip": gettext_lazy("压缩包（或 Word/Excel 文件）"),
    "ole": gettext_lazy("旧版 Office 文件（.doc/.xls）"),
    "exe": gettext_lazy("可执行程序"),
    "html": gettext_lazy("网页（HTML）文件"),
    "svg": gettext_lazy("SVG 图像（可携带脚本）"),
}
# Content that is refused whatever the name: it runs, or a browser would run it.
_DANGEROUS = {"exe", "html", "svg"}


# ---------------------------------------------------------------------------------------------
# the checks


def check_evidence_files(files) -> list[tuple[object, EvidenceKind]]:
    """Every file of one report with its kind, or ValidationError listing what is wrong:
    more files than EVIDENCE_MAX_FILES, and each file check_evidence_file refuses."""
    limit = settings.EVIDENCE_MAX_FILES
    if len(files) > limit:
        raise ValidationError(
            ngettext("一次最多上传 %(n)d 个文件。", "一次最多上传 %(n)d 个文件。", limit) % {"n": limit}
        )
    checked, errors = [], []
    for uploaded in files:
        try:
            checked.append((uploaded, check_evidence_file(uploaded)))
        except ValidationError as error:
            errors.extend(error.messages)
    if errors:
        raise ValidationError(errors)
    return checked


def check_evidence_file(uploaded, *, max_bytes: int | None = None) -> EvidenceKind:
    """`uploaded` is a Django UploadedFile (has .name, .size, .read()/.chunks(), .seek()).
    Returns the kind, or raises django.core.exceptions.ValidationError with a message that
    names the file and the reason. max_bytes defaults to settings.EVIDENCE_MAX_BYTES.
    Leaves the file position at 0.

    The error's ``code`` is one of ``unsupported_type``, ``empty``, ``too_large``,
    ``content_mismatch``, ``invalid``, ``unsafe``.
    """
    if max_bytes is None:
        max_bytes = getattr(settings, "EVIDENCE_MAX_BYTES", DEFAULT_MAX_BYTES)
    name = _display_name(uploaded.name)
    try:
        kind = _kind_from_name(uploaded.name, name)
        if (uploaded.size or 0) > max_bytes:
            raise _too_large(name, uploaded.size, max_bytes)
        data = read_at_most(uploaded, max_bytes + 1)
    finally:
        uploaded.seek(0)
    if not data:
        raise _error(name, _("是空文件（0 字节），请检查后重新上传。"), "empty")
    if len(data) > max_bytes:  # .size said otherwise: trust the bytes
        raise _too_large(name, None, max_bytes)
    try:
        _check_content(data, kind, name)
    except KindMismatch as mismatch:
        raise _mismatch(name, kind, mismatch.actual) from None
    except FileRefused as refused:
        raise _refused(name, kind, refused) from None
    return kind


def _display_name(name):
    name = os.path.basename((name or "").replace("\\", "/")) or _("未命名文件")
    return name if len(name) <= 80 else name[:50] + "…" + name[-20:]


def _kind_from_name(raw_name, name):
    # The same rule the Attachment model uses to name the stored file.
    extension = os.path.splitext(raw_name or "")[1].lower()
    if not extension:
        raise _error(name, _("没有扩展名，无法判断文件类型。") + _accepted(), "unsupported_type")
    if extension in _EXTENSION_HINTS:
        raise _error(name, str(_EXTENSION_HINTS[extension]), "unsupported_type")
    if extension not in _BY_EXTENSION:
        reason = _("的类型（%(extension)s）不在可上传范围内。") % {"extension": extension[:20]}
        raise _error(name, reason + _accepted(), "unsupported_type")
    return _BY_EXTENSION[extension]


def _check_content(data, kind, name):
    actual = sniff(data)
    expected = "zip" if kind.key in ("docx", "xlsx") else kind.key
    if actual in _DANGEROUS:
        reason = _("实际上是%(actual)s，不是%(expected)s，已拒绝。") % {
            "actual": _WHAT[actual],
            "expected": _WHAT[kind.key],
        }
        raise FileRefused(reason, "unsafe", about_file=True)
    if actual == "ole" and expected == "zip":
        # A password-protected .docx/.xlsx, or a .doc/.xls renamed: the check says which.
        refuse_compound_file(data)
    if actual is not None and actual != expected:
        raise KindMismatch(actual)
    if actual is None:
        raise FileRefused("", "invalid")
    if kind.key == "pdf":
        check_pdf_envelope(data)
        check_pdf(data)  # bounds what the Flate streams inflate to before they are parsed
        check_pdf_active(data)
    elif expected == "zip":
        check_package(data, kind.key, str(kind.label), kind.extensions[0])
    else:
        check_image(data, kind.key)


# ---------------------------------------------------------------------------------------------
# messages


def _error(name, reason, code, *, about_file=True):
    if about_file:
        return ValidationError(_("“%(name)s”%(reason)s") % {"name": name, "reason": _spaced(reason)}, code=code)
    return ValidationError(_("“%(name)s”：%(reason)s") % {"name": name, "reason": reason}, code=code)


def _spaced(text):
    # Chinese typesetting puts a space between Han characters and Latin letters or digits
    # ("不是有效的 PDF 文件"); labels are put together from parts, so the spaces are added here.
    text = re.sub(r"([\u4e00-\u9fff])([A-Za-z0-9])", r"\1 \2", text)
    return re.sub(r"([A-Za-z0-9])([\u4e00-\u9fff])", r"\1 \2", text)


_NOT_VALID = {
    "pdf": gettext_lazy("不是有效的 PDF 文件，请重新导出后上传。"),
    "docx": gettext_lazy("不是有效的 Word 文档（.docx），请用 Word 或 WPS 重新另存后上传。"),
    "xlsx": gettext_lazy("不是有效的 Excel 表格（.xlsx），请用 Excel 或 WPS 重新另存后上传。"),
}


def _refused(name, kind, refused: FileRefused) -> ValidationError:
    """A check's refusal as the file's message: a statement about the file reads after its
    name; a sentence of its own after a colon; no message means "not a valid <kind>"."""
    if not refused.message:
        if kind.key in _NOT_VALID:
            return _error(name, str(_NOT_VALID[kind.key]), "invalid")
        return _error(name, str(invalid_image(kind.key)), "invalid")
    message = refused.message
    if refused.about_file:
        return _error(name, message, refused.code)
    if not message.endswith(("。", "！", "）", ".", "!", ")")):
        message += _("。")
    code = "unsafe" if refused.code == "unsafe" else "invalid"
    return _error(name, message, code, about_file=False)


def _mismatch(name, kind, actual):
    extension = os.path.splitext(name)[1].lower()
    actual_kind = _BY_KEY.get(actual)
    if actual_kind:
        advice = _("请把扩展名改为 %(extension)s 后再上传。") % {"extension": actual_kind.extensions[0]}
    elif actual == "ole":
        advice = _("请另存为 .docx 或 .xlsx 后再上传。")
    else:
        advice = _("请上传正确的文件。")
    reason = _("的内容是%(actual)s，与扩展名 %(extension)s 不符。文件名和内容必须一致，%(advice)s") % {
        "actual": _WHAT[actual],
        "extension": extension,
        "advice": advice,
    }
    return _error(name, reason, "content_mismatch")


def _too_large(name, size, max_bytes):
    actual = _("（该文件 %(size)s）") % {"size": size_text(size)} if size else ""
    reason = _("超过了大小上限 %(limit)s%(actual)s，请压缩或拆分后再上传。") % {
        "limit": size_text(max_bytes),
        "actual": actual,
    }
    return _error(name, reason, "too_large")
