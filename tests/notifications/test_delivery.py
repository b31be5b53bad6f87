"""Sending reminders: inbox, email and group robots, once each; quiet hours; reminders
that no longer apply; retries with backoff, then a failure admins can see and resend."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.roles import Role
from notifications.choices import Channel, DeliveryState, Rule
from notifications.delivery import claim, send_batch, sendable_batches
from notifications.jobs import dispatch_deliveries, scan_reminders
from notifications.models import Delivery, Notification, Preference, Robot
from supervision.progress import report_progress
from tasks.choices import TaskStatus
from tasks.models import Task
from tests.conftest import make_task, make_user
from workdays.services import is_working_day

SHANGHAI = ZoneInfo("Asia/Shanghai")
D = datetime.date
DUE = D(2026, 6, 30)
SEVEN_BEFORE = D(2026, 6, 23)


def at(day, hour, minute=0):
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=SHANGHAI)


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Run beat's two jobs at a given moment, with their after-commit queueing."""

    def do(moment, *, scan=True):
        with time_machine.travel(moment, tick=False), django_capture_on_commit_callbacks(execute=True):
            if scan:
                scan_reminders.delay()
            else:
                dispatch_deliveries.delay()

    return do


@pytest.fixture
def due_task(plan, section, agency_a, agency_b, staff_a):
    staff_a.email = "staff_a@example.org"
    staff_a.phone = "13800000001"
    staff_a.save()
    return make_task(plan, section, "3", heading="推进分级诊疗", lead=agency_a, co_owners=[agency_b], due_on=DUE)


def test_the_inbox_item_and_the_email_go_out_once(run, due_task, staff_a, staff_b, settings):
    settings.SITE_URL = "https://dubanpingtai.example.org"
    run(at(SEVEN_BEFORE, 9))
    run(at(SEVEN_BEFORE, 9, 10))  # beat's next run
    run(at(SEVEN_BEFORE, 9, 11), scan=False)  # and the sender's sweep

    item = Notification.objects.get(recipient=staff_a)
    assert item.title == "任务还有7天到期：3. 推进分级诊疗"
    assert item.link == f"/tasks/{due_task.pk}/"
    assert "完成时限：2026-06-30" in item.body
    assert item.read_at is None
    # Only the lead agency's staff hear about a due date; the co-owner does not.
    assert not Notification.objects.filter(recipient=staff_b).exists()

    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["staff_a@example.org"]
    assert email.subject == "[督办平台] 任务还有7天到期：3. 推进分级诊疗"
    assert f"https://dubanpingtai.example.org/tasks/{due_task.pk}/" in email.body
    html, mimetype = email.alternatives[0]
    assert mimetype == "text/html"
    assert f'href="https://dubanpingtai.example.org/tasks/{due_task.pk}/"' in html
    assert set(Delivery.objects.values_list("state", flat=True)) == {DeliveryState.SENT}


def test_sending_the_same_batch_twice_sends_once(due_task, staff_a):
    with time_machine.travel(at(SEVEN_BEFORE, 9), tick=False):
        scan_reminders.apply()  # rows only: nothing queued outside a commit
        ids = list(Delivery.objects.values_list("pk", flat=True))
        first = send_batch(ids)
        second = send_batch(ids)
    assert first == {"sent": 2}
    assert second == {}
    assert len(mail.outbox) == 1
    assert Notification.objects.count() == 1


def test_several_reminders_for_one_person_come_in_one_email(run, plan, section, agency_a, staff_a):
    staff_a.email = "staff_a@example.org"
    staff_a.save()
    for n in range(3):
        make_task(plan, section, str(10 + n), lead=agency_a, due_on=DUE)
    run(at(SEVEN_BEFORE, 9))
    assert Notification.objects.filter(recipient=staff_a).count() == 3
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "[督办平台] 督办提醒：您有3条新提醒"
    assert mail.outbox[0].body.count("任务还有7天到期") == 3


def test_quiet_hours_hold_email_but_not_the_inbox_or_urgent_reminders(run, due_task, staff_a):
    Preference.objects.create(user=staff_a, quiet_start=datetime.time(21), quiet_end=datetime.time(9, 30))
    run(at(SEVEN_BEFORE, 8, 45))
    assert Notification.objects.filter(recipient=staff_a).count() == 1
    assert mail.outbox == []
    email_row = Delivery.objects.get(channel=Channel.EMAIL)
    assert email_row.not_before == at(SEVEN_BEFORE, 9, 30)
    run(at(SEVEN_BEFORE, 9, 29), scan=False)
    assert mail.outbox == []
    run(at(SEVEN_BEFORE, 9, 30), scan=False)
    assert len(mail.outbox) == 1

    # Due tomorrow is urgent: it goes at the day's sending time, quiet hours or not.
    run(at(D(2026, 6, 29), 8, 45))
    urgent = Delivery.objects.get(channel=Channel.EMAIL, day_offset=-1)
    assert urgent.urgent and urgent.state == DeliveryState.SENT
    assert len(mail.outbox) == 2


