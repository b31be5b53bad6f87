"""Reminder settings (issue 19, everyday friction): a group robot channel (企业微信, 钉钉)
cannot be ticked where the user's agency has no such robot: the box is disabled with the
reason, and the server refuses it all the same."""

import re

import pytest

from notifications.choices import Channel
from notifications.models import Preference, Robot

URL = "/notifications/settings/"

pytestmark = pytest.mark.django_db


def checkbox(html: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    assert match, name
    return match.group(0)


@pytest.fixture
def dingtalk_robot(settings, agency_a):
    settings.NOTIFICATIONS_ALLOW_LOCAL_WEBHOOKS = True
    return Robot.objects.create(
        agency=agency_a,
        kind=Channel.DINGTALK,
        name="医政医管处工作群",
        webhook_url="https://oapi.dingtalk.com/robot/send?access_token=x1",
    )


def test_a_robot_the_agency_lacks_is_disabled_with_the_reason(client, staff_a, dingtalk_robot):
    client.force_login(staff_a)

    html = client.get(URL).content.decode()

    assert "disabled" in checkbox(html, "wecom")
    assert "disabled" not in checkbox(html, "dingtalk")
    wecom = html[html.index('name="wecom"') :]
    assert "本单位尚未配置该群机器人，暂不能选择" in wecom[: wecom.index("</div>")]


def test_the_server_refuses_a_robot_the_agency_lacks(client, staff_a, dingtalk_robot):
    staff_a.phone = "13800000001"
    staff_a.save()
    client.force_login(staff_a)

    response = client.post(URL, {"wecom": "on", "quiet_start": "22:00", "quiet_end": "08:00"})

    assert response.status_code == 200  # the form again, with the error
    assert "本单位尚未配置该群机器人，请联系系统管理员。" in response.content.decode()
    assert not Preference.objects.filter(user=staff_a).exists()


def test_a_setting_left_from_a_removed_robot_is_shown_off_and_saved_off(client, staff_a, dingtalk_robot):
    # given the user chose 钉钉 while the robot was there, and it has since been removed
    staff_a.phone = "13800000001"
    staff_a.save()
    Preference.objects.create(user=staff_a, dingtalk=True)
    dingtalk_robot.delete()
    client.force_login(staff_a)
    # when the settings page is opened and saved as it shows
    box = checkbox(client.get(URL).content.decode(), "dingtalk")
    response = client.post(URL, {"quiet_start": "22:00", "quiet_end": "08:00"})
    # then the box was disabled and unticked, and the save turns the channel off
    assert "disabled" in box and "checked" not in box
    assert response.status_code == 302
    assert Preference.objects.get(user=staff_a).dingtalk is False
