"""The login policy (等保 2.0 identity rules): lockout, idle expiry, session rotation,
disabled users, and the login log. Numbers come from settings.LOGIN_POLICY."""

import datetime
import threading

import pytest
import time_machine
from django.conf import settings
from django.db import connections
from django.test import Client
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


def test_it_shows_a_chinese_login_page(client):
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


def test_it_locks_an_address_after_failures_on_many_accounts(client, staff_a, staff_b):
    for i in range(LIMIT):
        post_login(client, f"nobody{i}", "wrong-Password-1", REMOTE_ADDR="10.1.1.1")
    # a real account, right password, but from the locked address
    assert post_login(client, "staff_a", PASSWORD, REMOTE_ADDR="10.1.1.1").status_code == LOCKED
    # the same account from another address is not locked
    assert post_login(client, "staff_a", PASSWORD, REMOTE_ADDR="10.1.1.2").status_code == 302


def test_a_forged_x_forwarded_for_does_not_dodge_the_address_lockout(client, staff_a):
    for i in range(LIMIT):
        post_login(client, f"nobody{i}", "wrong-Password-1", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}")
    response = post_login(client, "staff_a", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert response.status_code == LOCKED
    # and the log shows the real address, not the forged one
    failures = [EventType.LOGIN_FAILED, EventType.LOCKOUT, EventType.LOGIN_REFUSED]
    logins = AuditEvent.objects.filter(event_type__in=failures)
    assert logins.exists() and set(logins.values_list("ip_address", flat=True)) == {"127.0.0.1"}


def test_the_lockout_ends_after_the_policy_minutes(client, staff_a):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for _ in range(LIMIT):
            post_login(client, "staff_a", "wrong-Password-1")
        traveller.shift(datetime.timedelta(minutes=POLICY["lockout_minutes"] - 1))
        assert post_login(client, "staff_a", PASSWORD).status_code == LOCKED
        traveller.shift(datetime.timedelta(minutes=2))
        assert post_login(client, "staff_a", PASSWORD).status_code == 302
        assert is_logged_in(client)


@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_guesses_get_only_the_policy_number_of_password_checks(staff_a):
    # given: 20 guesses at one account fired at once from 20 addresses
    barrier = threading.Barrier(20)
    statuses = []

    def guess(i):
        client = Client()
        barrier.wait()
        try:
            statuses.append(post_login(client, "staff_a", f"guess-Password-{i}", REMOTE_ADDR=f"10.2.0.{i}").status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then: the password was checked exactly LIMIT times, every other guess was refused,
    # and the right password is refused too
    assert len(statuses) == 20
    assert statuses.count(200) == LIMIT - 1
    assert statuses.count(LOCKED) == 20 - (LIMIT - 1)
    assert AuditEvent.objects.filter(username="staff_a", event_type=EventType.LOGIN_FAILED).count() == LIMIT
    assert AuditEvent.objects.filter(username="staff_a", event_type=EventType.LOGIN_REFUSED).count() == 20 - LIMIT
    assert post_login(Client(), "staff_a", PASSWORD, REMOTE_ADDR="10.2.1.1").status_code == LOCKED


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
    for _ in range(LIMIT):
        post_login(client, "staff_a", "wrong-Password-1")
    post_login(client, "staff_a", PASSWORD)

    logins = [EventType.LOGIN, EventType.LOGIN_FAILED, EventType.LOCKOUT, EventType.LOGIN_REFUSED, EventType.LOGOUT]
    events = list(AuditEvent.objects.filter(event_type__in=logins).order_by("id"))
    assert [e.event_type for e in events] == (
        [EventType.LOGIN_FAILED, EventType.LOGIN, EventType.LOGOUT]
        + [EventType.LOGIN_FAILED] * LIMIT
        + [EventType.LOCKOUT, EventType.LOGIN_REFUSED]
    )
    assert all(e.username == "staff_a" and e.user_id == staff_a.pk for e in events)
    assert all(e.ip_address == "127.0.0.1" and e.occurred_at is not None for e in events)
    assert events[0].detail["user_agent"] == "pytest-browser"


def test_logout_needs_a_post(client, staff_a):
    post_login(client, "staff_a", PASSWORD)
    # The access policy allows signing out by POST only: a GET is refused before the view.
    assert client.get("/accounts/logout/").status_code == 403
    assert is_logged_in(client)
