"""The audit admins' search page and export: auditors only, filters, bounded queries,
CSV with a BOM and .xlsx, formulas neutralised, and the export itself recorded."""

import csv
import datetime
import io

import pytest
from django.utils import timezone

from audit.choices import EventType, Outcome
from audit.models import AuditEvent
from audit.services import record
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

EVIL = '=HYPERLINK("http://evil")'


@pytest.fixture
def trail(db):
    record(EventType.LOGIN_FAILED, outcome=Outcome.FAILURE, username=EVIL, ip_address="10.0.0.9")
    record(EventType.EXPORT, username="leader", ip_address="10.0.0.1", object_type="dashboards.export", object_id=7)
    month_ago = timezone.now() - datetime.timedelta(days=30)
    AuditEvent(event_type=EventType.LOGIN, username="old", occurred_at=month_ago).save()
    return AuditEvent.objects.all()


@pytest.fixture
def auditor_client(client, auditor):
    client.force_login(auditor)
    return client


@pytest.mark.parametrize("persona", ["staff_a", "leader", "admin_user", "security_admin"])
@pytest.mark.parametrize("url", ["/audit/", "/audit/export/"])
def test_only_audit_admins_may_search_or_export(client, request, persona, url, trail):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(url).status_code == 403
    assert not AuditEvent.objects.filter(event_type=EventType.AUDIT_EXPORT).exists()


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get("/audit/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_page_lists_events_in_chinese_newest_first(auditor_client, trail):
    body = auditor_client.get("/audit/").content.decode()
    assert "安全审计记录" in body and "登录失败" in body and "导出" in body
    assert body.index("10.0.0.1") < body.index("10.0.0.9")  # newest first


@pytest.mark.parametrize(
    "query, usernames",
    [
        ("event_type=export", ["leader"]),
        ("outcome=failure", ['=HYPERLINK("http://evil")']),
        ("ip_address=10.0.0.1", ["leader"]),
        ("username=OLD", ["old"]),
        ("object_type=dashboards.export&object_id=7", ["leader"]),
    ],
)
def test_it_filters(auditor_client, trail, query, usernames):
    page = auditor_client.get(f"/audit/?{query}").context["page"]
    assert [e.username for e in page] == usernames


def test_it_filters_by_date_range_and_request_id(auditor_client, trail):
    today = timezone.localdate()
    start, end = today - datetime.timedelta(days=31), today - datetime.timedelta(days=29)
    page = auditor_client.get(f"/audit/?date_from={start}&date_to={end}").context["page"]
    assert [e.username for e in page] == ["old"]
    marked = AuditEvent(event_type=EventType.LOGIN, username="marked", request_id="req-12345678")
    marked.save()
    assert [e.username for e in auditor_client.get("/audit/?request_id=req-12345678").context["page"]] == ["marked"]


def test_bad_filters_get_a_chinese_message_and_no_rows(auditor_client, trail):
    response = auditor_client.get("/audit/?ip_address=not-an-ip&date_from=2026-02-01&date_to=2026-01-01")
    body = response.content.decode()
    assert response.status_code == 400
    assert "请输入有效的 IPv4 或 IPv6 地址" in body and "起始日期不能晚于截止日期" in body


def test_the_page_runs_a_bounded_number_of_queries(auditor_client, trail, django_assert_max_num_queries):
    for n in range(120):
        record(EventType.UPDATE, username=f"u{n}", object_type="tasks.task", object_id=n, detail={"changes": {}})
    with django_assert_max_num_queries(12):
        response = auditor_client.get("/audit/?page=2")
    assert response.status_code == 200 and len(response.context["page"].object_list) == 50


def _csv(response) -> list[list[str]]:
    raw = b"".join(response.streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel reads the Chinese right
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_the_csv_export_has_the_filtered_events_with_formulas_neutralised(auditor_client, auditor, trail):
    response = auditor_client.get("/audit/export/?outcome=failure")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = _csv(response)
    assert rows[0][:3] == ["时间", "事件类型", "结果"]
    assert len(rows) == 2
    assert rows[1][1:3] == ["登录失败", "失败"]
    assert rows[1][4] == '\'=HYPERLINK("http://evil")'
    # and the export is itself recorded, by the auditor, with the filter used
    exported = AuditEvent.objects.get(event_type=EventType.AUDIT_EXPORT)
    assert (exported.user_id, exported.detail["rows"], exported.detail["filters"]) == (
        auditor.pk,
        1,
        {"outcome": "failure"},
    )


def test_the_xlsx_export_writes_text_never_formulas(auditor_client, trail):
    from openpyxl import load_workbook

    events = AuditEvent.objects.count()
    response = auditor_client.get("/audit/export/?format=xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    cells = {cell.value: cell for row in sheet.iter_rows() for cell in row}
    evil = cells['=HYPERLINK("http://evil")']
    assert evil.data_type == "s" and evil.quotePrefix
    assert sheet.max_row == 1 + events  # the header, then every event but the export's own


def test_an_audit_admin_cannot_change_anything_through_the_pages(client, commission):
    auditor = make_user("auditor2", "auditor", commission, person_id="P-A2")
    client.force_login(auditor)
    assert client.post("/audit/").status_code in (403, 405)
    assert client.post("/audit/export/").status_code in (403, 405)
