"""Every answer carries an X-Request-ID: the caller's when it is plain, else a new one."""

import re

import pytest

pytestmark = pytest.mark.django_db


def test_every_response_gets_a_request_id(client):
    first, second = client.get("/accounts/login/"), client.get("/accounts/login/")
    assert re.fullmatch(r"[A-Za-z0-9._-]{8,64}", first["X-Request-ID"])
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_a_plain_incoming_request_id_is_kept(client):
    response = client.get("/accounts/login/", headers={"X-Request-ID": "lb-2026.11_24-abcdef"})
    assert response["X-Request-ID"] == "lb-2026.11_24-abcdef"


@pytest.mark.parametrize("sent", ["short", "x" * 65, "abc def ghi", "abcdefgh\r\nX-Evil: 1", "请求编号一二三四五六"])
def test_an_incoming_request_id_that_is_not_plain_is_replaced(client, sent):
    response = client.get("/accounts/login/", HTTP_X_REQUEST_ID=sent)
    assert response["X-Request-ID"] != sent
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
