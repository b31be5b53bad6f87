"""The calendar seeded from the chinesecalendar package (import name chinese_calendar), for
the years it covers.

Why a command (`manage.py seed_workdays`, run by `seed_demo` and at deployment) and not a
data migration: a migration's outcome would hang on the package version installed when it
ran, so two databases at the same migration could hold different calendars; every test
database would carry the real holidays, so every test that counts working days in any app
would silently depend on the package's data; and next year's days, which the package
gains in a later release, would need a new migration each year. The command can be run
again whenever the package is upgraded.

Rules: a year with no rows gets all the package's days. A year that already has rows is
left alone unless asked for by name (`years=`): the admin may have corrected it, deleted a
day or imported the official notice. A year asked for is brought in line with the package
day by day, except that a row the admin wrote (source manual or file) is never changed and
nothing is deleted.
"""

import dataclasses
import datetime
from collections.abc import Iterable

from django.db import transaction
from simple_history.utils import bulk_create_with_history

from audit.choices import EventType
from audit.services import record
from workdays.choices import DayKind, Source
from workdays.models import MAX_YEAR, MIN_YEAR, NAME_MAX_CHARS, CalendarDay
from workdays.services import calendar_changed

try:
    import chinese_calendar
    from chinese_calendar import constants as package_days
except ImportError:  # optional at run time: without it the admin imports the calendar as a file
    chinese_calendar = None
    package_days = None


@dataclasses.dataclass
class SeedResult:
    added: dict[int, int] = dataclasses.field(default_factory=dict)
    changed: dict[int, int] = dataclasses.field(default_factory=dict)
    kept: dict[int, int] = dataclasses.field(default_factory=dict)
    skipped: list[int] = dataclasses.field(default_factory=list)
    missing: list[int] = dataclasses.field(default_factory=list)

    @property
    def total_written(self) -> int:
        return sum(self.added.values()) + sum(self.changed.values())


def package_available() -> bool:
    return package_days is not None


def package_version() -> str:
    return getattr(chinese_calendar, "__version__", "") if chinese_calendar is not None else ""


def _name_of(value: str) -> str:
    """The Chinese name the package gives a holiday (its English name is the key)."""
    try:
        return package_days.Holiday(value).chinese[:NAME_MAX_CHARS]
    except (ValueError, AttributeError):
        return str(value)[:NAME_MAX_CHARS]


def package_calendar() -> dict[datetime.date, tuple[str, str]]:
    """Every day the package lists: date → (DayKind value, name)."""
    if package_days is None:
        return {}
    found = {}
    for kind, days in ((DayKind.HOLIDAY, package_days.holidays), (DayKind.WORKDAY, package_days.workdays)):
        for day, value in days.items():
            if MIN_YEAR <= day.year <= MAX_YEAR:
                found[day] = (kind.value, _name_of(value))
    return found


def package_years() -> list[int]:
    return sorted({day.year for day in package_calendar()})


def seed(years: Iterable[int] | None = None) -> SeedResult:
    """Write the package's days: every year it covers that has no rows yet, or exactly
    `years` (brought in line day by day, the admin's rows kept). Idempotent."""
    result = SeedResult()
    listed = package_calendar()
    covered = sorted({day.year for day in listed})
    forced = years is not None
    wanted = sorted(set(years)) if forced else covered
    result.missing = [year for year in wanted if year not in covered]
    wanted = [year for year in wanted if year in covered]
    with transaction.atomic():
        existing = {row.date: row for row in CalendarDay.objects.select_for_update().in_years(wanted)}
        if not forced:
            taken = {day.year for day in existing}
            result.skipped = [year for year in wanted if year in taken]
            wanted = [year for year in wanted if year not in taken]
        new_rows = []
        for day, (kind, name) in sorted(listed.items()):
            if day.year not in wanted:
                continue
            row = existing.get(day)
            if row is None:
                new_rows.append(CalendarDay(date=day, kind=kind, name=name, source=Source.PACKAGE))
                result.added[day.year] = result.added.get(day.year, 0) + 1
            elif row.source != Source.PACKAGE:
                result.kept[day.year] = result.kept.get(day.year, 0) + 1
            elif (row.kind, row.name) != (kind, name):
                row.kind, row.name = kind, name
                row.save()
                result.changed[day.year] = result.changed.get(day.year, 0) + 1
        if new_rows:
            # One history row per day (the model's history) without an audit event per day:
            # the event below says what the seeding did as a whole.
            bulk_create_with_history(new_rows, CalendarDay, default_change_reason="chinesecalendar")
        if result.total_written:
            record(
                EventType.ADMIN_ACTION,
                object_type="workdays.calendarday",
                object_repr="chinesecalendar " + package_version(),
                detail={
                    "action": "workdays_seed",
                    "package_version": package_version(),
                    "added": result.added,
                    "changed": result.changed,
                    "kept": result.kept,
                },
            )
            calendar_changed()
    return result
