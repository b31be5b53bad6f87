"""The WeCom and DingTalk group-robot senders, against a fake robot on 127.0.0.1."""

import logging
import socket
import time
from unittest import mock
from urllib.parse import parse_qs, quote_plus

import pytest
import requests
from django.core.exceptions import ValidationError
from django.utils import translation

from notifications.robots import (
    DeliveryError,
    PermanentError,
    TransientError,
    dingtalk_sign,
    mask_webhook_url,
    send_dingtalk,
    send_wecom,
    truncate_utf8,
    validate_webhook_url,
)
from notifications.robots import base as webhooks

SECRET = "SEC1f0e2d3c4b5a69788796a5b4c3d2e1f0aa11bb22cc33dd44ee55ff66778899"
MOBILE_A = "13800001111"
MOBILE_B = "13900002222"


def send(kind, server, text="【督办提醒】任务 3.2 将于 5 月 31 日到期", **options):
    if kind == "wecom":
        return send_wecom(server.wecom_url, text, **options)
    return send_dingtalk(server.dingtalk_url, text, **options)


def url_of(kind, server):
    return server.wecom_url if kind == "wecom" else server.dingtalk_url


def token_of(kind, server):
    return server.wecom_key if kind == "wecom" else server.dingtalk_token


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- WeCom payloads -------------------------------------------------------------------


def test_it_sends_wecom_text_with_mentions_the_robot_accepts(webhook_server):
    # when
    send_wecom(webhook_server.wecom_url, "【督办提醒】请于本周五前报送进展", mentioned_mobiles=[MOBILE_A, MOBILE_B])

    # then
    request = webhook_server.last
    assert request.answer == {"errcode": 0, "errmsg": "ok"}
    assert request.method == "POST" and request.path == "/cgi-bin/webhook/send"
    assert request.headers["Content-Type"] == "application/json"
    assert request.body == {
        "msgtype": "text",
        "text": {"content": "【督办提醒】请于本周五前报送进展", "mentioned_mobile_list": [MOBILE_A, MOBILE_B]},
    }


def test_it_leaves_out_empty_and_repeated_mentions(webhook_server):
    send_wecom(webhook_server.wecom_url, "提醒", mentioned_mobiles=[" ", MOBILE_A, MOBILE_A + " "])
    assert webhook_server.last.body["text"] == {"content": "提醒", "mentioned_mobile_list": [MOBILE_A]}

    send_wecom(webhook_server.wecom_url, "提醒")
    assert webhook_server.last.body["text"] == {"content": "提醒"}
    assert webhook_server.last.answer["errcode"] == 0


def test_it_refuses_one_string_as_the_list_of_mobiles(webhook_server):
    with pytest.raises(TypeError):
        send_wecom(webhook_server.wecom_url, "提醒", mentioned_mobiles=MOBILE_A)
    assert webhook_server.requests == []


@pytest.mark.parametrize("prefix", ["", "a", "ab"])
def test_it_cuts_wecom_text_to_2048_bytes_on_a_character_boundary(webhook_server, prefix):
    # given: 3-byte characters after 0, 1 or 2 ASCII bytes, so the limit falls on every
    # byte position inside a character
    text = prefix + "督办任务进展" * 400

    # when
    send_wecom(webhook_server.wecom_url, text)

    # then
    content = webhook_server.last.body["text"]["content"]
    assert webhook_server.last.answer["errcode"] == 0
    assert len(content.encode("utf-8")) <= 2048
    assert len(content.encode("utf-8")) > 2048 - 3 - 3  # nothing more than one character lost
    assert content.endswith("…")
    assert text.startswith(content[:-1])


def test_it_sends_wecom_text_of_exactly_2048_bytes_whole(webhook_server):
    text = "督" * 682 + "ab"  # 2046 + 2 bytes
    send_wecom(webhook_server.wecom_url, text)
    assert webhook_server.last.body["text"]["content"] == text


def test_truncate_keeps_four_byte_characters_whole():
    text = "😀" * 10  # 40 bytes
    cut = truncate_utf8(text, 13)
    assert cut == "😀" * 2 + "…"  # 8 + 3 bytes; a third emoji would not fit beside the ellipsis
    assert truncate_utf8("短", 2048) == "短"


