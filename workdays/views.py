"""The working-day calendar's pages: the system admin keeps it (one day, or a file);
leaders and the supervision office may look it up and take the file away."""

import calendar
import datetime

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.permissions import role_required
from core.roles import OVERSIGHT_ROLES, Role
from workdays import services
from workdays.choices import MARKS, DayKind
from workdays.files import CalendarFileError, export_calendar, import_calendar, record_export
from workdays.forms import DayForm, DeleteDayForm, ImportForm
from workdays.models import MAX_YEAR, MIN_YEAR, CalendarDay

# The month grid's column heads, Monday first.
WEEKDAY_LABELS = [
    pgettext_lazy("weekday", "一"),
    pgettext_lazy("weekday", "二"),
    pgettext_lazy("weekday", "三"),
    pgettext_lazy("weekday", "四"),
    pgettext_lazy("weekday", "五"),
    pgettext_lazy("weekday", "六"),
    pgettext_lazy("weekday", "日"),
]
# Who may look the calendar up: the system admin, who keeps it, and those who set and
# watch deadlines (leaders, the supervision office).
READERS = OVERSIGHT_ROLES


def _year_asked(request) -> int:
    today = timezone.localdate()
    try:
        year = int(request.GET.get("year", today.year))
    except ValueError:
        return today.year
    return year if MIN_YEAR <= year <= MAX_YEAR else today.year


def _calendar_url(year: int) -> str:
    return f"{reverse('workdays:calendar')}?year={year}"


def month_grid(year: int, days: dict[datetime.date, CalendarDay]) -> list[dict]:
    """Twelve months, each a list of weeks (Monday first) of cells: None outside the month,
    else the date with what it is (working, weekend, holiday, make-up day)."""
    months = []
    for month in range(1, 13):
        weeks = []
        for week in calendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
            cells = []
            for day in week:
                if day.month != month:
                    cells.append(None)
                    continue
                row = days.get(day)
                state = row.kind if row is not None else ("weekend" if day.weekday() >= 5 else "working")
                cells.append({"date": day, "state": state, "row": row, "mark": MARKS.get(state, "")})
            weeks.append(cells)
        months.append({"first": datetime.date(year, month, 1), "weeks": weeks})
    return months


@role_required(*READERS)
@require_safe
def calendar_page(request):
    year = _year_asked(request)
    days = {day.date: day for day in CalendarDay.objects.filter(date__year=year).order_by("date")}
    covered = services.covered_years()
    this_year = timezone.localdate().year
    context = {
        "year": year,
        "days": list(days.values()),
        "months": month_grid(year, days),
        "covered": year in covered,
        "covered_years": covered,
        "next_year": this_year + 1,
        "next_year_missing": this_year + 1 not in covered,
        "years": sorted({*covered, this_year - 1, this_year, this_year + 1, year}),
        "holiday_count": sum(1 for day in days.values() if day.kind == DayKind.HOLIDAY),
        "workday_count": sum(1 for day in days.values() if day.kind == DayKind.WORKDAY),
        "weekday_labels": WEEKDAY_LABELS,
        "can_edit": request.user.role == Role.ADMIN,
    }
    return render(request, "workdays/calendar.html", context)


def _parse_date(text: str | None) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(text) if text else None
    except ValueError:
        return None


@never_cache
@role_required(Role.ADMIN)
@require_http_methods(["GET", "HEAD", "POST"])
def day_edit(request):
    """Add a day (no ?date=, or a date not in the calendar yet) or change one."""
    if request.method == "POST":
        form = DayForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                row, created = services.save_day(data["date"], data["kind"], data["name"])
            except ValidationError as problem:
                form.add_error(None, problem)
            else:
                done = _("已添加 %(day)s。") if created else _("已修改 %(day)s。")
                messages.success(request, done % {"day": row})
                return redirect(_calendar_url(row.date.year))
        existing = _existing_for(form)
        return render(request, "workdays/day_form.html", _form_context(form, existing), status=400)
    day = _parse_date(request.GET.get("date"))
    existing = CalendarDay.objects.filter(date=day).first() if day else None
    if existing is not None:
        form = DayForm(initial={"date": existing.date, "kind": existing.kind, "name": existing.name})
    else:
        form = DayForm(initial={"date": day, "kind": _default_kind(day)})
    return render(request, "workdays/day_form.html", _form_context(form, existing))


def _form_context(form: DayForm, existing: CalendarDay | None) -> dict:
    # A day in the calendar is changed, never moved: its date is the row's key.
    if existing is not None:
        form.fields["date"].widget = forms.HiddenInput()
    return {"form": form, "existing": existing}


def _existing_for(form: DayForm) -> CalendarDay | None:
    """The row a refused form was changing, so the page still says so."""
    day = form.cleaned_data.get("date")
    return CalendarDay.objects.filter(date=day).first() if day else None


def _default_kind(day: datetime.date | None) -> str:
    # A weekend day the admin opens is most likely a make-up day; a weekday, a holiday.
    return DayKind.WORKDAY if day is not None and day.weekday() >= 5 else DayKind.HOLIDAY


@role_required(Role.ADMIN)
@require_POST
def day_delete(request):
    form = DeleteDayForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请指明要删除的日期。"))
        return redirect("workdays:calendar")
    day = form.cleaned_data["date"]
    row = services.delete_day(day)
    if row is None:
        messages.error(request, _("%(date)s 不在日历中，无需删除。") % {"date": day.isoformat()})
    else:
        messages.success(request, _("已删除 %(day)s，这一天恢复按周末规则计算。") % {"day": row})
    return redirect(_calendar_url(day.year))


@never_cache
@role_required(Role.ADMIN)
@require_http_methods(["GET", "HEAD", "POST"])
def import_file(request):
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        errors: list[str] = []
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                result = import_calendar(upload.read(), filename=upload.name)
            except CalendarFileError as refused:
                errors = refused.errors
            else:
                years = _("、").join(str(year) for year in result.years)
                messages.success(
                    request,
                    _(
                        "已导入 %(years)s 年的日历：新增 %(added)d 天，修改 %(changed)d 天，删除 %(removed)d 天，"
                        "未变 %(unchanged)d 天。"
                    )
                    % {
                        "years": years,
                        "added": result.added,
                        "changed": result.changed,
                        "removed": result.removed,
                        "unchanged": result.unchanged,
                    },
                )
                return redirect(_calendar_url(result.years[0]))
        return render(request, "workdays/import.html", {"form": form, "errors": errors}, status=400)
    return render(request, "workdays/import.html", {"form": ImportForm(), "errors": []})


@role_required(*READERS)
@require_safe
def export_file(request):
    """One year's file (?year=), or every year's."""
    year = request.GET.get("year")
    years = [_year_asked(request)] if year else None
    data, rows = export_calendar(years)
    filename = f"workdays-{years[0]}.csv" if years else "workdays.csv"
    record_export(years, rows, filename)
    response = HttpResponse(data, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
