"""Refusals are security events: a 403 by the policy, a 404 for an object outside the
user's scope (and not for a mistyped id), a bad token, a CSRF failure are recorded with
who, from where, what and why; a scan cannot flood the trail; repeated refusals tell the
security admins; the audit admin finds them on the search page and in the export."""

import uuid

import pytest
from django.core import mail
from django.db import DatabaseError, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from api.models import ApiToken
from audit import denials
from audit.choices import EventType, Outcome
from audit.models import AuditEvent
from core.roles import Role
from notifications.choices import Rule
from notifications.models import Notification
from tests.conftest import make_user


@pytest.fixture(autouse=True)
def fresh_counts(monkeypatch):
    """Counts of this test's own (the cache outlives a test)."""
    monkeypatch.setattr(denials, "CACHE_PREFIX", f"test-denials:{uuid.uuid4().hex}")


@pytest.fixture
def limits(settings):
    def set_limits(max_per_window=10**9, alert_threshold=10**9):
        settings.AUDIT_DENIALS = {
            "max_per_window": max_per_window,
            "window_seconds": 600,
            "alert_threshold": alert_threshold,
            "alert_window_seconds": 600,
        }

    return set_limits


def refusals():
    return AuditEvent.objects.filter(event_type=EventType.ACCESS_DENIED).order_by("id")


def test_it_records_a_page_the_policy_refuses(client, staff_a):
    client.force_login(staff_a)

    response = client.get("/audit/", REMOTE_ADDR="198.51.100.7")

    assert response.status_code == 403
    (event,) = refusals()
    assert event.outcome == Outcome.DENIED
    assert (event.user_id, event.username, event.user_role) == (staff_a.pk, "staff_a", Role.STAFF)
    assert event.ip_address == "198.51.100.7"
    assert event.request_id == response["X-Request-ID"]
    assert event.object_repr == "GET /audit/"
    assert event.detail == {
        "reason": "policy",
        "reason_text": "角色无权访问此地址",
        "method": "GET",
        "path": "/audit/",
        "status": 403,
    }


def test_a_refused_post_is_recorded(client, staff_a, auditor):
    client.force_login(staff_a)
    response = client.post(f"/accounts/users/{auditor.pk}/role/", {"role": "staff"})
    assert response.status_code == 403
    (event,) = refusals()
    assert event.detail["method"] == "POST" and event.detail["reason"] == "policy"


@pytest.mark.django_db(transaction=True)
def test_a_refused_post_is_committed_on_its_own(client, staff_a, auditor):
    # Outside the request's transaction: on a real commit the row is there afterwards.
    client.force_login(staff_a)
    client.post(f"/accounts/users/{auditor.pk}/role/", {"role": "staff"})
    assert refusals().filter(user_id=staff_a.pk, detail__reason="policy").count() == 1


def test_an_object_outside_the_scope_answers_the_same_404_and_is_recorded(client, staff_outside, task):
    client.force_login(staff_outside)

    hidden = client.get(f"/api/v1/tasks/{task.pk}/")
    missing = client.get("/api/v1/tasks/999999/")

    # then: no id leaks, the answers are the same
    assert hidden.status_code == missing.status_code == 404
    assert hidden.content == missing.content
    # and only the existing one is a refusal
    (event,) = refusals()
    assert event.user_id == staff_outside.pk
    assert event.detail["reason"] == "scope"
    assert event.detail["path"] == f"/api/v1/tasks/{task.pk}/"
    assert event.detail["status"] == 404


def test_a_page_lookup_outside_the_scope_is_recorded_and_a_missing_id_is_not(client, staff_a, staff_b):
    others = Notification.objects.create(recipient=staff_b, rule=Rule.TASK_DUE, title="提醒", link="/tasks/mine/")
    client.force_login(staff_a)

    hidden = client.post(f"/notifications/{others.pk}/open/")
    missing = client.post(f"/notifications/{others.pk + 1000}/open/")

    assert hidden.status_code == missing.status_code == 404
    assert hidden.content == missing.content
    (event,) = refusals()
    assert (event.detail["reason"], event.detail["method"]) == ("scope", "POST")
    assert others.read_at is None