# --- DingTalk payloads ----------------------------------------------------------------


def test_it_sends_dingtalk_text_with_at_mobiles_the_robot_accepts(webhook_server):
    send_dingtalk(webhook_server.dingtalk_url, "【督办提醒】任务逾期", at_mobiles=[MOBILE_A])

    request = webhook_server.last
    assert request.answer == {"errcode": 0, "errmsg": "ok"}
    assert request.path == "/robot/send"
    assert request.body == {
        "msgtype": "text",
        # DingTalk shows an @ where the text has it: one the text lacks is added at its end.
        "text": {"content": f"【督办提醒】任务逾期\n\n@{MOBILE_A}"},
        "at": {"atMobiles": [MOBILE_A], "isAtAll": False},
    }
    assert "timestamp" not in request.query and "sign" not in request.query


def test_it_sends_dingtalk_text_even_with_a_title_and_the_mentions_in_the_text(webhook_server):
    # Never markdown: a task heading must not become a link or an image in the group
    # (tests/notifications/test_robot_escaping.py).
    send_dingtalk(
        webhook_server.dingtalk_url,
        f"### 本周到期任务\n- 任务 3.2 @{MOBILE_B}",
        title="督办提醒",
        at_mobiles=[MOBILE_A, MOBILE_B],
    )

    body = webhook_server.last.body
    assert webhook_server.last.answer["errcode"] == 0
    assert body["msgtype"] == "text"
    assert body["text"] == {"content": f"### 本周到期任务\n- 任务 3.2 @{MOBILE_B}\n\n@{MOBILE_A}"}
    assert body["at"] == {"atMobiles": [MOBILE_A, MOBILE_B], "isAtAll": False}


def test_it_signs_dingtalk_requests_and_the_robot_verifies_the_signature(webhook_server):
    # given
    webhook_server.dingtalk_secret = SECRET

    # when
    before = int(time.time() * 1000)
    send_dingtalk(webhook_server.dingtalk_url, "提醒", secret=SECRET)

    # then
    request = webhook_server.last
    assert request.answer == {"errcode": 0, "errmsg": "ok"}
    assert before <= int(request.query["timestamp"]) <= int(time.time() * 1000)
    # the signature is percent-encoded exactly once in the address
    raw = dict(pair.split("=", 1) for pair in request.raw_query.split("&"))
    assert raw["sign"] == quote_plus(dingtalk_sign(SECRET, int(request.query["timestamp"])))
    assert raw["access_token"] == webhook_server.dingtalk_token


def test_the_signature_follows_dingtalks_recipe():
    # base64(HMAC-SHA256(key=secret, msg="timestamp\nsecret")), as `openssl dgst -sha256 -hmac` computes it
    assert dingtalk_sign("SECtest", 1700000000000) == "aZLLrriXgn05YbwaGR7knYsLeJADjr9NwLaNNKpxh4g="


def test_a_signed_request_at_a_given_time_uses_that_time(webhook_server):
    webhook_server.dingtalk_secret = SECRET
    now_ms = int(time.time() * 1000) - 60_000
    send_dingtalk(webhook_server.dingtalk_url, "提醒", secret=SECRET, now_ms=now_ms)
    assert webhook_server.last.query["timestamp"] == str(now_ms)
    assert webhook_server.last.query["sign"] == dingtalk_sign(SECRET, now_ms)
    assert webhook_server.last.answer["errcode"] == 0


def test_a_wrong_secret_is_a_permanent_signature_error(webhook_server):
    webhook_server.dingtalk_secret = SECRET

    with pytest.raises(PermanentError) as caught:
        send_dingtalk(webhook_server.dingtalk_url, "提醒", secret="SECwrong0000000000000000")

    assert caught.value.reason == "钉钉机器人签名校验失败（errcode 310000）：请核对加签密钥"
    assert "SECwrong" not in caught.value.reason


def test_a_missing_secret_is_refused_by_a_signing_robot(webhook_server):
    webhook_server.dingtalk_secret = SECRET
    with pytest.raises(PermanentError) as caught:
        send_dingtalk(webhook_server.dingtalk_url, "提醒")
    assert "310000" in caught.value.reason


