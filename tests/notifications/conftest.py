"""Fixtures for the notification tests: a fake WeCom/DingTalk robot on 127.0.0.1."""

import pytest

from tests.notifications.webhook_server import FakeRobotServer

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


@pytest.fixture
def webhook_server(settings, monkeypatch):
    """A started FakeRobotServer; the webhook senders accept its http://127.0.0.1 addresses
    (NOTIFICATIONS_ALLOW_LOCAL_WEBHOOKS), and no proxy from the environment stands between.
    Set `webhook_server.dingtalk_secret` to make it check the DingTalk signature."""
    settings.NOTIFICATIONS_ALLOW_LOCAL_WEBHOOKS = True
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    with FakeRobotServer() as server:
        yield server
