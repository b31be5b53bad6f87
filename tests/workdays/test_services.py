"""The rules: a working day is Monday to Friday and no holiday, or a make-up day."""

import datetime

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from audit.models import AuditEvent
from workdays import services
from workdays.choices import DayKind, Source
from workdays.models import CalendarDay, check_day

D = datetime.date

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "day, working",
    [
        (D(2026, 9, 18), True),  # Friday before the make-up Sunday
        (D(2026, 9, 19), False),  # an ordinary Saturday
        (D(2026, 9, 20), True),  # Sunday worked (调休) for National Day
        (D(2026, 9, 25), False),  # 中秋节, a Friday
        (D(2026, 9, 28), True),
        (D(2026, 9, 30), True),  # the last working day before the holiday
        (D(2026, 10, 1), False),  # 国庆节, a Thursday
        (D(2026, 10, 3), False),  # a Saturday inside the holiday
        (D(2026, 10, 5), False),  # Monday, still off
        (D(2026, 10, 7), False),  # the last day off
        (D(2026, 10, 8), True),  # back at work on Thursday
        (D(2026, 10, 10), True),  # the make-up Saturday
        (D(2026, 10, 11), False),  # the Sunday after it is a Sunday
        (D(2026, 10, 12), True),
    ],
)
def test_the_national_day_week(national_day, day, working):
    assert services.is_working_day(day) is working


@pytest.mark.parametrize(
    "start, days, expected",
    [
        (D(2026, 9, 30), 0, D(2026, 9, 30)),
        (D(2026, 9, 30), 1, D(2026, 10, 8)),  # over the whole week off
        (D(2026, 9, 30), 2, D(2026, 10, 9)),
        (D(2026, 9, 30), 3, D(2026, 10, 10)),  # lands on the make-up Saturday
        (D(2026, 9, 30), 4, D(2026, 10, 12)),  # Sunday 11 October is off
        (D(2026, 9, 18), 1, D(2026, 9, 20)),  # Friday + 1 is the make-up Sunday
        (D(2026, 9, 24), 1, D(2026, 9, 28)),  # 中秋节 Friday to Sunday off
        (D(2026, 10, 8), -1, D(2026, 9, 30)),  # backwards over the holiday
        (D(2026, 10, 12), -1, D(2026, 10, 10)),  # back over Sunday to the make-up Saturday
        (D(2026, 10, 12), -2, D(2026, 10, 9)),
    ],
)
def test_add_working_days_across_the_holiday(national_day, start, days, expected):
    assert services.add_working_days(start, days) == expected


def test_without_a_calendar_only_weekends_are_off(db):
    assert services.add_working_days(D(2026, 10, 2), 3) == D(2026, 10, 7)
    assert services.is_working_day(D(2026, 10, 1))
    assert not services.is_working_day(D(2026, 10, 10))


def test_next_working_day(national_day):
    assert services.next_working_day(D(2026, 10, 1)) == D(2026, 10, 8)
    assert services.next_working_day(D(2026, 10, 10)) == D(2026, 10, 10)
    assert services.next_working_day(D(2026, 10, 11)) == D(2026, 10, 12)
    assert services.next_working_day(D(2026, 9, 19)) == D(2026, 9, 20)


def test_working_days_between(national_day):
    assert services.working_days_between(D(2026, 9, 30), D(2026, 10, 10)) == 3
    assert services.working_days_between(D(2026, 10, 10), D(2026, 9, 30)) == -3
    assert services.working_days_between(D(2026, 10, 1), D(2026, 10, 1)) == 0
    # The counted span agrees with add_working_days.
    end = services.add_working_days(D(2026, 9, 15), 20)
    assert services.working_days_between(D(2026, 9, 15), end) == 20


def test_non_working_days_of_a_year(national_day):
    off = services.non_working_days(2026)
    assert {D(2026, 10, n) for n in range(1, 8)} <= set(off)
    assert D(2026, 10, 10) not in off and D(2026, 9, 20) not in off
    assert D(2026, 10, 11) in off
    # 2026 has 104 weekend days; 6 holidays fall on weekdays (25 Sep; 1, 2, 5, 6, 7 Oct); 2 weekend days are worked.
    assert len(off) == 104 + 6 - 2


def test_covered_years(db):
    assert services.covered_years() == []
    CalendarDay.objects.create(date=D(2025, 10, 1), kind=DayKind.HOLIDAY, name="国庆节")
    CalendarDay.objects.create(date=D(2026, 10, 1), kind=DayKind.HOLIDAY, name="国庆节")
    assert services.covered_years() == [2025, 2026]
    assert services.has_calendar(2026) and not services.has_calendar(2027)