def test_a_stale_timestamp_asks_for_the_servers_clock(webhook_server):
    webhook_server.dingtalk_secret = SECRET
    two_hours_ago = int(time.time() * 1000) - 2 * 3600 * 1000

    with pytest.raises(PermanentError) as caught:
        send_dingtalk(webhook_server.dingtalk_url, "提醒", secret=SECRET, now_ms=two_hours_ago)

    assert "时钟" in caught.value.reason and "310000" in caught.value.reason


def test_a_message_without_the_robots_keyword_is_refused(webhook_server):
    webhook_server.dingtalk_keywords = ("督办",)

    with pytest.raises(PermanentError) as caught:
        send_dingtalk(webhook_server.dingtalk_url, "任务提醒")
    assert "关键词" in caught.value.reason and "310000" in caught.value.reason

    send_dingtalk(webhook_server.dingtalk_url, "督办提醒")
    assert webhook_server.last.answer["errcode"] == 0


# --- Outcomes -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["wecom", "dingtalk"])
def test_a_refused_connection_is_transient(kind, settings):
    settings.NOTIFICATIONS_ALLOW_LOCAL_WEBHOOKS = True
    port = closed_port()
    path = "/cgi-bin/webhook/send?key=" if kind == "wecom" else "/robot/send?access_token="
    url = f"http://127.0.0.1:{port}{path}0123456789abcdef0123"

    with pytest.raises(TransientError) as caught:
        (send_wecom if kind == "wecom" else send_dingtalk)(url, "提醒", timeout=2)

    assert "连不上" in caught.value.reason
    assert "0123456789abcdef0123" not in caught.value.reason


@pytest.mark.parametrize("kind", ["wecom", "dingtalk"])
def test_a_robot_slower_than_the_timeout_is_transient(kind, webhook_server):
    webhook_server.fail_next(delay=3)

    started = time.monotonic()
    with pytest.raises(TransientError) as caught:
        send(kind, webhook_server, timeout=0.3)

    assert time.monotonic() - started < 2
    assert "0.3 秒内没有应答" in caught.value.reason


@pytest.mark.parametrize("status", [500, 502, 503, 504])
@pytest.mark.parametrize("kind", ["wecom", "dingtalk"])
def test_server_errors_are_transient(kind, status, webhook_server):
    webhook_server.fail_next(status=status)
    with pytest.raises(TransientError) as caught:
        send(kind, webhook_server)
    assert f"HTTP {status}" in caught.value.reason


@pytest.mark.parametrize("kind", ["wecom", "dingtalk"])
def test_http_429_is_transient_with_the_robots_retry_after(kind, webhook_server):
    webhook_server.fail_next(status=429, headers={"Retry-After": "30"})
    with pytest.raises(TransientError) as caught:
        send(kind, webhook_server)
    assert "HTTP 429" in caught.value.reason
    assert caught.value.retry_after == 30

    webhook_server.fail_next(status=429)
    with pytest.raises(TransientError) as caught:
        send(kind, webhook_server)
    assert caught.value.retry_after is None


