"""The login policy (等保 2.0 identity rules): lockout, idle expiry, session rotation,
disabled users, and the login log. Numbers come from settings.LOGIN_POLICY."""

import datetime

import time_machine
from django.conf import settings
from django.utils import timezone

from audit.choices import EventType
from audit.models import AuditEvent
from tests.conftest import PASSWORD

POLICY = settings.LOGIN_POLICY
LIMIT = POLICY["max_failures"]
LOCKED = 429


def post_login(client, username, password, **extra):
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)


def is_logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_it_shows_a_chinese_login_page(client, db):
    response = client.get("/accounts/login/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "登录名" in body and "密码" in body and "登录" in body
    assert f"连续输错密码 {LIMIT} 次将锁定 {POLICY['lockout_minutes']} 分钟" in body


def test_it_rejects_a_wrong_password_with_a_chinese_message(client, staff_a):
    response = post_login(client, "staff_a", "wrong-Password-1")
    assert response.status_code == 200
    assert "登录名或密码不正确" in response.content.decode()
    assert not is_logged_in(client)


def test_it_locks_an_account_after_the_policy_number_of_failures_from_any_address(client, staff_a):
    # given: failures from a different address each time
    statuses = [
        post_login(client, "staff_a", "wrong-Password-1", REMOTE_ADDR=f"10.0.0.{i}").status_code
        for i in range(1, LIMIT + 1)
    ]
    # then: the last failure triggers the lockout, and the right password from a fresh
    # address is refused
    assert statuses == [200] * (LIMIT - 1) + [LOCKED]
    response = post_login(client, "staff_a", PASSWORD, REMOTE_ADDR="10.0.0.99")
    assert response.status_code == LOCKED
    assert "账户已临时锁定" in response.content.decode()
    assert not is_logged_in(client)


def test_failures_at_many_accounts_from_one_address_lock_no_other_account(client, staff_a, staff_b):
    # (tests/accounts/test_lockout.py has the whole NAT story, with the CAPTCHA)
    for i in range(LIMIT):
        post_login(client, f"nobody{i}", "wrong-Password-1", REMOTE_ADDR="10.1.1.1")
    assert post_login(client, "staff_a", PASSWORD, REMOTE_ADDR="10.1.1.2").status_code == 302


def test_the_lockout_ends_after_the_policy_minutes(client, staff_a):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for i in range(LIMIT):
            post_login(client, "staff_a", "wrong-Password-1", REMOTE_ADDR=f"10.0.2.{i}")
        traveller.shift(datetime.timedelta(minutes=POLICY["lockout_minutes"] - 1))
        assert post_login(client, "staff_a", PASSWORD).status_code == LOCKED
        traveller.shift(datetime.timedelta(minutes=2))
        assert post_login(client, "staff_a", PASSWORD).status_code == 302
        assert is_logged_in(client)


def test_it_gives_a_new_session_key_at_login(client, staff_a):
    client.get("/accounts/login/")
    client.session.save()
    before = client.session.session_key
    assert before
    post_login(client, "staff_a", PASSWORD)
    assert is_logged_in(client)
    assert client.session.session_key != before


def test_a_session_expires_after_the_idle_minutes(client, staff_a):
    idle = datetime.timedelta(minutes=POLICY["idle_minutes"])
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        post_login(client, "staff_a", PASSWORD)
        # activity inside the window keeps the session alive
        traveller.shift(idle - datetime.timedelta(minutes=1))
        assert client.get("/tasks/mine/").status_code == 200
        traveller.shift(idle - datetime.timedelta(minutes=1))
        assert client.get("/tasks/mine/").status_code == 200
        # a full idle window later it is gone
        traveller.shift(idle + datetime.timedelta(seconds=1))
        response = client.get("/tasks/mine/")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_a_disabled_users_session_stops_working_at_once(client, staff_a):
    post_login(client, "staff_a", PASSWORD)
    assert client.get("/tasks/mine/").status_code == 200
    staff_a.is_active = False
    staff_a.save()
    response = client.get("/tasks/mine/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_disabled_user_cannot_log_in(client, staff_a):
    staff_a.is_active = False
    staff_a.save()
    response = post_login(client, "staff_a", PASSWORD)
    assert response.status_code == 200
    assert not is_logged_in(client)


def test_it_logs_every_login_failure_lockout_and_logout(client, staff_a):
    post_login(client, "staff_a", "wrong-Password-1", HTTP_USER_AGENT="pytest-browser")
    post_login(client, "staff_a", PASSWORD)
    client.post("/accounts/logout/")
    # (each failure from another address: this is about the log, not the CAPTCHA an
    # address with many failures gets)
    for i in range(LIMIT):
        post_login(client, "staff_a", "wrong-Password-1", REMOTE_ADDR=f"10.0.3.{i}")
    post_login(client, "staff_a", PASSWORD)

    logins = [EventType.LOGIN, EventType.LOGIN_FAILED, EventType.LOCKOUT, EventType.LOGIN_REFUSED, EventType.LOGOUT]
    events = list(AuditEvent.objects.filter(event_type__in=logins).order_by("id"))
    assert [e.event_type for e in events] == (
        [EventType.LOGIN_FAILED, EventType.LOGIN, EventType.LOGOUT]
        + [EventType.LOGIN_FAILED] * LIMIT
        + [EventType.LOCKOUT, EventType.LOGIN_REFUSED]
    )
    assert all(e.username == "staff_a" and e.user_id == staff_a.pk for e in events)
    assert all(e.ip_address and e.occurred_at is not None for e in events)
    assert events[0].detail["user_agent"] == "pytest-browser"


def test_logout_needs_a_post(client, staff_a):
    post_login(client, "staff_a", PASSWORD)
    # The access policy allows signing out by POST only: a GET is refused before the view.
    assert client.get("/accounts/logout/").status_code == 403
    assert is_logged_in(client)
