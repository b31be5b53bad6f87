"""Seeding from chinesecalendar: the one place the tests read the package."""

import datetime
import io

import pytest
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from workdays import seed, services
from workdays.choices import DayKind, Source
from workdays.models import CalendarDay

D = datetime.date

pytestmark = pytest.mark.django_db


def run(*args):
    out = io.StringIO()
    call_command("seed_workdays", *args, stdout=out)
    return out.getvalue()


def test_it_writes_2026s_national_day_from_the_package():
    pytest.importorskip("chinese_calendar")
    # when
    output = run("--year", "2026")
    # then
    days = {d.date: d for d in CalendarDay.objects.filter(date__year=2026)}
    assert all(days[D(2026, 10, n)].kind == DayKind.HOLIDAY for n in range(1, 8))
    assert days[D(2026, 10, 1)].name == "国庆节" and days[D(2026, 10, 1)].source == Source.PACKAGE
    assert days[D(2026, 10, 10)].kind == DayKind.WORKDAY and days[D(2026, 9, 20)].kind == DayKind.WORKDAY
    assert services.add_working_days(D(2026, 9, 30), 3) == D(2026, 10, 10)
    assert "2026 年：新增" in output
    # one audit event for the whole seeding, with the package's version
    event = AuditEvent.objects.get(event_type="admin_action", detail__action="workdays_seed")
    assert event.detail["package_version"] == seed.package_version()


def test_it_is_idempotent_and_never_overwrites_the_admins_rows():
    pytest.importorskip("chinese_calendar")
    # given: the admin named the make-up Saturday differently
    CalendarDay.objects.create(date=D(2026, 10, 10), kind=DayKind.WORKDAY, name="国庆调休", source=Source.MANUAL)
    # when
    run("--year", "2026")
    state = sorted(CalendarDay.objects.values_list("date", "kind", "name", "source"))
    run("--year", "2026")
    # then
    assert sorted(CalendarDay.objects.values_list("date", "kind", "name", "source")) == state
    assert CalendarDay.objects.get(date=D(2026, 10, 10)).name == "国庆调休"


def test_by_default_a_year_already_in_the_table_is_left_alone():
    pytest.importorskip("chinese_calendar")
    # given: the admin has kept 2026 by hand, and deleted a day of it
    CalendarDay.objects.create(date=D(2026, 10, 1), kind=DayKind.HOLIDAY, name="国庆节", source=Source.MANUAL)
    # when
    result = seed.seed()
    # then
    assert 2026 in result.skipped
    assert CalendarDay.objects.filter(date__year=2026).count() == 1
    # ...while a year not yet in the table is written: 2025's 国庆节 and 中秋 ran 1–8 October.
    assert CalendarDay.objects.filter(date__year=2025, date__month=10, kind=DayKind.HOLIDAY).count() == 8


def test_a_year_the_package_does_not_have_is_reported():
    pytest.importorskip("chinese_calendar")
    output = run("--year", "2099")
    assert "没有 2099 年的数据" in output
    assert not CalendarDay.objects.exists()


def test_without_the_package_the_command_says_how_to_proceed(monkeypatch):
    monkeypatch.setattr(seed, "package_days", None)
    monkeypatch.setattr("workdays.management.commands.seed_workdays.package_available", lambda: False)
    with pytest.raises(CommandError, match="导入日历文件"):
        run()