@pytest.mark.parametrize(
    "kind, errcode, errmsg, error, retry_after",
    [
        ("wecom", -1, "system busy", TransientError, None),
        ("wecom", 45009, "api freq out of limit", TransientError, 60),
        ("wecom", 45033, "api concurrent out of limit", TransientError, 60),
        ("wecom", 93000, "invalid webhook url, hint: [1755605200056773468916791]", PermanentError, None),
        ("wecom", 40008, "invalid message type", PermanentError, None),
        ("wecom", 40058, "text.content exceed max length 2048", PermanentError, None),
        ("wecom", 123456, "something new", PermanentError, None),
        ("dingtalk", -1, "系统繁忙", TransientError, None),
        ("dingtalk", 130101, "send too fast, exceed 20 times per minute", TransientError, 600),
        ("dingtalk", 410100, "发送速度太快而限流", TransientError, 600),
        ("dingtalk", 300001, "token is not exist", PermanentError, None),
        ("dingtalk", 300005, "token is not exist", PermanentError, None),
        ("dingtalk", 400013, "群已被解散", PermanentError, None),
        ("dingtalk", 400101, "access_token不存在", PermanentError, None),
        ("dingtalk", 400102, "机器人已停用", PermanentError, None),
        ("dingtalk", 400105, "不支持的消息类型", PermanentError, None),
        ("dingtalk", 400106, "机器人不存在", PermanentError, None),
        ("dingtalk", 430101, "含有不安全的外链", PermanentError, None),
        ("dingtalk", 310000, "sign not match, more: [https://ding-doc.dingtalk.com/doc]", PermanentError, None),
        ("dingtalk", 310000, "keywords not in content", PermanentError, None),
        ("dingtalk", 310000, "ip 203.0.113.9 not in whitelist", PermanentError, None),
        ("dingtalk", 310000, "something else", PermanentError, None),
        ("dingtalk", 999999, "something new", PermanentError, None),
    ],
)
def test_robot_errcodes_are_classified(kind, errcode, errmsg, error, retry_after, webhook_server):
    # given
    webhook_server.fail_next(errcode=errcode, errmsg=errmsg)

    # when
    with pytest.raises(DeliveryError) as caught:
        send(kind, webhook_server)

    # then
    assert type(caught.value) is error
    assert f"errcode {errcode}" in caught.value.reason
    assert caught.value.retry_after == retry_after
    assert caught.value.args == (caught.value.reason,)


SIGN_REASON = "钉钉机器人签名校验失败（errcode 310000）：请核对加签密钥"


@pytest.mark.parametrize(
    "errmsg, says",
    [
        ("sign not match", SIGN_REASON),
        ("description:机器人发送签名不匹配;solution:请确认签名和生成签名的时间戳必须都放在调用的网址中", SIGN_REASON),
        ("invalid timestamp", "请校准服务器时钟"),
        ("keywords not in content", "自定义关键词"),
        ("description:关键词不匹配", "自定义关键词"),
        ("ip 203.0.113.9 not in whitelist", "出口 IP"),
    ],
)
def test_dingtalk_security_refusals_each_say_what_to_fix(errmsg, says, webhook_server):
    webhook_server.fail_next(errcode=310000, errmsg=errmsg)
    with pytest.raises(PermanentError) as caught:
        send("dingtalk", webhook_server)
    assert says in caught.value.reason


@pytest.mark.parametrize("kind", ["wecom", "dingtalk"])
def test_an_answer_that_is_not_json_is_permanent(kind, webhook_server):
    webhook_server.fail_next(body="<html>portal login</html>", content_type="text/html")
    with pytest.raises(PermanentError) as caught:
        send(kind, webhook_server)
    assert "不是 JSON" in caught.value.reason


@pytest.mark.parametrize("kind", ["wecom", "dingtalk"])
def test_json_without_an_errcode_is_permanent(kind, webhook_server):
    webhook_server.fail_next(body='{"ok": true}', content_type="application/json")
    with pytest.raises(PermanentError) as caught:
        send(kind, webhook_server)
    assert "errcode" in caught.value.reason


@pytest.mark.parametrize("kind", ["wecom", "dingtalk"])
def test_an_address_that_does_not_exist_is_permanent(kind, webhook_server):
    url = url_of(kind, webhook_server).replace("/send?", "/sned?")
    with pytest.raises(PermanentError) as caught:
        (send_wecom if kind == "wecom" else send_dingtalk)(url, "提醒")
    assert "HTTP 404" in caught.value.reason
    assert webhook_server.last.status == 404


@pytest.mark.parametrize("status", [400, 401, 403, 405, 413])
def test_other_client_errors_are_permanent(status, webhook_server):
    webhook_server.fail_next(status=status)
    with pytest.raises(PermanentError) as caught:
        send("wecom", webhook_server)
    assert f"HTTP {status}" in caught.value.reason


def test_a_redirect_is_not_followed_and_is_permanent(webhook_server):
    webhook_server.fail_next(status=302, headers={"Location": "http://127.0.0.1:9/elsewhere"})
    with pytest.raises(PermanentError) as caught:
        send("dingtalk", webhook_server)
    assert "HTTP 302" in caught.value.reason
    assert len(webhook_server.requests) == 1


