"""A task heading (or any text a user typed) cannot plant a link, an image or formatting in
a WeCom or DingTalk group: robots are sent plain text messages, and any address in them
other than the site's own is defanged so the chat client does not make it clickable."""

import datetime
import json
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
import requests
import time_machine

from notifications.choices import Channel
from notifications.jobs import scan_reminders
from notifications.models import Preference, Robot
from notifications.robots import base, send_dingtalk, send_wecom
from tests.conftest import make_task

SHANGHAI = ZoneInfo("Asia/Shanghai")
DUE = datetime.date(2026, 6, 30)
SEVEN_BEFORE = datetime.datetime(2026, 6, 23, 9, 0, tzinfo=SHANGHAI)
SITE = "https://dubanpingtai.example.org"
WECOM_URL = "http://127.0.0.1:9/cgi-bin/webhook/send?key=0123456789abcdef"
DINGTALK_URL = "http://127.0.0.1:9/robot/send?access_token=0123456789abcdef"

HOSTILE_HEADINGS = [
    "[点我](http://evil.example/)![x](http://evil.example/a.png)",
    "<http://evil.example/>",
    '<a href="http://evil.example/">通知</a><font color="warning">紧急</font>',
    "推进\n# 假标题\n> 引用 [x]: https://evil.example/ref",
    "领奖 HTTPS://Evil.Example:8443/p?q=1 与 ftp://evil.example/f",
    f"{SITE}@evil.example/",
    "看这里\u202ecod.exe",
]


def robot_bodies(post: mock.MagicMock) -> list[dict]:
    return [call.kwargs["json"] for call in post.call_args_list]


def wire_text(body: dict) -> str:
    """Everything a chat client would show of one posted body."""
    return json.dumps(body, ensure_ascii=False)


@pytest.fixture
def robot_post(settings):
    """The robots' HTTP layer: every post answered "ok" by a robot that never exists."""
    settings.NOTIFICATIONS_ALLOW_LOCAL_WEBHOOKS = True
    answer = mock.create_autospec(requests.Response, instance=True)
    answer.status_code = 200
    answer.json.return_value = {"errcode": 0, "errmsg": "ok"}
    with mock.patch.object(base.requests, "post", autospec=True, return_value=answer) as post:
        yield post


def assert_no_link_or_image(body: dict) -> None:
    assert body["msgtype"] == "text"
    assert set(body) <= {"msgtype", "text", "at"}
    shown = wire_text(body)
    for scheme in ("http://", "https://", "ftp://"):
        assert scheme not in shown.lower().replace(SITE.lower() + "/", "")
    assert "\u202e" not in shown


@pytest.mark.parametrize("heading", HOSTILE_HEADINGS)
def test_it_sends_a_hostile_task_heading_to_both_robots_as_plain_text_without_a_link(
    heading, robot_post, settings, plan, section, agency_a, staff_a, django_capture_on_commit_callbacks
):
    # given: a task whose heading is written to look like a link, an image, a heading…
    settings.SITE_URL = SITE
    staff_a.phone = "13800000001"
    staff_a.save()
    task = make_task(plan, section, "3", heading=heading, lead=agency_a, due_on=DUE)
    Robot.objects.create(agency=agency_a, kind=Channel.WECOM, name="企业微信群", webhook_url=WECOM_URL)
    Robot.objects.create(agency=agency_a, kind=Channel.DINGTALK, name="钉钉群", webhook_url=DINGTALK_URL)
    Preference.objects.create(user=staff_a, wecom=True, dingtalk=True)

    # when: the reminder goes out
    with time_machine.travel(SEVEN_BEFORE, tick=False), django_capture_on_commit_callbacks(execute=True):
        scan_reminders.delay()

    # then: both groups get plain text, with the site's own link and no other
    bodies = robot_bodies(robot_post)
    assert sorted(b["msgtype"] for b in bodies) == ["text", "text"]
    for body in bodies:
        assert_no_link_or_image(body)
        assert f"{SITE}/tasks/{task.pk}/" in body["text"]["content"]
        # the words are still there to read
        assert ("evil" in heading.lower()) == ("evil" in body["text"]["content"].lower())


def test_a_dingtalk_message_with_a_title_is_plain_text_with_its_mentions(robot_post):
    send_dingtalk(
        DINGTALK_URL,
        "任务 [点我](http://evil.example/) ![x](http://evil.example/a.png)",
        title="督办提醒",
        at_mobiles=["13800001111"],
    )

    (body,) = robot_bodies(robot_post)
    assert_no_link_or_image(body)
    assert body["text"]["content"] == (
        "任务 [点我](http[:]//evil[.]example/) ![x](http[:]//evil[.]example/a.png)\n\n@13800001111"
    )
    assert body["at"] == {"atMobiles": ["13800001111"], "isAtAll": False}


def test_a_wecom_message_is_plain_text_with_foreign_addresses_defanged(robot_post, settings):
    settings.SITE_URL = SITE
    send_wecom(WECOM_URL, f"看 <http://evil.example/> 或 {SITE}/tasks/1/ 或 {SITE}.evil.example/")

    (body,) = robot_bodies(robot_post)
    assert_no_link_or_image(body)
    assert body["text"]["content"] == (
        f"看 <http[:]//evil[.]example/> 或 {SITE}/tasks/1/ 或 https[:]//dubanpingtai[.]example[.]org[.]evil[.]example/"
    )


def test_robot_text_drops_characters_that_reorder_or_hide_text():
    assert base.robot_text("a\u202eexe.gpj\u200b\u2066b\x07c\r\nd\te") == "aexe.gpjbc\nd\te"
