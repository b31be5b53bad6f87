"""The working-day calendar's tests: the 2026 National Day week as the State Council set it
(and chinesecalendar 1.11.0 lists it): 1–7 October off, Sunday 20 September and Saturday
10 October worked, 中秋 25–27 September off. Written as rows here, never read from the
package, except by the one test of seeding."""

import datetime

import pytest

from workdays import services
from workdays.choices import DayKind, Source
from workdays.models import CalendarDay

D = datetime.date

NATIONAL_DAY_2026 = [
    *[(D(2026, 9, n), DayKind.HOLIDAY, "中秋节") for n in (25, 26, 27)],
    *[(D(2026, 10, n), DayKind.HOLIDAY, "国庆节") for n in range(1, 8)],
    (D(2026, 9, 20), DayKind.WORKDAY, "国庆节"),
    (D(2026, 10, 10), DayKind.WORKDAY, "国庆节"),
]


@pytest.fixture(autouse=True)
def fresh_calendar():
    """No calendar read by an earlier test: its rows were rolled back without a signal."""
    services.forget()
    yield
    services.forget()


def add_days(rows, source=Source.MANUAL):
    return [CalendarDay.objects.create(date=day, kind=kind, name=name, source=source) for day, kind, name in rows]


@pytest.fixture
def national_day(db):
    return add_days(NATIONAL_DAY_2026)
