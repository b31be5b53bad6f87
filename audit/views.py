"""The audit admins' pages: search the trail, export what the search found."""

from django.conf import settings
from django.core.paginator import Paginator
from django.http import FileResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from audit import exports
from audit.choices import EventType, ExportFormat
from audit.forms import EventFilterForm, ExportForm
from audit.models import AuditEvent
from audit.services import record
from core.permissions import role_required
from core.roles import Role, role_label


def _filtered(request):
    form = EventFilterForm(request.GET or None)
    events = AuditEvent.objects.all()
    if form.is_bound and form.is_valid():
        events = form.filter(events)
    elif form.is_bound:
        events = events.none()
    return form, events


@role_required(Role.AUDITOR)
@require_safe
def events(request):
    form, found = _filtered(request)
    page = Paginator(found, settings.AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    for event in page:
        event.role_label = role_label(event.user_role)
    return render(
        request,
        "audit/events.html",
        {"form": form, "page": page, "formats": ExportFormat.choices},
        status=400 if form.errors else 200,
    )


@role_required(Role.AUDITOR)
@require_safe
def export(request):
    form, found = _filtered(request)
    if form.errors:
        return render(
            request, "audit/events.html", {"form": form, "page": None, "formats": ExportFormat.choices}, status=400
        )
    chosen = ExportForm(request.GET)
    kind = chosen.cleaned_data["format"] if chosen.is_valid() and chosen.cleaned_data["format"] else ExportFormat.CSV
    limit = settings.AUDIT_EXPORT_MAX_ROWS
    rows = min(found.count(), limit)
    filters = {k: v for k, v in (form.cleaned_data.items() if form.is_bound else ()) if v not in ("", None)}
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    filename = f"audit-events-{stamp}.{kind}"
    # The export is itself an event, written before a byte leaves: no record, no file.
    exported = record(
        EventType.AUDIT_EXPORT,
        detail={"format": kind, "rows": rows, "filters": {k: str(v) for k, v in filters.items()}, "file": filename},
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
