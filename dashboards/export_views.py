"""Export pages for leaders and admins: request a ledger or a bulletin, watch its progress,
download the file. Only the requester (or an admin) sees an export; everyone else gets 403.
A download is checked again (dashboards.exports.downloads): a file the asker's scope no
longer covers is a 403, one past its retention a 410, each with a Chinese page."""

from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from audit.choices import EventType
from audit.services import record
from core.jobs import progress_payload
from core.permissions import role_required
from core.roles import OVERSIGHT_ROLES
from dashboards.export_forms import LedgerOptionsForm
from dashboards.exports.base import CONTENT_TYPES, EXTENSIONS, ExportRefused
from dashboards.exports.downloads import ExportExpired, ExportOutOfScope, check_kept, check_scope
from dashboards.exports.requests import request_export
from dashboards.models import Export, ExportKind, ExportStatus


def _refused(request, kind: str, message: str):
    context = {"refused": message, "kind_label": ExportKind(kind).label}
    return render(request, "dashboards/export_status.html", context, status=400)


def _requested(request, kind: str, options: dict | None = None):
    try:
        export = request_export(
            request.user, kind, plan=request.POST.get("plan"), year=request.POST.get("year"), options=options
        )
    except ExportRefused as refused:
        return _refused(request, kind, str(refused))
    response = HttpResponseRedirect(reverse("dashboards:export_status", args=[export.pk]))
    response.status_code = 303  # See Other: the browser GETs the status page
    return response


@role_required(*OVERSIGHT_ROLES)
@require_POST
def export_ledger(request):
    """POST plan (optional id), year (optional), per_agency and monthly (optional yes/no):
    the 督办台账 of the user's scope."""
    form = LedgerOptionsForm(request.POST)
    if not form.is_valid():
        return _refused(request, ExportKind.LEDGER, form.first_error())
    return _requested(request, ExportKind.LEDGER, form.options())


@role_required(*OVERSIGHT_ROLES)
@require_POST
def export_bulletin(request):
    """POST year and plan (optional): the 进展通报 of the user's scope."""
    return _requested(request, ExportKind.BULLETIN)


def _own_export(request, pk, *fields) -> Export:
    queryset = Export.objects.select_related("plan") if not fields else Export.objects.only(*fields)
    export = get_object_or_404(queryset, pk=pk)
    if not Export.objects.visible_to(request.user).filter(pk=export.pk).exists():
        raise PermissionDenied
    return export


def _download_url(export: Export) -> str | None:
    if export.status == ExportStatus.DONE and export.file:
        return reverse("dashboards:export_download", args=[export.pk])
    return None


@role_required(*OVERSIGHT_ROLES)
@require_safe
def export_status(request, pk):
    export = _own_export(request, pk)
    return render(
        request,
        "dashboards/export_status.html",
        {
            "export": export,
            "kind_label": export.get_kind_display(),
            "download_url": _download_url(export),
            "retention_days": settings.EXPORT_RETENTION_DAYS,
        },
    )


@role_required(*OVERSIGHT_ROLES)
@require_safe
def export_progress(request, pk):
    """What the status page polls: status, percent, rows, the link once done, the error."""
    export = _own_export(request, pk, "pk", "requested_by_id", "status", "done_rows", "total_rows", "file", "error")
    return JsonResponse(
        progress_payload(
            status=export.status,
            status_label=export.get_status_display(),
            percent=export.percent,
            error=export.error,
            next_url=_download_url(export),
            done_rows=export.done_rows,
            total_rows=export.total_rows,
        )
    )


@role_required(*OVERSIGHT_ROLES)
@require_safe
def export_download(request, pk):
    export = _own_export(request, pk)
    try:
        check_kept(export)
    except ExportExpired as expired:
        return _not_handed_out(request, export, str(expired), status=410)
    if export.status != ExportStatus.DONE or not export.file:
        response = HttpResponseRedirect(reverse("dashboards:export_status", args=[export.pk]))
        response.status_code = 303
        return response
    try:
        check_scope(request.user, export)
    except ExportOutOfScope as refused:
        request.denial_reason = "export_scope"  # written to the trail (audit.denials)
        return _not_handed_out(request, export, str(refused), status=403)
    try:
        handle = export.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404(_("导出文件已不存在，请重新导出。")) from None
    filename = export.filename or export.file.name.rsplit("/", 1)[-1]
    record_export(export, filename=filename)  # 导出: recorded before the file leaves
    response = FileResponse(handle, content_type=CONTENT_TYPES[export.kind])
    fallback = f"{export.kind}-{export.year}.{EXTENSIONS[export.kind]}"
    response["Content-Disposition"] = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def _not_handed_out(request, export: Export, message: str, *, status: int):
    context = {"export": export, "kind_label": export.get_kind_display(), "not_handed_out": message}
    return render(request, "dashboards/export_status.html", context, status=status)


def record_export(export: Export, *, filename: str = ""):
    """The 导出 event of a file handed out (ledger, bulletin)."""
    return record(
        EventType.EXPORT,
        obj=export,
        detail={
            "kind": export.kind,
            "year": export.year,
            "plan": export.plan_id,
            "rows": export.total_rows,
            "file": filename or export.filename,
        },
    )
