"""A reminder about a time node leaves the inbox's unread once the node is done (issue 19,
everyday friction): the header's count, the inbox's 未读 list and the API agree; a node
reopened asks again; reminders about anything else stay as they were."""

import datetime
import io

import pytest
import time_machine
from django.core.management import call_command

from notifications.choices import Rule
from notifications.models import Notification
from notifications.services import unread_count
from supervision.progress import report_progress
from tasks.models import Milestone
from tasks.services import reopen_milestone
from tests.conftest import make_task

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def today():
    # Tuesday 24 November 2026, 10:00 in Shanghai: a node due 1 December is 7 days off.
    with time_machine.travel(datetime.datetime(2026, 11, 24, 2, 0, tzinfo=datetime.UTC), tick=False):
        yield


@pytest.fixture
def reminded(plan, section, agency_a, staff_a):
    """A task of A due at the year's end with a node due in 7 days, and today's reminders sent."""
    task = make_task(plan, section, "1", lead=agency_a, due_on=datetime.date(2026, 12, 31))
    milestone = Milestone.objects.create(task=task, due_on=datetime.date(2026, 12, 1), text="完成全市摸底")
    call_command("send_reminders", stdout=io.StringIO())
    item = Notification.objects.get(recipient=staff_a, rule=Rule.MILESTONE_DUE)
    return task, milestone, item


def mark_done(task, milestone, user):
    task.refresh_from_db()
    report_progress(task.pk, user, based_on_version=task.version, note="摸底完成", milestone_ids=[milestone.pk])


def test_the_reminder_is_unread_until_the_node_is_done(client, staff_a, reminded):
    task, milestone, item = reminded
    other = Notification.objects.create(recipient=staff_a, rule=Rule.TASK_DUE, title="任务提醒")
    client.force_login(staff_a)
    before = unread_count(staff_a)  # with today's other reminders (报送) and `other`
    assert "完成全市摸底" in client.get("/notifications/?unread=true").content.decode()

    # when the lead reports the node done
    mark_done(task, milestone, staff_a)

    # then its reminder is no longer open anywhere; the other reminder is untouched
    assert unread_count(staff_a) == before - 1
    unread_page = client.get("/notifications/?unread=true").content.decode()
    assert "完成全市摸底" not in unread_page and "任务提醒" in unread_page
    inbox = client.get("/notifications/").content.decode()
    entry = inbox[inbox.rindex("<li", 0, inbox.index("完成全市摸底")) :]
    entry = entry[: entry.index("</li>")]
    assert "unread" not in entry.split(">", 1)[0] and "节点已完成，无需处理" in entry
    assert f'aria-label="未读">{before - 1}<' in inbox  # the header's count
    assert 'href="?unread=true"' in inbox  # the 未读 link asks for what the filter reads
    api = {row["id"] for row in client.get("/api/v1/notifications/?unread=true").json()["results"]}
    assert other.pk in api and item.pk not in api


def test_a_node_reopened_asks_again(staff_a, reminded):
    task, milestone, item = reminded
    mark_done(task, milestone, staff_a)
    assert not Notification.objects.filter(pk=item.pk).unread().exists()

    reopen_milestone(milestone.pk, staff_a, "复核发现摸底数据不全")

    assert Notification.objects.filter(pk=item.pk).unread().exists()


def test_a_reminder_already_read_stays_read(staff_a, reminded):
    task, milestone, item = reminded
    Notification.objects.filter(pk=item.pk).update(read_at=datetime.datetime(2026, 11, 24, 3, 0, tzinfo=datetime.UTC))
    mark_done(task, milestone, staff_a)
    item.refresh_from_db()
    assert item.read_at is not None
    assert not Notification.objects.filter(pk=item.pk).unread().exists()