def test_revoking_someone_elses_token_is_a_refusal_with_the_same_404(client, staff_a, staff_b):
    token, _key = ApiToken.issue(staff_b, "同步脚本")
    client.force_login(staff_a)

    hidden = client.post(f"/api/tokens/{token.pk}/revoke/")
    missing = client.post(f"/api/tokens/{token.pk + 1000}/revoke/")

    assert hidden.status_code == missing.status_code == 404
    assert hidden.content == missing.content
    assert refusals().get().detail["reason"] == "scope"
    token.refresh_from_db()
    assert token.revoked_at is None


def test_a_missing_url_is_not_a_refusal(client, staff_a):
    client.force_login(staff_a)
    assert client.get("/no-such-page/").status_code == 404
    assert client.get("/api/v1/tasks/abc/").status_code == 404
    assert not refusals().exists()


def test_a_bad_token_is_recorded_with_its_reason_and_a_cut_escaped_path(client, db):
    path = "/api/v1/tasks/" + "\u202e" + "x" * 600 + "/"

    response = client.get(path, HTTP_AUTHORIZATION="Token wpt_" + "z" * 40, REMOTE_ADDR="203.0.113.5")

    assert response.status_code == 401
    (event,) = refusals()
    assert event.user_id is None and event.ip_address == "203.0.113.5"
    assert event.detail["reason"] == "token_invalid"
    assert event.detail["path"].startswith("/api/v1/tasks/\\u202exxx")
    assert "\u202e" not in event.detail["path"]
    assert event.detail["path"].endswith("x") and len(event.detail["path"]) == denials.PATH_MAX_CHARS + 5
    assert "wpt_" not in str(event.detail)


def test_an_anonymous_api_call_is_recorded_as_unauthenticated(client, db):
    assert client.get("/api/v1/tasks/").status_code == 401
    assert refusals().get().detail["reason"] == "unauthenticated"


def test_a_csrf_failure_is_recorded(staff_a):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff_a)
    assert browser.post("/notifications/read/", {"all": "1"}).status_code == 403
    assert refusals().get().detail["reason"] == "csrf"


def test_an_api_csrf_failure_is_recorded(staff_a):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff_a)
    response = browser.post("/api/v1/notifications/read-all/", content_type="application/json")
    assert response.status_code == 403
    assert refusals().get().detail["reason"] == "csrf"


def test_one_insert_per_recorded_refusal(client, staff_outside, task):
    client.force_login(staff_outside)
    client.get("/api/v1/tasks/999999/")  # sign-in and session bookkeeping out of the way
    with CaptureQueriesContext(connection) as missing:
        client.get("/api/v1/tasks/999998/")
    with CaptureQueriesContext(connection) as hidden:
        client.get(f"/api/v1/tasks/{task.pk}/")
    # The scope check runs on every 404; a refusal adds one INSERT and nothing else.
    assert len(hidden.captured_queries) == len(missing.captured_queries) + 1
    audit_queries = [q["sql"] for q in hidden.captured_queries if "audit_auditevent" in q["sql"]]
    assert len(audit_queries) == 1 and audit_queries[0].lstrip().upper().startswith("INSERT")