def test_the_robot_can_fail_then_recover(webhook_server):
    # given: what the engine's retry tests do
    webhook_server.fail_next(2, status=500)

    # when / then
    for _ in range(2):
        with pytest.raises(TransientError):
            send("wecom", webhook_server)
    send("wecom", webhook_server)
    assert [r.status for r in webhook_server.requests] == [500, 500, 200]
    assert webhook_server.last.answer == {"errcode": 0, "errmsg": "ok"}


# --- Secrets stay out of reasons and logs ---------------------------------------------


@pytest.mark.parametrize("kind", ["wecom", "dingtalk"])
def test_a_rejected_token_is_named_by_its_last_four_characters_only(kind, webhook_server):
    # given: an address whose key/access_token the robot does not know
    wrong = "f" * 28 + "9b7e"
    url = url_of(kind, webhook_server).replace(token_of(kind, webhook_server), wrong)

    # when
    with pytest.raises(PermanentError) as caught:
        (send_wecom if kind == "wecom" else send_dingtalk)(url, "提醒")

    # then
    assert "****9b7e" in caught.value.reason
    assert wrong not in caught.value.reason
    assert ("93000" if kind == "wecom" else "300001") in caught.value.reason


def test_an_errmsg_that_echoes_the_token_is_masked(webhook_server):
    token = webhook_server.dingtalk_token
    webhook_server.fail_next(errcode=999, errmsg=f"bad robot {token}")
    with pytest.raises(PermanentError) as caught:
        send("dingtalk", webhook_server)
    assert token not in caught.value.reason and "****" + token[-4:] in caught.value.reason


@pytest.mark.parametrize(
    "script",
    [
        {"status": 500},
        {"status": 429},
        {"status": 404},
        {"errcode": 310000, "errmsg": "sign not match"},
        {"errcode": 300001, "errmsg": "token is not exist"},
        {"body": "not json"},
        {"delay": 2},
    ],
)
def test_no_reason_or_log_line_holds_the_token_secret_or_signature(script, webhook_server, caplog):
    # given
    webhook_server.fail_next(**script)
    caplog.set_level(logging.DEBUG, logger="notifications.robots")

    # when
    with pytest.raises(DeliveryError) as caught:
        send_dingtalk(webhook_server.dingtalk_url, "提醒", secret=SECRET, timeout=0.5)

    # then
    sign = webhook_server.last.query["sign"]
    told = caught.value.reason + "\n" + caplog.text
    for secret_part in (webhook_server.dingtalk_token, SECRET, sign, quote_plus(sign)):
        assert secret_part not in told
    assert "****" + webhook_server.dingtalk_token[-4:] in caplog.text


def test_a_refused_connection_logs_no_token(settings, caplog):
    settings.NOTIFICATIONS_ALLOW_LOCAL_WEBHOOKS = True
    token = "0123456789abcdef0123456789abcdef"
    caplog.set_level(logging.DEBUG)
    with pytest.raises(TransientError):
        send_wecom(f"http://127.0.0.1:{closed_port()}/cgi-bin/webhook/send?key={token}", "提醒", timeout=2)
    assert token not in caplog.text


def test_mask_webhook_url():
    url = "https://oapi.dingtalk.com/robot/send?access_token=566cc69da782ec1234&timestamp=1&sign=abc%2B%3D"
    assert mask_webhook_url(url) == "https://oapi.dingtalk.com/robot/send?access_token=****1234"
    assert mask_webhook_url("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=short") == (
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=****"
    )


def test_reasons_follow_the_active_language(webhook_server):
    webhook_server.fail_next(errcode=310000, errmsg="sign not match")
    with translation.override("en"), pytest.raises(PermanentError) as caught:
        send("dingtalk", webhook_server)
    assert "310000" in caught.value.reason
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in caught.value.reason)


# --- Addresses ------------------------------------------------------------------------

WECOM_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7b2c-4bc4-97a0-0ec2f1fa5aaa"
DINGTALK_URL = "https://oapi.dingtalk.com/robot/send?access_token=566cc69da782ec7e5fa3c9b1e2d4f6a8"


