"""The pieces the fault tests rely on, each on its own and fast (no private servers; most
run on SQLite too): cache misses and short enqueue failures with Redis unreachable, the
503 on a lost database, the interrupted-send state, and the Redis eviction check."""

import datetime
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import checks
from django.core.handlers.exception import convert_exception_to_response
from django.db import InterfaceError, OperationalError

from config.outages import DatabaseOutageMiddleware, DatabaseOutageViewMiddleware
from core.checks import redis_maxmemory_policy
from notifications.choices import Channel, DeliveryState
from notifications.delivery import recover_stale_claims, send_batch
from notifications.jobs import scan_reminders
from notifications.models import Delivery, Preference, Robot
from tests.conftest import make_task

ROOT = Path(__file__).resolve().parent.parent.parent
SHANGHAI = ZoneInfo("Asia/Shanghai")
MOMENT = datetime.datetime(2026, 6, 23, 9, 0, tzinfo=SHANGHAI)  # seven days before 30 June


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again on leaving: nothing listens there


UNREACHABLE_REDIS = """
import json, time, django
django.setup()
from django.core.cache import cache
from core.jobs import enqueue
from notifications.jobs import dispatch_deliveries
started = time.monotonic()
cache.set("k", "v")
hit = cache.get("k", "miss")
cache_seconds = time.monotonic() - started
started = time.monotonic()
queued = enqueue(dispatch_deliveries)
print(json.dumps({"hit": hit, "cache_seconds": cache_seconds, "queued": queued,
                  "enqueue_seconds": time.monotonic() - started}))
"""


