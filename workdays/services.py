"""The Chinese working-day calendar: every "N working days" in the platform counts here.

A day is a working day when it is Monday to Friday and not an official holiday, or when it
is a make-up working day (调休) on a weekend. The exceptions are data (workdays.models),
seeded from chinesecalendar and edited by the system admin.

Each process keeps the exceptions it has read, one query per year, so counting 30 working
days costs one query (two across New Year), not 30. The copy is emptied when a CalendarDay
is saved or deleted here (signals, workdays.apps), and in every other process through a
version token in Django's cache, changed when such a write commits: each public function
reads the token once (one cache get) before it answers. What is read inside a transaction
is kept for that transaction only, since it may be rolled back (and each test, which runs in
one, starts from the table).
"""

import dataclasses
import datetime
import threading
import uuid
import weakref

from django.core.cache import cache
from django.db import transaction
from django.utils.translation import gettext as _

from audit.choices import EventType
from audit.services import record
from workdays.choices import DayKind, Source
from workdays.models import CalendarDay, check_day

VERSION_KEY = "workdays:calendar-version"
ONE_DAY = datetime.timedelta(days=1)


# --- The copies of the exceptions --------------------------------------------------------


@dataclasses.dataclass
class _Store:
    version: str | None = None
    # Bumped whenever the copy is emptied: a year read before that is not kept.
    generation: int = 0
    years: dict[int, dict[datetime.date, str]] = dataclasses.field(default_factory=dict)
    covered: tuple[int, ...] | None = None
    # The outermost atomic block the copy belongs to; None for the process's own copy.
    block: weakref.ReferenceType | None = None

    def clear(self) -> None:
        self.years = {}
        self.covered = None
        self.generation += 1


# The process's copy of committed rows, shared by its threads; each thread's copy for the
# transaction it is in.
_shared = _Store()
_lock = threading.Lock()
_local = threading.local()


def _store_now() -> _Store:
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return _shared
    block = connection.atomic_blocks[0]
    store = getattr(_local, "store", None)
    if store is None or store.block is None or store.block() is not block:
        store = _local.store = _Store(block=weakref.ref(block))
    return store


def forget() -> None:
    """Empty this process's copy (and this thread's transaction's); the next question
    reads the table again."""
    with _lock:
        _shared.clear()
        local = getattr(_local, "store", None)
        if local is not None:
            local.clear()


def calendar_changed() -> None:
    """The table changed: forget at once here, and tell the other processes once the change
    is committed (before that they would only read the old rows again)."""
    forget()
    transaction.on_commit(_announce)


def _announce() -> None:
    version = uuid.uuid4().hex
    cache.set(VERSION_KEY, version, None)
    forget()
    with _lock:
        _shared.version = version


def _checked(store: _Store) -> _Store:
    """`store`, emptied first when another process has changed the calendar since it was
    read. A token the cache does not have (never set, flushed, Redis down) counts as a
    change: a stale calendar would move deadlines, a reread costs one query per year."""
    version = cache.get(VERSION_KEY)
    if version is None:
        version = uuid.uuid4().hex
        cache.add(VERSION_KEY, version, None)
    if version != store.version:
        with _lock:
            store.clear()
            store.version = version
    return store


def _year(store: _Store, year: int) -> dict[datetime.date, str]:
    found = store.years.get(year)
    if found is None:
        generation = store.generation
        found = dict(CalendarDay.objects.filter(date__year=year).values_list("date", "kind"))
        with _lock:
            if store.generation == generation:
                store.years[year] = found
    return found


class _Calendar:
    """The calendar as one public call sees it: the version checked once, each year looked
    up once."""

    def __init__(self):
        self._store = _checked(_store_now())
        self._years: dict[int, dict[datetime.date, str]] = {}

    def kind(self, day: datetime.date) -> str | None:
        exceptions = self._years.get(day.year)
        if exceptions is None:
            exceptions = self._years[day.year] = _year(self._store, day.year)
        return exceptions.get(day)

    def is_working(self, day: datetime.date) -> bool:
        kind = self.kind(day)
        if kind == DayKind.HOLIDAY:
            return False
        if kind == DayKind.WORKDAY:
            return True
        return day.weekday() < 5