@pytest.fixture
def production(settings):
    settings.DEBUG = False
    settings.NOTIFICATIONS_ALLOW_LOCAL_WEBHOOKS = False
    return settings


@pytest.mark.parametrize(
    "kind, url",
    [
        ("wecom", WECOM_URL),
        ("wecom", "  " + WECOM_URL + "\n"),
        ("wecom", WECOM_URL.replace("qyapi.weixin.qq.com", "QYAPI.weixin.qq.com:443")),
        ("dingtalk", DINGTALK_URL),
    ],
)
def test_official_addresses_are_valid(kind, url, production):
    validate_webhook_url(kind, url)


@pytest.mark.parametrize(
    "kind, url, code",
    [
        ("wecom", "", "required"),
        ("wecom", WECOM_URL.replace("https://", "http://"), "insecure"),
        ("wecom", "ftp://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc", "insecure"),
        ("wecom", WECOM_URL.replace("qyapi.weixin.qq.com", "qyapi.weixin.qq.com.evil.cn"), "host"),
        ("wecom", WECOM_URL.replace("qyapi.weixin.qq.com", "qyapi.weixin.qq.com@evil.cn"), "host"),
        ("wecom", WECOM_URL.replace("qyapi.weixin.qq.com", "qyapi.weixin.qq.com:8443"), "host"),
        ("wecom", WECOM_URL.replace("/send", "/upload_media"), "host"),
        ("wecom", DINGTALK_URL, "host"),
        ("dingtalk", WECOM_URL, "host"),
        ("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send", "token"),
        ("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=", "token"),
        ("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?access_token=abc", "token"),
        ("wecom", WECOM_URL + "&key=other", "token"),
        ("dingtalk", "https://oapi.dingtalk.com/robot/send?key=abc", "token"),
        ("dingtalk", DINGTALK_URL + "&timestamp=1700000000000&sign=abc", "signed"),
        ("wecom", WECOM_URL + "#top", "invalid"),
        ("wecom", WECOM_URL.replace("key=", "key= "), "invalid"),
        ("wecom", "http://127.0.0.1:8000/cgi-bin/webhook/send?key=abc", "insecure"),
        ("dingtalk", "http://localhost/robot/send?access_token=abc", "insecure"),
    ],
)
def test_other_addresses_are_refused_with_a_chinese_message(kind, url, code, production):
    with pytest.raises(ValidationError) as caught:
        validate_webhook_url(kind, url)
    assert caught.value.code == code
    message = caught.value.messages[0]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message)


def test_the_refusal_shows_the_expected_address(production):
    with pytest.raises(ValidationError) as caught:
        validate_webhook_url("dingtalk", "http://oapi.dingtalk.com/robot/send?access_token=abc")
    assert caught.value.messages == [
        "Webhook 地址须以 https:// 开头，例如 https://oapi.dingtalk.com/robot/send?access_token=…"
    ]


@pytest.mark.parametrize("switch", ["DEBUG", "NOTIFICATIONS_ALLOW_LOCAL_WEBHOOKS"])
@pytest.mark.parametrize(
    "kind, url",
    [
        ("wecom", "http://127.0.0.1:8000/cgi-bin/webhook/send?key=abc"),
        ("wecom", "http://127.0.0.1:51234/any/path?key=abc"),
        ("dingtalk", "http://localhost/robot/send?access_token=abc"),
        ("dingtalk", "https://localhost:8443/robot/send?access_token=abc"),
    ],
)
def test_local_addresses_are_valid_in_development_and_tests(kind, url, switch, production):
    setattr(production, switch, True)
    validate_webhook_url(kind, url)


@pytest.mark.parametrize(
    "kind, url, code",
    [
        ("wecom", "http://127.0.0.1:8000/cgi-bin/webhook/send", "token"),
        ("wecom", "http://127.0.0.2:8000/cgi-bin/webhook/send?key=abc", "insecure"),
        ("wecom", "http://10.0.0.5/cgi-bin/webhook/send?key=abc", "insecure"),
        ("dingtalk", "http://localhost:notaport/robot/send?access_token=abc", "invalid"),
        ("dingtalk", "ftp://localhost/robot/send?access_token=abc", "invalid"),
    ],
)
def test_local_addresses_still_need_their_token_and_host(kind, url, code, production):
    production.NOTIFICATIONS_ALLOW_LOCAL_WEBHOOKS = True
    with pytest.raises(ValidationError) as caught:
        validate_webhook_url(kind, url)
    assert caught.value.code == code