def test_it_treats_an_unreachable_redis_as_a_cache_miss_and_gives_up_queueing_quickly(tmp_path):
    # given: the settings as a deployment reads them, with nothing listening at REDIS_URL
    env = dict(
        os.environ,
        REDIS_URL=f"redis://127.0.0.1:{_closed_port()}/0",
        VAR_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    env.pop("DATABASE_URL", None)
    # when
    done = subprocess.run(
        [sys.executable, "-c", UNREACHABLE_REDIS], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    # then: the cache answers "not there" at once, and the job is reported not queued
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["hit"] == "miss" and result["cache_seconds"] < 3
    assert result["queued"] is False and result["enqueue_seconds"] < 5


# --- The database is gone: 503 ------------------------------------------------------------------


def _raising(error):
    def view(request):
        raise error

    return view


def test_a_view_that_loses_the_database_answers_503_with_retry_after_and_no_trace(rf):
    # given: the innermost middleware, as Django calls it for a view's exception
    middleware = DatabaseOutageViewMiddleware(_raising(OperationalError("server closed the connection")))
    # when
    page = middleware.process_exception(rf.get("/tasks/mine/"), OperationalError("server closed the connection"))
    api = middleware.process_exception(rf.get("/api/v1/tasks/"), InterfaceError("connection already closed"))
    # then
    assert page.status_code == 503 and page["Retry-After"].isdigit()
    body = page.content.decode()
    assert "数据库暂时无法连接" in body and "Traceback" not in body and "server closed" not in body
    assert api.status_code == 503 and api["Content-Type"] == "application/json"
    assert json.loads(api.content)["code"] == "database_unavailable"
    assert middleware.process_exception(rf.get("/"), ValueError("a bug")) is None  # a bug stays a 500


def test_a_middleware_that_loses_the_database_answers_503_not_500(rf, settings):
    # given: a layer below that fails on the database (loading the session, say), wrapped
    # the way Django wraps every middleware: its exception becomes a 500 right there
    settings.DEBUG = False
    failing = convert_exception_to_response(_raising(OperationalError("the database system is shutting down")))
    buggy = convert_exception_to_response(_raising(ZeroDivisionError()))
    # when
    outage = DatabaseOutageMiddleware(failing)(rf.get("/tasks/mine/"))
    bug = DatabaseOutageMiddleware(buggy)(rf.get("/tasks/mine/"))
    # then
    assert outage.status_code == 503 and outage["Retry-After"].isdigit()
    assert bug.status_code == 500


# --- A worker dies mid-send ---------------------------------------------------------------------


@pytest.fixture
def robot_reminders(plan, section, agency_a, staff_a, webhook_server):
    staff_a.phone = "13800000001"
    staff_a.save()
    Preference.objects.create(user=staff_a, email=False, wecom=True)
    Robot.objects.create(agency=agency_a, kind=Channel.WECOM, name="工作群", webhook_url=webhook_server.wecom_url)
    make_task(plan, section, "3", heading="推进分级诊疗", lead=agency_a, due_on=datetime.date(2026, 6, 30))
    with time_machine.travel(MOMENT, tick=False):
        scan_reminders(day="2026-06-23")
    return Delivery.objects.get(channel=Channel.WECOM)


def test_a_stale_claim_that_was_never_handed_over_goes_back_to_pending(robot_reminders, settings, webhook_server):
    # given: claimed by a worker that died before sending anything
    lease = settings.REMINDERS["claim_lease_seconds"]
    Delivery.objects.filter(pk=robot_reminders.pk).update(state=DeliveryState.SENDING, claimed_at=MOMENT, attempts=1)
    # when: the sweep runs before and after the lease
    recover_stale_claims(MOMENT + datetime.timedelta(seconds=lease - 1))
    robot_reminders.refresh_from_db()
    assert robot_reminders.state == DeliveryState.SENDING
    recover_stale_claims(MOMENT + datetime.timedelta(seconds=lease + 1))
    # then: it is sent again, once
    robot_reminders.refresh_from_db()
    assert robot_reminders.state == DeliveryState.PENDING
    send_batch([robot_reminders.pk], MOMENT + datetime.timedelta(seconds=lease + 2))
    robot_reminders.refresh_from_db()
    assert robot_reminders.state == DeliveryState.SENT
    assert len(webhook_server.requests_for("wecom")) == 1


def test_a_stale_claim_that_was_handed_over_is_flagged_for_an_admin_not_resent(
    robot_reminders, settings, webhook_server, client, login, admin_user, django_capture_on_commit_callbacks
):
    # given: the worker marked the message handed over, then died before the answer came
    lease = settings.REMINDERS["claim_lease_seconds"]
    Delivery.objects.filter(pk=robot_reminders.pk).update(
        state=DeliveryState.SENDING, claimed_at=MOMENT, handed_over_at=MOMENT, attempts=1
    )
    # when
    later = MOMENT + datetime.timedelta(seconds=lease + 1)
    recover_stale_claims(later)
    send_batch([robot_reminders.pk], later)
    # then: 发送中断, with the reason, and nothing sent
    robot_reminders.refresh_from_db()
    assert robot_reminders.state == DeliveryState.INTERRUPTED
    assert robot_reminders.last_error == "发送中断，可能已送达，请核实后手动重发"
    assert webhook_server.requests_for("wecom") == []
    # the admins' delivery log shows it by default, with the resend button, which sends it once
    login(admin_user)
    page = client.get("/notifications/deliveries/").content.decode()
    assert "发送中断，可能已送达" in page and f"/notifications/deliveries/{robot_reminders.pk}/retry/" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/notifications/deliveries/{robot_reminders.pk}/retry/")
    robot_reminders.refresh_from_db()
    assert robot_reminders.state == DeliveryState.SENT
    assert len(webhook_server.requests_for("wecom")) == 1


# --- Redis must not evict queued jobs ----------------------------------------------------------------


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (the PostgreSQL + Redis suite)")
def test_the_live_redis_does_not_evict(settings):
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    assert client.config_get("maxmemory-policy")["maxmemory-policy"] == "noeviction"
    assert redis_maxmemory_policy() == []


@pytest.mark.parametrize("production, level", [(True, checks.Warning), (False, checks.Info)])
def test_the_check_warns_about_an_evicting_redis(settings, production, level):
    settings.REDIS_URL, settings.PRODUCTION = "redis://redis.internal:6379/0", production
    with mock.patch("core.checks._maxmemory_policy", autospec=True, return_value="allkeys-lru"):
        found = redis_maxmemory_policy()
    assert [type(m) for m in found] == [level]
    assert "allkeys-lru" in found[0].msg and "noeviction" in found[0].hint


@pytest.mark.parametrize("policy", ["noeviction", None])  # None: CONFIG is disabled (managed Redis)
def test_the_check_is_quiet_when_redis_does_not_evict_or_will_not_say(settings, policy):
    settings.REDIS_URL, settings.PRODUCTION = "redis://redis.internal:6379/0", True
    with mock.patch("core.checks._maxmemory_policy", autospec=True, return_value=policy):
        assert redis_maxmemory_policy() == []


def test_the_check_is_registered_and_skips_without_redis(settings):
    settings.REDIS_URL = ""
    assert redis_maxmemory_policy in checks.registry.registry.registered_checks
    assert redis_maxmemory_policy() == []
