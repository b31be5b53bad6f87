"""The calendar file: CSV `date,kind,name`, exported with a BOM, imported all or nothing."""

import datetime

import pytest

from audit.models import AuditEvent
from tests.workdays.conftest import add_days
from workdays import services
from workdays.choices import DayKind, Source
from workdays.files import CalendarFileError, export_calendar, import_calendar, read_calendar_file
from workdays.models import CalendarDay

D = datetime.date

pytestmark = pytest.mark.django_db

GOOD = """date,kind,name
2026-10-01,休,国庆节
2026-10-02,休,国庆节
2026-10-03,休,国庆节
2026-10-04,休,国庆节
2026-10-05,休,国庆节
2026-10-06,休,国庆节
2026-10-07,休,国庆节
2026-09-20,班,国庆节
2026-10-10,班,国庆节
"""


def calendar_state():
    return sorted(CalendarDay.objects.values_list("date", "kind", "name", "source"))


def test_the_export_is_utf8_with_a_bom_and_marks_the_kinds(national_day):
    data, rows = export_calendar([2026])
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0] == "date,kind,name"
    assert "2026-10-01,休,国庆节" in lines
    assert "2026-10-10,班,国庆节" in lines
    assert rows == len(lines) - 1 == 12


def test_the_export_never_hands_excel_a_formula(db):
    CalendarDay.objects.create(date=D(2026, 10, 1), kind=DayKind.HOLIDAY, name="=HYPERLINK(1)")
    data, _rows = export_calendar(None)
    assert "2026-10-01,休,'=HYPERLINK(1)" in data.decode("utf-8-sig")
    # ...and the importer takes the guard off again.
    assert read_calendar_file(data)[0].name == "=HYPERLINK(1)"


def test_a_good_file_replaces_the_years_it_names_and_leaves_the_others(db):
    # given: a 2026 day the file does not list, and a 2025 day
    add_days([(D(2026, 5, 1), DayKind.HOLIDAY, "劳动节"), (D(2025, 10, 1), DayKind.HOLIDAY, "国庆节")])
    # when
    result = import_calendar(GOOD.encode("utf-8"), filename="2026.csv")
    # then
    assert (result.years, result.added, result.changed, result.removed) == ([2026], 9, 0, 1)
    assert not CalendarDay.objects.filter(date=D(2026, 5, 1)).exists()
    assert CalendarDay.objects.filter(date=D(2025, 10, 1)).exists()
    assert CalendarDay.objects.get(date=D(2026, 10, 10)).kind == DayKind.WORKDAY
    assert set(CalendarDay.objects.filter(date__year=2026).values_list("source", flat=True)) == {Source.FILE}
    assert services.add_working_days(D(2026, 9, 30), 3) == D(2026, 10, 10)
    event = AuditEvent.objects.get(event_type="import")
    assert event.detail["years"] == [2026] and event.detail["added"] == 9 and event.detail["removed"] == 1
    assert event.detail["file"] == "2026.csv"


def test_an_exported_file_imports_back_unchanged(national_day):
    before = calendar_state()
    data, _rows = export_calendar([2026])
    result = import_calendar(data)
    assert (result.added, result.changed, result.removed, result.unchanged) == (0, 0, 0, 12)
    assert calendar_state() == before


def test_english_kinds_excel_dates_and_a_chinese_windows_encoding_are_read(db):
    text = "Date,Kind,Name\r\n2026/10/1,holiday,国庆节\r\n2026/10/10,WORKDAY,国庆节,,\r\n2026年10月2日,休,\r\n,,\r\n"
    rows = read_calendar_file(text.encode("gb18030"))
    assert [(r.date, r.kind, r.name) for r in rows] == [
        (D(2026, 10, 1), DayKind.HOLIDAY, "国庆节"),
        (D(2026, 10, 10), DayKind.WORKDAY, "国庆节"),
        (D(2026, 10, 2), DayKind.HOLIDAY, ""),
    ]


@pytest.mark.parametrize(
    "text, message",
    [
        (GOOD + "2026-13-01,休,国庆节\n", "第 11 行：日期“2026-13-01”无效"),
        (GOOD + "2026-10-11,假,国庆节\n", "第 11 行：类型“假”无法识别"),
        (GOOD + "2026-10-03,班,国庆节\n", "第 11 行：2026-10-03 与第 4 行重复"),
        (GOOD + "2026-10-09,班,国庆节\n", "第 11 行：2026-10-09 是周一至周五，本来就是工作日"),
        (GOOD + "1999-10-01,休,国庆节\n", "第 11 行：1999-10-01 不在 2000 至 2100 年之间"),
        (GOOD + "2026-10-11,休,国庆节,多余\n", "第 11 行：多出了第 4 列"),
        (GOOD + "2026-10-11\n", "第 11 行：应有日期和类型两项"),
        (GOOD + "2026-10-11,休," + "节" * 51 + "\n", "第 11 行：名称过长"),
        ("日期,类型,名称\n2026-10-01,休,国庆节\n", "第 1 行应是表头 date,kind,name"),
        ("", "文件是空的"),
        ("date,kind,name\n", "文件只有表头"),
        ("date,kind,name\n2026-10-01,休,\x00\n", "这不是 CSV 文本文件"),
    ],
    ids=[
        "bad-date",
        "unknown-kind",
        "duplicate-date",
        "make-up-day-on-a-weekday",
        "year-out-of-range",
        "extra-column",
        "no-kind",
        "name-too-long",
        "wrong-header",
        "empty",
        "header-only",
        "binary",
    ],
)
def test_a_bad_row_refuses_the_whole_file_and_changes_nothing(national_day, text, message):
    # given
    before = calendar_state()
    events = AuditEvent.objects.count()
    # when
    with pytest.raises(CalendarFileError) as refused:
        import_calendar(text.encode("utf-8"))
    # then
    assert any(message in error for error in refused.value.errors), refused.value.errors
    assert calendar_state() == before
    assert AuditEvent.objects.count() == events


def test_every_bad_row_is_listed_at_once(db):
    text = "date,kind,name\n2026-02-30,休,\n2026-10-09,班,\n2026-10-10,x,\n"
    with pytest.raises(CalendarFileError) as refused:
        read_calendar_file(text.encode("utf-8"))
    assert [error.split("：")[0] for error in refused.value.errors] == ["第 2 行", "第 3 行", "第 4 行"]


def test_a_file_too_large_is_refused_before_it_is_read(db):
    with pytest.raises(CalendarFileError, match="文件过大"):
        read_calendar_file(b"date,kind,name\n" + b"2026-10-01,holiday,x\n" * 20000)
