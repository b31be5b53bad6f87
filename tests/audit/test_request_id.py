"""Every answer carries an X-Request-ID: a trusted proxy's when it is plain, else a new
one; a client's own X-Request-ID is kept apart in the audit detail, never as the id."""

import re

import pytest

from audit.choices import EventType
from audit.models import AuditEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

NGINX = "10.0.0.2"


@pytest.fixture
def behind_nginx(settings):
    settings.TRUSTED_PROXIES = [NGINX]
    return settings


def test_every_response_gets_a_request_id(client):
    first, second = client.get("/accounts/login/"), client.get("/accounts/login/")
    assert re.fullmatch(r"[A-Za-z0-9._-]{8,64}", first["X-Request-ID"])
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_a_plain_request_id_from_a_trusted_proxy_is_kept(client, behind_nginx):
    response = client.get("/accounts/login/", headers={"X-Request-ID": "lb-2026.11_24-abcdef"}, REMOTE_ADDR=NGINX)
    assert response["X-Request-ID"] == "lb-2026.11_24-abcdef"


def test_a_clients_own_request_id_is_not_the_id_and_is_kept_apart_in_the_trail(client, staff_a, behind_nginx):
    # given: a client (not the proxy) choosing the id of an earlier request, to blur the trail
    response = client.post(
        "/accounts/login/",
        {"username": "staff_a", "password": PASSWORD},
        headers={"X-Request-ID": "lb-2026.11_24-abcdef"},
        REMOTE_ADDR="198.51.100.4",
    )
    # then: the request has the server's own id, in the answer and in the trail ...
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    login = AuditEvent.objects.get(event_type=EventType.LOGIN)
    assert login.request_id == response["X-Request-ID"]
    # ... and what the client sent is kept beside it
    assert login.detail["client_request_id"] == "lb-2026.11_24-abcdef"


def test_a_clients_hostile_request_id_is_escaped_and_capped_in_the_trail(client, staff_a):
    sent = "abc\u2028forged line\u202e" + "x" * 200
    client.post("/accounts/login/", {"username": "staff_a", "password": PASSWORD}, HTTP_X_REQUEST_ID=sent)
    kept = AuditEvent.objects.get(event_type=EventType.LOGIN).detail["client_request_id"]
    assert "\u2028" not in kept and "\u202e" not in kept
    assert kept.startswith("abc\\u2028forged line\\u202e")
    assert len(kept) <= 64


def test_a_request_without_a_client_id_records_none(client, staff_a):
    client.post("/accounts/login/", {"username": "staff_a", "password": PASSWORD})
    assert "client_request_id" not in AuditEvent.objects.get(event_type=EventType.LOGIN).detail


@pytest.mark.parametrize("sent", ["short", "x" * 65, "abc def ghi", "abcdefgh\r\nX-Evil: 1", "请求编号一二三四五六"])
def test_an_incoming_request_id_that_is_not_plain_is_replaced(client, sent, behind_nginx):
    response = client.get("/accounts/login/", HTTP_X_REQUEST_ID=sent, REMOTE_ADDR=NGINX)
    assert response["X-Request-ID"] != sent
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
