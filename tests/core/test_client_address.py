"""The client's address behind the deployment's proxies (core.net.client_ip): believed from
X-Forwarded-For only when the request came from a trusted proxy (settings.TRUSTED_PROXIES),
read from the right past the trusted proxies, never one shared bucket when it cannot be
told; and the lockout, rate limits and audit trail all see the same address."""

import pytest
from django.test import RequestFactory

from audit.choices import EventType
from audit.models import AuditEvent
from core.net import client_address, client_ip

NGINX = "10.0.0.2"


@pytest.fixture
def behind_nginx(settings):
    settings.TRUSTED_PROXIES = [NGINX]
    return settings


def request_from(peer, forwarded=None):
    headers = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **headers)


def test_with_no_trusted_proxy_the_peer_is_the_client_whatever_the_header_says(settings):
    settings.TRUSTED_PROXIES = []
    assert client_ip(request_from("198.51.100.4", "203.0.113.9")) == "198.51.100.4"


def test_through_one_trusted_nginx_the_forwarded_address_is_the_client(behind_nginx):
    assert client_ip(request_from(NGINX, "203.0.113.9")) == "203.0.113.9"


def test_a_spoofed_left_hand_prefix_is_ignored(behind_nginx):
    # the client sent "X-Forwarded-For: 1.2.3.4"; nginx appended the address it saw
    assert client_ip(request_from(NGINX, "1.2.3.4, 203.0.113.9")) == "203.0.113.9"
    assert client_ip(request_from(NGINX, "garbage, 127.0.0.1, 203.0.113.9")) == "203.0.113.9"


def test_a_chain_of_trusted_proxies_given_as_networks_is_walked_from_the_right(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/24", "2001:db8::/32"]
    assert client_ip(request_from("10.0.0.2", "1.2.3.4, 203.0.113.9, 10.0.0.7, 2001:db8::1")) == "203.0.113.9"
    assert client_ip(request_from("10.0.0.2", "2001:db8:ffff::1, 2a00:1450::5")) == "2a00:1450::5"


def test_a_request_not_from_a_trusted_proxy_cannot_claim_an_address(behind_nginx):
    assert client_ip(request_from("198.51.100.4", "203.0.113.9")) == "198.51.100.4"


@pytest.mark.parametrize("forwarded", [None, "", "10.0.0.2", "not-an-address", "203.0.113.9:443"])
def test_an_address_that_cannot_be_told_is_none_and_never_a_shared_bucket(behind_nginx, forwarded):
    first, second = request_from(NGINX, forwarded), request_from(NGINX, forwarded)
    assert client_ip(first) is None
    # the rate limits' key: one per request, never one for every unresolvable request
    assert client_address(first) != client_address(second)
    assert client_address(first) == client_address(first)


def test_ipv4_mapped_ipv6_is_the_ipv4_address(settings):
    settings.TRUSTED_PROXIES = []
    assert client_ip(request_from("::ffff:198.51.100.4")) == "198.51.100.4"


def test_a_bad_trusted_proxies_setting_refuses_to_start(monkeypatch):
    import subprocess
    import sys

    env = {"TRUSTED_PROXIES": "10.0.0.0/24,nginx.local", "DJANGO_SETTINGS_MODULE": "config.settings"}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={**__import__("os").environ, **env},
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "TRUSTED_PROXIES: 'nginx.local'" in result.stderr


def test_the_lockout_the_captcha_and_the_audit_trail_see_the_forwarded_address(client, behind_nginx, staff_a, db):
    # given: failures at nonexistent accounts from one client behind nginx, each with a
    # different forged prefix
    for i in range(3):
        client.post(
            "/accounts/login/",
            {"username": f"nobody{i}", "password": "wrong-Password-1"},
            REMOTE_ADDR=NGINX,
            HTTP_X_FORWARDED_FOR=f"192.0.2.{i}, 203.0.113.9",
        )
    # then: the trail records the client's address, not nginx's nor the forged one
    failures = AuditEvent.objects.filter(event_type=EventType.LOGIN_FAILED)
    assert set(failures.values_list("ip_address", flat=True)) == {"203.0.113.9"}
    # and that address, and only it, is asked for a CAPTCHA
    page = client.get("/accounts/login/", REMOTE_ADDR=NGINX, HTTP_X_FORWARDED_FOR="203.0.113.9").content.decode()
    assert "captcha_key" in page
    other = client.get("/accounts/login/", REMOTE_ADDR=NGINX, HTTP_X_FORWARDED_FOR="203.0.113.10").content.decode()
    assert "captcha_key" not in other