def test_an_unknown_kind_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown webhook kind 'feishu'"):
        validate_webhook_url("feishu", WECOM_URL)


@pytest.mark.parametrize(
    "kind, url",
    [
        ("wecom", "https://evil.example/cgi-bin/webhook/send?key=abc"),
        ("dingtalk", "http://oapi.dingtalk.com/robot/send?access_token=abc"),
        ("wecom", "http://127.0.0.1:8000/cgi-bin/webhook/send?key=abc"),
    ],
)
def test_an_invalid_address_is_permanent_and_never_fetched(kind, url, production):
    with (
        mock.patch.object(webhooks.requests, "post", autospec=True) as post,
        pytest.raises(PermanentError) as caught,
    ):
        (send_wecom if kind == "wecom" else send_dingtalk)(url, "提醒")
    post.assert_not_called()
    assert "机器人地址无效" in caught.value.reason


# --- The fake robot is as strict as the real ones -------------------------------------


@pytest.mark.parametrize(
    "payload, errcode",
    [
        ({"msgtype": "txt", "text": {"content": "x"}}, 40008),
        ({"msgtype": "text", "text": {}}, 40058),
        ({"msgtype": "text", "text": {"content": ""}}, 40058),
        ({"msgtype": "text", "text": {"content": "x", "mentioned_mobile_list": "13800001111"}}, 40058),
        ({"msgtype": "text", "text": {"content": "x", "mentioned_mobiles": ["13800001111"]}}, 40058),
        ({"msgtype": "text", "text": {"content": "督" * 683}}, 40058),
        ({"msgtype": "text", "text": {"content": "x"}, "at": {}}, 40058),
        ({"msgtype": "markdown", "markdown": {"content": "**督办**"}}, 0),
    ],
)
def test_the_fake_wecom_robot_checks_the_payload(payload, errcode, webhook_server):
    answer = requests.post(webhook_server.wecom_url, json=payload, timeout=5).json()
    assert answer["errcode"] == errcode


@pytest.mark.parametrize(
    "payload, errcode",
    [
        ({"msgtype": "txt", "text": {"content": "x"}}, 400105),
        ({"msgtype": "text", "text": {"content": ""}}, 40035),
        ({"msgtype": "text", "content": "x"}, 40035),
        ({"msgtype": "text", "text": {"content": "x"}, "at": {"atMobiles": "13800001111"}}, 40035),
        ({"msgtype": "text", "text": {"content": "x"}, "at": {"isAtAll": "false"}}, 40035),
        ({"msgtype": "markdown", "markdown": {"text": "x"}}, 40035),
        ({"msgtype": "markdown", "markdown": {"title": "t", "text": "x"}}, 0),
    ],
)
def test_the_fake_dingtalk_robot_checks_the_payload(payload, errcode, webhook_server):
    answer = requests.post(webhook_server.dingtalk_url, json=payload, timeout=5).json()
    assert answer["errcode"] == errcode


def test_the_fake_robot_wants_json_posts(webhook_server):
    answer = requests.post(webhook_server.wecom_url, data="msgtype=text", timeout=5)
    assert answer.json()["errcode"] != 0
    assert requests.get(webhook_server.wecom_url, timeout=5).status_code == 405
    assert parse_qs(webhook_server.requests[0].raw_query)["key"] == [webhook_server.wecom_key]


def test_every_robot_channel_has_its_transport_and_nothing_else_does():
    """A robot is a channel of notifications.choices and a module of notifications.robots:
    the delivery engine finds its transport by the channel's value, so the two lists agree."""
    from notifications.choices import ROBOT_CHANNELS
    from notifications.robots import TRANSPORTS

    assert set(TRANSPORTS) == {channel.value for channel in ROBOT_CHANNELS}
    for kind, transport in TRANSPORTS.items():
        assert transport.kind == kind and transport.example.startswith("https://")