def test_nothing_goes_out_by_email_before_the_days_sending_time(run, due_task):
    run(at(SEVEN_BEFORE, 0, 5))
    assert Notification.objects.count() == 1  # the inbox at once
    assert mail.outbox == []
    run(at(SEVEN_BEFORE, 8, 30), scan=False)
    assert len(mail.outbox) == 1


def test_people_who_turned_email_off_or_have_no_address_get_only_the_inbox(run, due_task, staff_a, agency_a):
    Preference.objects.create(user=staff_a, email=False)
    make_user("no_address", Role.STAFF, agency_a)
    run(at(SEVEN_BEFORE, 9))
    assert Notification.objects.count() == 2
    assert mail.outbox == []
    assert not Delivery.objects.filter(channel=Channel.EMAIL).exists()


def test_a_reminder_that_no_longer_applies_is_cancelled_not_sent(run, due_task, staff_a):
    run(at(SEVEN_BEFORE, 7))  # email held until 08:30
    with time_machine.travel(at(SEVEN_BEFORE, 8), tick=False):
        task = Task.objects.get(pk=due_task.pk)
        report_progress(
            task.pk, staff_a, based_on_version=task.version, status=TaskStatus.DONE, percent=100, note="已完成"
        )
    run(at(SEVEN_BEFORE, 9), scan=False)
    email_row = Delivery.objects.get(channel=Channel.EMAIL)
    assert email_row.state == DeliveryState.CANCELLED
    assert email_row.last_error == "任务已完成"
    assert mail.outbox == []


def test_the_agency_group_robot_mentions_the_people_who_chose_it(run, due_task, staff_a, agency_a, webhook_server):
    webhook_server.dingtalk_secret = "SEC0123456789abcdef"
    Robot.objects.create(agency=agency_a, kind=Channel.WECOM, name="医政医管处群", webhook_url=webhook_server.wecom_url)
    Robot.objects.create(
        agency=agency_a,
        kind=Channel.DINGTALK,
        name="医政医管处钉钉群",
        webhook_url=webhook_server.dingtalk_url,
        secret="SEC0123456789abcdef",
    )
    Preference.objects.create(user=staff_a, wecom=True, dingtalk=True)
    make_user("quiet_colleague", Role.STAFF, agency_a, phone="13800000002")  # chose neither
    run(at(SEVEN_BEFORE, 9))

    (wecom,) = webhook_server.requests_for("wecom")
    assert wecom.body["text"]["mentioned_mobile_list"] == ["13800000001"]
    assert "任务还有7天到期：3. 推进分级诊疗" in wecom.body["text"]["content"]
    (dingtalk,) = webhook_server.requests_for("dingtalk")  # its signature was checked by the server
    assert dingtalk.answer == {"errcode": 0, "errmsg": "ok"}
    assert dingtalk.body["at"]["atMobiles"] == ["13800000001"]
    assert set(Delivery.objects.filter(robot__isnull=False).values_list("state", flat=True)) == {DeliveryState.SENT}


def test_a_failing_robot_is_retried_with_backoff_then_shown_to_admins(
    run, due_task, staff_a, agency_a, webhook_server, client, admin_user, login, django_capture_on_commit_callbacks
):
    Robot.objects.create(agency=agency_a, kind=Channel.WECOM, name="工作群", webhook_url=webhook_server.wecom_url)
    Preference.objects.create(user=staff_a, wecom=True)
    webhook_server.fail_next(5, status=502)
    moment = at(SEVEN_BEFORE, 9)
    run(moment)
    row = Delivery.objects.get(channel=Channel.WECOM)
    assert (row.state, row.attempts) == (DeliveryState.PENDING, 1)
    assert row.not_before == moment + datetime.timedelta(seconds=60)
    assert "502" in row.last_error

    # The sweep before the backoff has run out sends nothing; after it, it tries again.
    run(moment + datetime.timedelta(seconds=59), scan=False)
    assert len(webhook_server.requests_for("wecom")) == 1
    for delay in (60, 60 + 300, 60 + 300 + 1800, 60 + 300 + 1800 + 7200):
        run(moment + datetime.timedelta(seconds=delay), scan=False)
    row.refresh_from_db()
    assert (row.state, row.attempts) == (DeliveryState.FAILED, 5)
    assert row.last_error.startswith("重试5次仍未成功")
    assert len(webhook_server.requests_for("wecom")) == 5

    login(admin_user)
    page = client.get("/notifications/deliveries/")
    assert page.status_code == 200
    assert "重试5次仍未成功" in page.content.decode()
    # The robot works again: the admin resends, and it goes out once.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/notifications/deliveries/{row.pk}/retry/")
    row.refresh_from_db()
    assert row.state == DeliveryState.SENT
    assert len(webhook_server.requests_for("wecom")) == 6


