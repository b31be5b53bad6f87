"""The inbox page, the unread count in the header, reminder settings, and the leaders'
weekly digest."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.roles import Role
from indicators.models import Indicator, Reading
from notifications.choices import Channel, Rule
from notifications.jobs import scan_reminders
from notifications.models import Delivery, Notification, Preference, Robot
from tasks.models import Task
from tests.conftest import make_task

SHANGHAI = ZoneInfo("Asia/Shanghai")
D = datetime.date


def notify(user, n=1, **extra):
    return [
        Notification.objects.create(recipient=user, rule=Rule.TASK_DUE, title=f"提醒{i}", link="/tasks/mine/", **extra)
        for i in range(n)
    ]


def test_the_header_counts_unread_and_the_inbox_lists_only_mine(client, login, staff_a, staff_b):
    notify(staff_a, 3)
    notify(staff_b, 2)
    login(staff_a)
    page = client.get("/notifications/")
    html = page.content.decode()
    assert page.status_code == 200
    assert '<span class="badge" aria-label="未读">3</span>' in html
    assert html.count('class="notification unread"') == 3
    # The header also leads to the user's API tokens.
    assert 'href="/api/tokens/"' in html


def test_opening_an_item_marks_it_read_and_follows_its_link(client, login, staff_a):
    (item,) = notify(staff_a)
    login(staff_a)
    response = client.post(f"/notifications/{item.pk}/open/")
    assert response.status_code == 302 and response["Location"] == "/tasks/mine/"
    item.refresh_from_db()
    assert item.read_at is not None
    assert 'class="badge"' not in client.get("/notifications/").content.decode()


def test_an_item_never_links_off_site(client, login, staff_a):
    (item,) = notify(staff_a)
    Notification.objects.filter(pk=item.pk).update(link="https://evil.example.com/")
    login(staff_a)
    assert client.post(f"/notifications/{item.pk}/open/")["Location"] == "/notifications/"


def test_nobody_can_open_or_mark_someone_elses_items(client, login, staff_a, staff_b):
    (theirs,) = notify(staff_b)
    login(staff_a)
    assert client.post(f"/notifications/{theirs.pk}/open/").status_code == 404
    client.post("/notifications/read/", {"id": [theirs.pk, "9" * 40, "x"]})
    client.post("/notifications/read/", {"all": "1"})
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read(client, login, staff_a):
    notify(staff_a, 4)
    login(staff_a)
    response = client.post("/notifications/read/", {"all": "1"}, follow=True)
    assert "已将 4 条消息标为已读。" in response.content.decode()
    assert not Notification.objects.filter(recipient=staff_a, read_at__isnull=True).exists()


def test_the_inbox_page_runs_a_fixed_number_of_queries(client, login, staff_a):
    login(staff_a)
    notify(staff_a, 2)
    client.get("/notifications/")  # the header's work-list badge is counted once, then kept
    with CaptureQueriesContext(connection) as few:
        client.get("/notifications/")
    notify(staff_a, 40)
    with CaptureQueriesContext(connection) as many:
        client.get("/notifications/")
    assert len(few) == len(many) <= 8


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/notifications/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_settings_refuse_a_robot_the_agency_does_not_have_and_save_nothing(client, login, staff_a):
    login(staff_a)
    response = client.post(
        "/notifications/settings/", {"email": "", "wecom": "on", "quiet_start": "22:00", "quiet_end": "08:00"}
    )
    html = response.content.decode()
    assert "本单位尚未配置该群机器人，请联系系统管理员。" in html
    assert not Preference.objects.filter(user=staff_a).exists()


def test_settings_are_saved_and_audited(client, login, staff_a, agency_a, settings):
    settings.NOTIFICATIONS_ALLOW_LOCAL_WEBHOOKS = True
    Robot.objects.create(
        agency=agency_a,
        kind=Channel.DINGTALK,
        name="钉钉群",
        webhook_url="https://oapi.dingtalk.com/robot/send?access_token=x1",
    )
    staff_a.phone = "13800000001"
    staff_a.save()
    login(staff_a)
    response = client.post(
        "/notifications/settings/", {"dingtalk": "on", "quiet_start": "21:30", "quiet_end": "07:30"}, follow=True
    )
    assert "提醒设置已保存。" in response.content.decode()
    preference = Preference.objects.get(user=staff_a)
    assert (preference.email, preference.dingtalk, preference.quiet_start) == (False, True, datetime.time(21, 30))
    assert preference.history.get().history_user == staff_a


@pytest.fixture
def digest_world(plan, section, agency_a, agency_b, leader, staff_a):
    overdue = make_task(plan, section, "1", lead=agency_a, due_on=D(2026, 3, 31), heading="逾期的任务")
    make_task(plan, section, "2", lead=agency_b, due_on=D(2026, 12, 31), heading="按期的任务")
    indicator = Indicator.objects.create(
        plan=plan, task=overdue, name="预约诊疗率", comparator=">=", target=Decimal("65"), unit="%"
    )
    Reading.objects.create(
        indicator=indicator, plan=plan, value=Decimal("58.5"), as_of=D(2026, 4, 20), reporter=staff_a
    )
    return overdue


def test_leaders_get_a_weekly_digest_of_their_agencies(leader, digest_world, django_capture_on_commit_callbacks):
    monday = datetime.datetime(2026, 4, 20, 9, tzinfo=SHANGHAI)
    with time_machine.travel(monday, tick=False), django_capture_on_commit_callbacks(execute=True):
        scan_reminders.delay()
    digest = Notification.objects.get(recipient=leader, rule=Rule.LEADER_DIGEST)
    assert digest.title == "每周督办摘要（2026-04-20）：逾期1项，新增风险2项"
    assert "1 逾期的任务（2026-03-31）" in digest.body
    assert "预约诊疗率：58.5%（不低于 65%）" in digest.body
    assert "本期未报送的单位：2个" in digest.body
    assert digest.link == "/dashboard/"
    # What the next digest compares with stays on the inbox row, not in every copy.
    assert "at_risk_ids" not in digest.payload
    assert sorted(digest.delivery.payload["at_risk_ids"]) == sorted(Task.objects.values_list("pk", flat=True))

    # A week later the same tasks are no longer new.
    with (
        time_machine.travel(monday + datetime.timedelta(days=7), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        scan_reminders.delay()
    later = Notification.objects.filter(recipient=leader, rule=Rule.LEADER_DIGEST).order_by("-created_at").first()
    assert later.title == "每周督办摘要（2026-04-27）：逾期1项，新增风险0项"
    # Only on Mondays, and once.
    with time_machine.travel(monday + datetime.timedelta(days=8), tick=False):
        scan_reminders.delay()
    assert Delivery.objects.filter(rule=Rule.LEADER_DIGEST, channel=Channel.INBOX).count() == 2


def test_staff_get_no_digest(staff_a, digest_world):
    with time_machine.travel(datetime.datetime(2026, 4, 20, 9, tzinfo=SHANGHAI), tick=False):
        scan_reminders.delay()
    assert not Delivery.objects.filter(rule=Rule.LEADER_DIGEST).exclude(recipient__role=Role.LEADER).exists()


def test_the_scan_on_an_empty_database_writes_nothing(db):
    with time_machine.travel(datetime.datetime(2026, 4, 20, 9, tzinfo=SHANGHAI), tick=False):
        assert scan_reminders.apply().get() == 0
    assert not Delivery.objects.exists()


def test_the_command_runs_the_scan_and_the_digests_and_sends(leader, digest_world):
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    with time_machine.travel(datetime.datetime(2026, 4, 20, 9, tzinfo=SHANGHAI), tick=False):
        call_command("send_reminders", stdout=out)
    assert Notification.objects.filter(recipient=leader, rule=Rule.LEADER_DIGEST).count() == 1
    assert "已发送" in out.getvalue()
    with pytest.raises(CommandError, match="日期格式应为 YYYY-MM-DD"):
        call_command("send_reminders", "--day", "2026-02-30")