# --- The rules ---------------------------------------------------------------------------


def is_working_day(day: datetime.date) -> bool:
    return _Calendar().is_working(day)


def add_working_days(start: datetime.date, days: int) -> datetime.date:
    """The date `days` working days after `start` (start itself not counted): a review
    submitted on Friday with 3 working days is due on Wednesday."""
    calendar = _Calendar()
    day, left = start, days
    step = 1 if days >= 0 else -1
    while left:
        day += datetime.timedelta(days=step)
        if calendar.is_working(day):
            left -= step
    return day


def next_working_day(day: datetime.date) -> datetime.date:
    """`day` itself when it is a working day, else the first working day after it."""
    calendar = _Calendar()
    while not calendar.is_working(day):
        day += ONE_DAY
    return day


def working_days_between(start: datetime.date, end: datetime.date) -> int:
    """Working days after `start` up to and including `end` (negative when end < start)."""
    if end < start:
        return -working_days_between(end, start)
    calendar = _Calendar()
    count, day = 0, start
    while day < end:
        day += ONE_DAY
        count += calendar.is_working(day)
    return count


def non_working_days(year: int) -> list[datetime.date]:
    """Every day of `year` off work: weekends not made up, and the holidays."""
    calendar = _Calendar()
    day, found = datetime.date(year, 1, 1), []
    while day.year == year:
        if not calendar.is_working(day):
            found.append(day)
        day += ONE_DAY
    return found


def exceptions(year: int) -> dict[datetime.date, str]:
    """The year's holidays and make-up days: date → DayKind value."""
    return dict(_year(_checked(_store_now()), year))


def covered_years() -> list[int]:
    """The years the calendar has data for. A year missing here counts weekends only: pages
    warn when this year or next is missing (the State Council publishes next year's each
    November, before the package has it)."""
    store = _checked(_store_now())
    covered = store.covered
    if covered is None:
        generation = store.generation
        covered = tuple(day.year for day in CalendarDay.objects.dates("date", "year"))
        with _lock:
            if store.generation == generation:
                store.covered = covered
    return list(covered)


def has_calendar(year: int) -> bool:
    return year in covered_years()


# --- The admin's writes --------------------------------------------------------------------


def save_day(day: datetime.date, kind: str, name: str = "", *, source: str = Source.MANUAL) -> tuple[CalendarDay, bool]:
    """Make `day` a holiday or a make-up working day (a new row, or the day's row changed).
    Returns the row and whether it is new. Raises ValidationError for a day `kind` cannot
    be true of (workdays.models.check_day)."""
    check_day(day, kind)
    name = " ".join((name or "").split())
    with transaction.atomic():
        row = CalendarDay.objects.select_for_update().filter(date=day).first()
        created = row is None
        before = None if row is None else {"kind": row.kind, "name": row.name, "source": row.source}
        if row is None:
            row = CalendarDay(date=day)
        row.kind, row.name, row.source = kind, name, source
        row._change_reason = _("维护工作日历")  # type: ignore[attr-defined]  # read by simple-history
        row.save()
        record(
            EventType.ADMIN_ACTION,
            obj=row,
            detail={
                "action": "workday_add" if created else "workday_change",
                "date": day,
                "kind": kind,
                "name": name,
                "before": before,
            },
        )
    return row, created


def delete_day(day: datetime.date) -> CalendarDay | None:
    """Take `day` out of the calendar (it follows the weekend rule again). Returns the row
    that was deleted, or None when there was none."""
    with transaction.atomic():
        row = CalendarDay.objects.select_for_update().filter(date=day).first()
        if row is None:
            return None
        record(
            EventType.ADMIN_ACTION,
            obj=row,
            detail={"action": "workday_delete", "date": day, "kind": row.kind, "name": row.name, "source": row.source},
        )
        row._change_reason = _("维护工作日历")  # type: ignore[attr-defined]
        row.delete()
    return row


def on_tables_reset(sender, **kwargs) -> None:
    """post_migrate, also sent after `flush` (a transactional test's teardown empties the
    tables without a delete signal)."""
    forget()


def on_calendar_day_written(sender, **kwargs) -> None:
    """post_save / post_delete of CalendarDay (connected in workdays.apps)."""
    calendar_changed()
