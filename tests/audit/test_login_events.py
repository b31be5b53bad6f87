"""Every login, failed login, lockout, refusal while locked and logout is one audit event
with who, when, from where and which request; a typed username cannot forge a line."""

import json

import pytest
from django.conf import settings

from audit.choices import EventType, Outcome
from audit.models import AuditEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LIMIT = settings.LOGIN_POLICY["max_failures"]


def post_login(client, username, password, **extra):
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)


def test_it_records_a_login_with_user_role_address_and_request_id(client, staff_a):
    # when staff_a logs in
    response = post_login(client, "staff_a", PASSWORD, REMOTE_ADDR="10.9.8.7")
    # then one 登录成功 event names the user, their role, the address and the request
    assert response.status_code == 302
    event = AuditEvent.objects.get(event_type=EventType.LOGIN)
    assert (event.user_id, event.username, event.user_role, event.ip_address, event.outcome) == (
        staff_a.pk,
        "staff_a",
        "staff",
        "10.9.8.7",
        Outcome.SUCCESS,
    )
    assert event.request_id == response["X-Request-ID"]
    assert event.get_event_type_display() == "登录成功"


def test_it_records_failures_the_lockout_the_refusal_and_the_logout_once_each(client, staff_a):
    # given staff_a logged in and out once
    post_login(client, "staff_a", PASSWORD)
    client.post("/accounts/logout/")
    # when someone guesses until locked, and tries once more
    for i in range(LIMIT):
        post_login(client, "staff_a", "wrong-password", REMOTE_ADDR=f"10.0.6.{i}")
    post_login(client, "staff_a", PASSWORD)
    # then the trail has each event exactly once, failures as 失败 and the lock as 拒绝
    kinds = list(AuditEvent.objects.order_by("id").values_list("event_type", "outcome"))
    logins = {EventType.LOGIN, EventType.LOGOUT, EventType.LOGIN_FAILED, EventType.LOCKOUT, EventType.LOGIN_REFUSED}
    assert [k for k in kinds if k[0] in logins] == [
        (EventType.LOGIN, Outcome.SUCCESS),
        (EventType.LOGOUT, Outcome.SUCCESS),
        *[(EventType.LOGIN_FAILED, Outcome.FAILURE)] * LIMIT,
        (EventType.LOCKOUT, Outcome.DENIED),
        (EventType.LOGIN_REFUSED, Outcome.DENIED),
    ]
    assert set(AuditEvent.objects.filter(event_type__in=logins).values_list("user_id", flat=True)) == {staff_a.pk}


@pytest.mark.parametrize(
    "typed, shown",
    [
        ("eve\r\n2026-01-01 登录成功 admin", "eve\\r\\n2026-01-01 登录成功 admin"),
        ("eve\u2028admin", "eve\\u2028admin"),
        # the login name is recorded as the lockout reads it (accounts.lockout.login_key):
        # invisible format characters such as the bidi override dropped, case folded
        ("eve\u202enimda", "evenimda"),
        ("eve\x85\x1b[2J\x7fx", "eve\\x85\\x1b[2j\\x7fx"),
    ],
)
def test_a_username_typed_at_a_failed_login_cannot_forge_a_line(client, db, audit_log, typed, shown):
    # when a visitor types a username carrying line breaks, controls or a bidi override
    post_login(client, typed, "whatever")
    # then the row and the log line show them as visible escapes, on one line
    event = AuditEvent.objects.get(event_type=EventType.LOGIN_FAILED)
    assert event.username == shown and event.user_id is None
    (line,) = [line for line in audit_log() if '"login_failed"' in line]
    assert "\n" not in line and "\r" not in line and "\u2028" not in line and "\u202e" not in line
    assert json.loads(line)["username"] == shown


def test_a_typed_username_that_grows_when_escaped_is_capped(client, db):
    # 150 characters the form accepts, each escaped to four
    post_login(client, "\x1b" * 150, "whatever")
    username = AuditEvent.objects.get(event_type=EventType.LOGIN_FAILED).username
    assert len(username) == 150 and username.startswith("\\x1b\\x1b")
