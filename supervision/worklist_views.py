"""The work list page (待办, /supervision/): what waits for the user in the supervision
loop, by kind, each section its oldest items and its count (supervision.worklist)."""

from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_safe

from core.permissions import role_required
from core.roles import WORK_ROLES
from supervision.worklist import SECTION_CAP, remember_total, with_counts


@role_required(*WORK_ROLES)
@require_safe
def worklist(request):
    today = timezone.localdate()
    sections = with_counts(request.user, today)
    for section in sections:
        section.rows = section.shown if section.count else []
    total = sum(section.count for section in sections)
    remember_total(request.user, total, today)
    context = {
        "sections": sections,
        "total": total,
        "cap": SECTION_CAP,
        "today": today,
    }
    return render(request, "supervision/worklist.html", context)


urlpatterns = [
    path("", worklist, name="worklist"),
]