def test_thirty_working_days_cost_one_query_and_then_none(national_day, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert services.add_working_days(D(2026, 9, 1), 30) == D(2026, 10, 19)
    with django_assert_num_queries(0):
        services.add_working_days(D(2026, 9, 1), 30)
        services.is_working_day(D(2026, 10, 1))
        services.working_days_between(D(2026, 9, 1), D(2026, 10, 31))


def test_across_new_year_one_query_per_year(national_day, django_assert_num_queries):
    with django_assert_num_queries(2):
        services.add_working_days(D(2026, 12, 20), 30)


def test_a_saved_or_deleted_day_is_seen_at_once(db):
    # given: 2026 read once, with nothing in it
    assert services.is_working_day(D(2026, 10, 1))
    # when / then
    day = CalendarDay.objects.create(date=D(2026, 10, 1), kind=DayKind.HOLIDAY, name="国庆节")
    assert not services.is_working_day(D(2026, 10, 1))
    day.delete()
    assert services.is_working_day(D(2026, 10, 1))
    assert services.covered_years() == []


def test_another_process_change_is_seen_through_the_cache_version(db):
    # given: this process has read 2026
    CalendarDay.objects.create(date=D(2026, 10, 1), kind=DayKind.HOLIDAY, name="国庆节")
    assert not services.is_working_day(D(2026, 10, 1))
    # when: another process moves the day (no signal reaches this one) and, once its
    # change is committed, changes the version token
    CalendarDay.objects.filter(date=D(2026, 10, 1)).update(date=D(2026, 10, 2))
    assert not services.is_working_day(D(2026, 10, 1))  # this process's copy, until told
    cache.set(services.VERSION_KEY, "another process", None)
    # then
    assert services.is_working_day(D(2026, 10, 1))
    assert not services.is_working_day(D(2026, 10, 2))


def test_a_commit_announces_the_change_to_other_processes(db, django_capture_on_commit_callbacks):
    before = cache.get(services.VERSION_KEY)
    with django_capture_on_commit_callbacks(execute=True):
        CalendarDay.objects.create(date=D(2026, 10, 1), kind=DayKind.HOLIDAY, name="国庆节")
    assert cache.get(services.VERSION_KEY) not in (None, before)


@pytest.mark.django_db(transaction=True)
def test_what_a_rolled_back_transaction_read_is_not_kept(django_assert_num_queries):
    # given: the process's copy of 2026, read outside any transaction
    assert services.is_working_day(D(2026, 10, 1))
    # when: a transaction writes a holiday, reads it, and is rolled back
    seen_inside = []

    def write_read_and_fail():
        with transaction.atomic():
            CalendarDay.objects.create(date=D(2026, 10, 1), kind=DayKind.HOLIDAY, name="国庆节")
            seen_inside.append(services.is_working_day(D(2026, 10, 1)))
            raise RuntimeError

    with pytest.raises(RuntimeError):
        write_read_and_fail()
    assert seen_inside == [False]
    # then: the copy is the table's, and is kept between calls again
    assert services.is_working_day(D(2026, 10, 1))
    with django_assert_num_queries(0):
        assert services.is_working_day(D(2026, 10, 2))


def test_a_make_up_day_must_be_a_weekend_day():
    with pytest.raises(ValidationError, match="本来就是工作日"):
        check_day(D(2026, 10, 9), DayKind.WORKDAY)
    check_day(D(2026, 10, 10), DayKind.WORKDAY)
    check_day(D(2026, 10, 3), DayKind.HOLIDAY)  # a Saturday inside the span off


@pytest.mark.parametrize(
    "field, value",
    [("kind", "vacation"), ("source", "somewhere"), ("date", D(1999, 10, 1))],
)
def test_the_database_refuses_what_the_calendar_cannot_hold(db, field, value):
    values = {"date": D(2026, 10, 1), "kind": DayKind.HOLIDAY, "source": Source.MANUAL, field: value}
    with pytest.raises(IntegrityError), transaction.atomic():
        CalendarDay.objects.create(**values)


def test_the_admin_writes_are_audited_and_keep_history(db):
    row, created = services.save_day(D(2026, 10, 10), DayKind.WORKDAY, " 国庆节 ")
    assert created and row.name == "国庆节" and row.source == Source.MANUAL
    row, created = services.save_day(D(2026, 10, 10), DayKind.WORKDAY, "国庆节调休")
    assert not created
    services.delete_day(D(2026, 10, 10))
    assert services.delete_day(D(2026, 10, 10)) is None
    actions = [e.detail["action"] for e in AuditEvent.objects.filter(event_type="admin_action").order_by("id")]
    assert actions == ["workday_add", "workday_change", "workday_delete"]
    assert [h.history_type for h in CalendarDay.history.order_by("history_id")] == ["+", "~", "-"]