def test_a_rejected_webhook_fails_at_once(run, due_task, staff_a, agency_a, webhook_server):
    Robot.objects.create(agency=agency_a, kind=Channel.WECOM, name="工作群", webhook_url=webhook_server.wecom_url)
    Preference.objects.create(user=staff_a, wecom=True)
    webhook_server.fail_next(errcode=93000, errmsg="invalid webhook url")
    run(at(SEVEN_BEFORE, 9))
    row = Delivery.objects.get(channel=Channel.WECOM)
    assert (row.state, row.attempts) == (DeliveryState.FAILED, 1)
    assert "93000" in row.last_error
    assert webhook_server.wecom_key not in row.last_error


def test_staff_and_leaders_cannot_see_or_resend_deliveries(client, login, staff_a, leader, due_task, run):
    run(at(SEVEN_BEFORE, 9))
    row = Delivery.objects.first()
    Delivery.objects.filter(pk=row.pk).update(state=DeliveryState.FAILED)
    for user in (staff_a, leader):
        client.logout()
        login(user)
        assert client.get("/notifications/deliveries/").status_code == 403
        assert client.post(f"/notifications/deliveries/{row.pk}/retry/").status_code == 403
    row.refresh_from_db()
    assert row.state == DeliveryState.FAILED


def test_a_claim_abandoned_by_a_dead_worker_is_sent_after_its_lease(run, due_task, settings):
    with time_machine.travel(at(SEVEN_BEFORE, 9), tick=False):
        scan_reminders.apply()
        ids = list(Delivery.objects.values_list("pk", flat=True))
        assert len(claim(ids, at(SEVEN_BEFORE, 9))) == 2  # then the worker dies
    run(at(SEVEN_BEFORE, 9, 5), scan=False)  # within the lease: left alone
    assert Notification.objects.count() == 0 and mail.outbox == []
    run(at(SEVEN_BEFORE, 9, 11), scan=False)
    assert Notification.objects.count() == 1 and len(mail.outbox) == 1
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {2}


def test_the_scan_runs_a_fixed_number_of_queries(plan, section, agency_a, agency_b, staff_a, staff_b):
    def queries_for(n, start):
        for i in range(n):
            make_task(plan, section, str(start + i), lead=agency_a, co_owners=[agency_b], due_on=DUE)
        Delivery.objects.all().delete()
        with time_machine.travel(at(SEVEN_BEFORE, 9), tick=False), CaptureQueriesContext(connection) as ctx:
            scan_reminders.apply()
        return len(ctx.captured_queries), Delivery.objects.count()

    # The scan asks whether the day is a working day: the calendar's year is read once per
    # transaction (workdays.services), so read it before counting.
    is_working_day(SEVEN_BEFORE)
    few, few_rows = queries_for(2, 100)
    many, many_rows = queries_for(40, 200)
    assert (few_rows, many_rows) == (2, 42)
    assert few == many <= 14


def test_a_batch_is_sent_in_a_fixed_number_of_queries(plan, section, agency_a, staff_a):
    def queries_for(n, start):
        for i in range(n):
            make_task(plan, section, str(start + i), lead=agency_a, due_on=DUE)
        with time_machine.travel(at(SEVEN_BEFORE, 9), tick=False):
            scan_reminders.apply()
            ids = list(Delivery.objects.filter(state=DeliveryState.PENDING).values_list("pk", flat=True))
            with CaptureQueriesContext(connection) as ctx:
                outcome = send_batch(ids)
        assert outcome == {"sent": n}
        return len(ctx.captured_queries)

    assert queries_for(2, 100) == queries_for(30, 200) <= 10