def test_a_record_that_cannot_be_written_does_not_change_the_answer(client, staff_a, monkeypatch, caplog):
    client.force_login(staff_a)
    expected = client.get("/audit/")

    def broken(*args, **kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(denials, "record", broken)
    response = client.get("/audit/")

    assert response.status_code == 403
    assert response.content == expected.content
    assert "refusal of GET /audit/ not recorded" in caplog.text


def test_a_scan_is_counted_not_written_row_by_row(client, staff_a, limits):
    # given: three refusals a window are written one by one
    limits(max_per_window=3)
    client.force_login(staff_a)

    # when: a scan of 13 refused pages
    for _ in range(13):
        assert client.get("/audit/").status_code == 403

    # then: 3 events, and summaries at 6 and 12 (2× and 4× the limit)
    events = list(refusals())
    assert len(events) == 5
    assert [e.detail.get("unwritten") for e in events] == [None, None, None, 3, 9]
    assert events[-1].object_repr == "另有 9 次拒绝未逐条记录"
    assert events[-1].detail["total"] == 12


def test_limits_count_each_source_and_reason_apart(client, staff_a, staff_b, limits):
    limits(max_per_window=2)
    for user in (staff_a, staff_b):
        client.force_login(user)
        for _ in range(3):
            client.get("/audit/")
    assert refusals().filter(user_id=staff_a.pk).count() == 2
    assert refusals().filter(user_id=staff_b.pk).count() == 2


def test_repeated_refusals_alert_the_security_admins_once(
    client, staff_a, security_admin, limits, django_capture_on_commit_callbacks
):
    security_admin.email = "sec@example.org"
    security_admin.save()
    limits(alert_threshold=5)
    client.force_login(staff_a)

    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(9):
            client.get("/audit/")

    (alert,) = AuditEvent.objects.filter(event_type=EventType.SECURITY_ALERT)
    assert alert.detail["kind"] == "repeated_denials" and alert.user_id == staff_a.pk
    (item,) = Notification.objects.filter(recipient=security_admin, rule=Rule.SECURITY_ALERT)
    assert item.title == "用户 staff_a 在 10 分钟内被拒绝访问 5 次"
    assert "GET /audit/" in item.body
    assert item.link == "/accounts/users/?q=staff_a"
    assert [m.to for m in mail.outbox] == [["sec@example.org"]]


def test_repeated_bad_tokens_from_one_address_alert_too(client, security_admin, limits):
    limits(alert_threshold=3)
    for _ in range(3):
        client.get("/api/v1/tasks/", HTTP_AUTHORIZATION="Token wpt_guess", REMOTE_ADDR="203.0.113.9")
    alert = AuditEvent.objects.get(event_type=EventType.SECURITY_ALERT)
    assert alert.detail["title"] == "地址 203.0.113.9 在 10 分钟内被拒绝访问 3 次"


def test_the_auditor_finds_refusals_and_exports_them(client, staff_a, auditor):
    client.force_login(staff_a)
    client.get("/audit/")
    client.force_login(auditor)

    page = client.get("/audit/", {"event_type": "access_denied", "outcome": "denied"})

    html = page.content.decode()
    assert page.status_code == 200
    assert "拒绝访问" in html and "staff_a" in html
    assert "GET /audit/" in html and "角色无权访问此地址" in html
    exported = b"".join(client.get("/audit/export/", {"event_type": "access_denied"}).streaming_content)
    text = exported.decode("utf-8-sig")
    assert "拒绝访问" in text and "/audit/" in text and "policy" in text


def test_pages_a_role_may_open_write_no_refusal(client, staff_a, auditor):
    client.force_login(staff_a)
    assert client.get("/tasks/mine/").status_code == 200
    client.force_login(auditor)
    assert client.get("/audit/").status_code == 200
    assert not refusals().exists()


def test_an_unsigned_page_visit_is_sent_to_sign_in_not_recorded(client, db):
    assert client.get("/audit/").status_code == 302
    assert not refusals().exists()


def test_another_security_admin_is_told_and_no_one_else(
    client, staff_a, security_admin, commission, admin_user, auditor, limits, django_capture_on_commit_callbacks
):
    second = make_user("security_2", Role.SECURITY, commission)
    limits(alert_threshold=2)
    client.force_login(staff_a)
    with django_capture_on_commit_callbacks(execute=True):
        client.get("/audit/")
        client.get("/audit/")
    told = set(Notification.objects.filter(rule=Rule.SECURITY_ALERT).values_list("recipient_id", flat=True))
    assert told == {security_admin.pk, second.pk}
