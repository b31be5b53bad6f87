"""The calendar's pages: the system admin keeps it; leaders and supervisors look it up."""

import datetime

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from core.roles import Role
from tests.conftest import make_user
from workdays.choices import DayKind, Source
from workdays.models import CalendarDay

D = datetime.date

pytestmark = pytest.mark.django_db

CALENDAR = reverse("workdays:calendar")
DAY = reverse("workdays:day_edit")
DELETE = reverse("workdays:day_delete")
IMPORT = reverse("workdays:import")
EXPORT = reverse("workdays:export")


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture(autouse=True)
def in_june_2026():
    # "This year" is 2026 whatever the machine's clock says.
    with time_machine.travel(datetime.datetime(2026, 6, 1, 9, tzinfo=datetime.UTC), tick=False):
        yield


def test_the_admin_sees_the_year_with_its_holidays_and_make_up_days(admin_client, national_day):
    page = admin_client.get(CALENDAR, {"year": 2026})
    text = page.content.decode()
    assert page.status_code == 200
    assert "2026 年工作日历" in text
    assert "国庆节" in text and "中秋节" in text
    assert text.count('<td class="holiday"') == 10  # the ten days off in the grid
    assert '<td class="workday" title="国庆节">' in text
    assert f"{DAY}?date=2026-10-10" in text  # each day opens its form
    # 2027 has no calendar yet: the page says so.
    assert "2027 年的日历尚未录入" in text


def test_a_year_without_data_is_flagged(admin_client, national_day):
    text = admin_client.get(CALENDAR, {"year": 2027}).content.decode()
    assert "2027 年还没有节假日和调休数据" in text


def test_the_calendar_page_runs_a_fixed_number_of_queries(admin_client, national_day, django_assert_max_num_queries):
    admin_client.get(CALENDAR)  # the session's own first queries
    with django_assert_max_num_queries(8):
        page = admin_client.get(CALENDAR, {"year": 2026})
    assert page.status_code == 200


@pytest.mark.parametrize("role", [Role.LEADER, Role.SUPERVISOR])
def test_leaders_and_supervisors_read_but_cannot_write(client, commission, national_day, role):
    client.force_login(make_user(f"reader_{role}", role, commission))
    page = client.get(CALENDAR, {"year": 2026})
    assert page.status_code == 200
    assert DAY not in page.content.decode()  # no edit links
    assert client.get(EXPORT, {"year": 2026}).status_code == 200
    assert client.get(DAY).status_code == 403
    assert client.post(DAY, {"date": "2026-10-08", "kind": DayKind.HOLIDAY}).status_code == 403
    assert client.post(DELETE, {"date": "2026-10-01"}).status_code == 403
    assert client.post(IMPORT, {}).status_code == 403
    assert CalendarDay.objects.count() == 12


@pytest.mark.parametrize("persona", ["staff_a", "security_admin", "auditor"])
def test_others_cannot_even_read(client, request, national_day, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(CALENDAR).status_code == 403
    assert client.get(EXPORT).status_code == 403
    assert client.post(DAY, {"date": "2026-10-08", "kind": DayKind.HOLIDAY}).status_code == 403
    assert client.post(DELETE, {"date": "2026-10-01"}).status_code == 403
    assert CalendarDay.objects.count() == 12


def test_the_admin_adds_a_day(admin_client):
    page = admin_client.post(DAY, {"date": "2026-10-10", "kind": DayKind.WORKDAY, "name": "国庆节"})
    assert page.status_code == 302 and page["Location"] == f"{CALENDAR}?year=2026"
    day = CalendarDay.objects.get()
    assert (day.date, day.kind, day.name, day.source) == (D(2026, 10, 10), DayKind.WORKDAY, "国庆节", Source.MANUAL)
    event = AuditEvent.objects.get(event_type="admin_action")
    assert event.detail["action"] == "workday_add" and event.username == "admin"
    assert day.history.get().history_user.username == "admin"


def test_the_admin_changes_a_day_and_deletes_it(admin_client, national_day):
    form = admin_client.get(DAY, {"date": "2026-10-10"}).content.decode()
    assert "修改 2026-10-10" in form and 'value="国庆节"' in form
    assert 'type="hidden" name="date"' in form  # a day is changed, never moved
    page = admin_client.post(DAY, {"date": "2026-10-10", "kind": DayKind.WORKDAY, "name": "国庆节调休"})
    assert page.status_code == 302
    assert CalendarDay.objects.get(date=D(2026, 10, 10)).name == "国庆节调休"
    page = admin_client.post(DELETE, {"date": "2026-10-10"})
    assert page.status_code == 302
    assert not CalendarDay.objects.filter(date=D(2026, 10, 10)).exists()
    actions = list(AuditEvent.objects.filter(event_type="admin_action").values_list("detail__action", flat=True))
    assert sorted(actions) == ["workday_change", "workday_delete"]


def test_a_make_up_day_on_a_weekday_is_refused(admin_client):
    page = admin_client.post(DAY, {"date": "2026-10-09", "kind": DayKind.WORKDAY, "name": ""})
    assert page.status_code == 400
    assert "本来就是工作日" in page.content.decode()
    assert not CalendarDay.objects.exists()


def test_the_forms_carry_the_csrf_token(admin_user, national_day):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert client.post(DELETE, {"date": "2026-10-01"}).status_code == 403
    assert CalendarDay.objects.filter(date=D(2026, 10, 1)).exists()
    for url in (f"{CALENDAR}?year=2026", f"{DAY}?date=2026-10-01", IMPORT):
        assert "csrfmiddlewaretoken" in client.get(url).content.decode(), url


def upload(text, name="workdays-2026.csv"):
    return SimpleUploadedFile(name, ("\ufeff" + text).encode("utf-8"), content_type="text/csv")


def test_the_admin_imports_a_file(admin_client):
    text = "date,kind,name\n2026-10-01,休,国庆节\n2026-10-10,班,国庆节\n"
    page = admin_client.post(IMPORT, {"file": upload(text)})
    assert page.status_code == 302 and page["Location"] == f"{CALENDAR}?year=2026"
    assert CalendarDay.objects.count() == 2
    follow = admin_client.get(page["Location"]).content.decode()
    assert "已导入 2026 年的日历：新增 2 天" in follow


def test_a_bad_file_is_shown_with_its_lines_and_changes_nothing(admin_client, national_day):
    text = "date,kind,name\n2026-10-01,休,国庆节\n2026-10-09,班,国庆节\n2026-10-32,休,\n"
    page = admin_client.post(IMPORT, {"file": upload(text)})
    body = page.content.decode()
    assert page.status_code == 400
    assert "文件未导入，日历没有任何改动" in body
    assert "第 3 行" in body and "第 4 行" in body
    assert CalendarDay.objects.count() == 12


def test_the_export_is_a_csv_attachment_and_is_audited(admin_client, national_day):
    response = admin_client.get(EXPORT, {"year": 2026})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="workdays-2026.csv"'
    assert response.content.startswith(b"\xef\xbb\xbfdate,kind,name\r\n")
    event = AuditEvent.objects.get(event_type="export")
    assert event.detail["rows"] == 12 and event.detail["years"] == [2026]


def test_the_admin_finds_the_calendar_in_the_navigation(admin_client):
    assert f'href="{CALENDAR}"' in admin_client.get(reverse("workplans:plan_list")).content.decode()
