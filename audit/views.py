"""The audit admins' pages: search the trail, export what the search found."""

from django.conf import settings
from django.http import FileResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from audit import exports
from audit.choices import EventType, ExportFormat
from audit.filters import AuditEventFilterSet
from audit.forms import ExportForm
from audit.models import AuditEvent
from audit.services import record
from core.lists import listing
from core.permissions import role_required
from core.roles import Role, role_label


@role_required(Role.AUDITOR)
@require_safe
def events(request):
    found = listing(request, AuditEventFilterSet, AuditEvent.objects.all(), per_page=settings.AUDIT_PAGE_SIZE)
    for event in found.page:
        event.role_label = role_label(event.user_role)
    return render(
        request,
        "audit/events.html",
        {"filters": found.filters, "page": found.page, "formats": ExportFormat.choices},
        status=400 if found.invalid else 200,
    )


@role_required(Role.AUDITOR)
@require_safe
def export(request):
    filters = AuditEventFilterSet(request.GET or None, queryset=AuditEvent.objects.all())
    if filters.is_bound and not filters.is_valid():
        context = {"filters": filters, "page": None, "formats": ExportFormat.choices}
        return render(request, "audit/events.html", context, status=400)
    found = filters.qs
    chosen = ExportForm(request.GET)
    kind = chosen.cleaned_data["format"] if chosen.is_valid() and chosen.cleaned_data["format"] else ExportFormat.CSV
    limit = settings.AUDIT_EXPORT_MAX_ROWS
    rows = min(found.count(), limit)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    filename = f"audit-events-{stamp}.{kind}"
    # The export is itself an event, written before a byte leaves: no record, no file.
    exported = record(
        EventType.AUDIT_EXPORT,
        detail={"format": kind, "rows": rows, "filters": filters.applied, "file": filename},
    )
    # What was found before this export's own event was written, newest first.
    found = found.exclude(pk=exported.pk).order_by("-occurred_at", "-id")[:limit]
    if kind == ExportFormat.XLSX:
        response = FileResponse(
            exports.xlsx_file(found),
            as_attachment=True,
            filename=filename,
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        response = StreamingHttpResponse(exports.csv_chunks(found), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