def test_one_report_reminder_per_person_counts_what_they_owe_across_plans(
    run, plan, other_plan, section, agency_a, agency_b, staff_a, staff_b, webhook_server
):
    make_task(plan, section, "1", lead=agency_a, due_on=D(2026, 12, 31))
    make_task(plan, section, "2", lead=agency_b, co_owners=[agency_a], due_on=D(2026, 12, 31))
    make_task(other_plan, None, "9", lead=agency_a, due_on=D(2026, 12, 31))
    Robot.objects.create(agency=agency_a, kind=Channel.WECOM, name="工作群", webhook_url=webhook_server.wecom_url)
    colleague = make_user("staff_a2", Role.STAFF, agency_a, phone="13800000002")
    for user in (staff_a, colleague):
        Preference.objects.create(user=user, wecom=True)
    staff_a.phone = "13800000001"
    staff_a.save()
    run(at(D(2026, 12, 22), 9))  # three days before the 25th, a Tuesday (not sent on a day off)
    (a,) = Notification.objects.filter(recipient=staff_a)
    (b,) = Notification.objects.filter(recipient=staff_b)
    assert a.rule == b.rule == Rule.REPORT_DUE
    assert a.title == "还有3天截止报送本期进展（2026-12-25）"
    assert a.body == "您还有3项任务（涉及2个计划）未报送本期进展。"
    assert b.body == "您还有1项任务（涉及1个计划）未报送本期进展。"
    assert a.link == "/tasks/mine/?reported=0"
    # The agency's group hears it once, with everyone who owes @-mentioned.
    (post,) = webhook_server.requests_for("wecom")
    assert post.body["text"]["mentioned_mobile_list"] == ["13800000001", "13800000002"]


def test_a_reminder_worded_once_still_says_what_the_task_says_when_it_goes_out(due_task, staff_a, agency_a):
    # given: two people are reminded of one task; the first one's reminder goes out first
    colleague = make_user("staff_a2", Role.STAFF, agency_a)
    with time_machine.travel(at(SEVEN_BEFORE, 9), tick=False):
        scan_reminders.apply()
        first, second = (
            list(Delivery.objects.filter(channel=Channel.INBOX, recipient=user).values_list("pk", flat=True))
            for user in (staff_a, colleague)
        )
        send_batch(first)
        # when: the task is renamed before the other one's goes out
        Task.objects.filter(pk=due_task.pk).update(heading="推进分级诊疗和家庭医生签约")
        send_batch(second)
    # then: each says the task as it was when it went out (the wording is shared, not stale)
    assert Notification.objects.get(recipient=staff_a).title == "任务还有7天到期：3. 推进分级诊疗"
    assert Notification.objects.get(recipient=colleague).title == "任务还有7天到期：3. 推进分级诊疗和家庭医生签约"


def test_inbox_rows_go_in_larger_batches_than_messages_and_no_email_is_split(
    plan, section, agency_a, staff_a, settings
):
    # given: 12 tasks due in 7 days for three staff of the lead agency, each with email:
    # 36 inbox rows and 36 email rows (12 per person)
    settings.REMINDERS = {**settings.REMINDERS, "batch_size": 5, "inbox_batch_size": 20}
    people = [staff_a, make_user("staff_a2", Role.STAFF, agency_a), make_user("staff_a3", Role.STAFF, agency_a)]
    for n, person in enumerate(people):
        person.email = f"a{n}@example.org"
        person.save()
    for n in range(12):
        make_task(plan, section, str(100 + n), lead=agency_a, due_on=DUE)
    with time_machine.travel(at(SEVEN_BEFORE, 9), tick=False):
        scan_reminders.apply()
        # when: the sender cuts the due rows into batches
        batches = sendable_batches(at(SEVEN_BEFORE, 9))
    channel_of = dict(Delivery.objects.values_list("pk", "channel"))
    recipient_of = dict(Delivery.objects.values_list("pk", "recipient_id"))
    inbox = [b for b in batches if {channel_of[pk] for pk in b} == {Channel.INBOX}]
    email = [b for b in batches if {channel_of[pk] for pk in b} == {Channel.EMAIL}]
    # then: every row is in one batch; inbox rows 20 at a time, not 5
    assert sorted(pk for b in batches for pk in b) == sorted(channel_of)
    assert [len(b) for b in inbox] == [20, 16]
    # and each person's email rows stay together (one email carries them): a batch closes
    # at the first new recipient after 5 rows, so each holds one person's 12
    assert [len(b) for b in email] == [12, 12, 12]
    assert all(len({recipient_of[pk] for pk in b}) == 1 for b in email)
