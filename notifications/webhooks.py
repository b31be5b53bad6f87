"""Send reminders to agencies' group-chat robots: WeCom (企业微信) and DingTalk (钉钉) webhooks.

Each send is one HTTP POST with an explicit timeout and no retries: the delivery engine
retries a TransientError with backoff and records a PermanentError for the admins. Every
reason is a short Chinese sentence for the failed-delivery page; no reason or log line ever
carries a robot's secret, the request signature, or its key/access_token in full.

Formats and error codes: WeCom 群机器人 https://developer.work.weixin.qq.com/document/path/91770
and the WeCom global error codes (path/90313); DingTalk 自定义机器人
https://open.dingtalk.com/document/orgapp/custom-robots-send-group-messages and its
security settings (加签, keywords, IP list), which all answer errcode 310000.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import hmac
import logging
import time
from collections.abc import Mapping, Sequence
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

logger = logging.getLogger(__name__)

WECOM = "wecom"
DINGTALK = "dingtalk"

WECOM_HOST = "qyapi.weixin.qq.com"
WECOM_PATH = "/cgi-bin/webhook/send"
DINGTALK_HOST = "oapi.dingtalk.com"
DINGTALK_PATH = "/robot/send"
# The query parameter that carries each robot's credential.
TOKEN_PARAMS = {WECOM: "key", DINGTALK: "access_token"}
OFFICIAL = {WECOM: (WECOM_HOST, WECOM_PATH), DINGTALK: (DINGTALK_HOST, DINGTALK_PATH)}
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})

# WeCom refuses text content over 2048 bytes of UTF-8 (errcode 40058).
WECOM_TEXT_MAX_BYTES = 2048
ELLIPSIS = "…"
# How much of a robot's own errmsg goes into a reason; theirs run to 300 characters of hints.
ERRMSG_MAX_CHARS = 120
# Suggested waits (seconds) for the engine's backoff when the robot says "too fast": WeCom
# counts 20 messages a minute per robot; DingTalk also 20 a minute, then blocks for 10 minutes.
WECOM_RATE_LIMIT_WAIT = 60
DINGTALK_RATE_LIMIT_WAIT = 600

TRANSIENT = "transient"
PERMANENT = "permanent"

# errcode -> (class, reason). Codes not listed here are permanent: the robot did answer and
# refused the message, and sending the same message again will not change its mind.
WECOM_ERRCODES = {
    -1: (TRANSIENT, gettext_lazy("企业微信系统繁忙（errcode -1），稍后重试")),
    45009: (TRANSIENT, gettext_lazy("企业微信机器人发送太频繁（errcode 45009，每个机器人每分钟最多 20 条），稍后重试")),
    45033: (TRANSIENT, gettext_lazy("企业微信接口并发调用超过限制（errcode 45033），稍后重试")),
    93000: (
        PERMANENT,
        gettext_lazy(
            "企业微信机器人地址无效（errcode 93000，key %(token)s）："
            "机器人可能已被移出群聊，请在群设置的群机器人中重新复制 Webhook 地址"
        ),
    ),
    40008: (PERMANENT, gettext_lazy("企业微信机器人不接受此消息类型（errcode 40008）")),
    40058: (PERMANENT, gettext_lazy("企业微信机器人拒绝了消息内容（errcode 40058）：%(errmsg)s")),
}
DINGTALK_ERRCODES = {
    -1: (TRANSIENT, gettext_lazy("钉钉系统繁忙（errcode -1），稍后重试")),
    130101: (TRANSIENT, gettext_lazy("钉钉机器人发送太频繁（errcode 130101，每分钟最多 20 条），稍后重试")),
    410100: (TRANSIENT, gettext_lazy("钉钉机器人发送太频繁被限流（errcode 410100），稍后重试")),
    300001: (
        PERMANENT,
        gettext_lazy("钉钉机器人 access_token 不存在（errcode 300001，%(token)s）：请在群设置中重新复制 Webhook 地址"),
    ),
    300005: (
        PERMANENT,
        gettext_lazy("钉钉机器人 access_token 不存在（errcode 300005，%(token)s）：请在群设置中重新复制 Webhook 地址"),
    ),
    400013: (PERMANENT, gettext_lazy("钉钉群已解散（errcode 400013）：请为该单位配置新的群机器人")),
    400101: (
        PERMANENT,
        gettext_lazy("钉钉机器人 access_token 不存在（errcode 400101，%(token)s）：请在群设置中重新复制 Webhook 地址"),
    ),
    400102: (PERMANENT, gettext_lazy("钉钉机器人已停用（errcode 400102）：请群管理员重新启用")),
    400105: (PERMANENT, gettext_lazy("钉钉机器人不支持此消息类型（errcode 400105）")),
    400106: (PERMANENT, gettext_lazy("钉钉机器人不存在（errcode 400106）：请确认机器人仍在群里")),
    430101: (PERMANENT, gettext_lazy("钉钉拒绝了消息：含有不安全的外链（errcode 430101）")),
    430102: (PERMANENT, gettext_lazy("钉钉拒绝了消息：含有不合适的文本（errcode 430102）")),
    430103: (PERMANENT, gettext_lazy("钉钉拒绝了消息：含有不合适的图片（errcode 430103）")),
    430104: (PERMANENT, gettext_lazy("钉钉拒绝了消息：含有不合适的内容（errcode 430104）")),
}
# DingTalk answers 310000 for every security-setting refusal; its errmsg says which one,
# in English ("sign not match") or, lately, in Chinese ("机器人发送签名不匹配"). The first
# marker found wins, so the signature comes before the timestamp the Chinese text also names.
DINGTALK_SECURITY_REASONS = (
    (("sign not match", "签名不匹配"), gettext_lazy("钉钉机器人签名校验失败（errcode 310000）：请核对加签密钥")),
    (
        ("invalid timestamp", "timestamp", "时间戳"),
        gettext_lazy("钉钉机器人拒绝了请求时间戳（errcode 310000）：请校准服务器时钟（误差须在 1 小时内）"),
    ),
    (
        ("keywords not in content", "keyword", "关键词"),
        gettext_lazy("钉钉机器人关键词不匹配（errcode 310000）：消息中没有机器人安全设置里的自定义关键词"),
    ),
    (
        ("whitelist", "白名单"),
        gettext_lazy("钉钉机器人拒绝了本服务器的 IP（errcode 310000）：请把服务器出口 IP 加入机器人的 IP 地址段"),
    ),
)


class DeliveryError(Exception):
    """reason: a short Chinese message shown to admins on the failed-delivery page.

    retry_after: the robot's own hint, in seconds, of when to try again (a 429's
    Retry-After, or the documented rate-limit window); None when it gave none.
    """

    def __init__(self, reason: str, *, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class TransientError(DeliveryError):
    """Retry later with backoff: connection refused, timeouts, 5xx, 429, rate limits."""


class PermanentError(DeliveryError):
    """Give up now: bad URL, rejected token, bad signature, keyword mismatch, refused content."""


# --- URLs -----------------------------------------------------------------------------


def _local_webhooks_allowed() -> bool:
    return bool(settings.DEBUG or getattr(settings, "NOTIFICATIONS_ALLOW_LOCAL_WEBHOOKS", False))


def validate_webhook_url(kind: str, url: str) -> None:
    """Raise ValidationError unless url is the official robot address for kind ("wecom" or
    "dingtalk") over https with its key/access_token; with DEBUG or
    NOTIFICATIONS_ALLOW_LOCAL_WEBHOOKS, http(s)://127.0.0.1 or localhost on any port and path
    is accepted too (the tests' fake robot)."""
    if kind not in OFFICIAL:
        raise ValueError(f"unknown webhook kind {kind!r}")
    host, path = OFFICIAL[kind]
    token_param = TOKEN_PARAMS[kind]
    example = f"https://{host}{path}?{token_param}=…"
    url = (url or "").strip()
    if not url:
        raise ValidationError(gettext_lazy("请填写机器人的 Webhook 地址。"), code="required")
    if any(ch.isspace() or ord(ch) < 0x20 for ch in url):
        raise ValidationError(gettext_lazy("Webhook 地址中不能有空格或控制字符。"), code="invalid")
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    hostname = (parts.hostname or "").lower()
    local = _local_webhooks_allowed() and hostname in LOCAL_HOSTS
    if local:
        if parts.scheme not in {"http", "https"} or port == -1:
            raise ValidationError(gettext_lazy("本机测试地址须为 http://127.0.0.1:端口/… 的形式。"), code="invalid")
    else:
        if parts.scheme != "https":
            raise ValidationError(
                gettext_lazy("Webhook 地址须以 https:// 开头，例如 %(example)s"),
                code="insecure",
                params={"example": example},
            )
        if hostname != host or parts.path != path or port not in (None, 443) or parts.username or parts.password:
            raise ValidationError(
                gettext_lazy("这不是%(kind)s机器人的官方地址，应为 %(example)s"),
                code="host",
                params={"kind": _kind_label(kind), "example": example},
            )
    if parts.fragment:
        raise ValidationError(gettext_lazy("Webhook 地址不能带 # 片段。"), code="invalid")
    query = parse_qs(parts.query, keep_blank_values=True)
    tokens = query.get(token_param, [])
    if len(tokens) != 1 or not tokens[0].strip():
        raise ValidationError(
            gettext_lazy("Webhook 地址缺少 %(param)s 参数，请从群机器人设置中完整复制，例如 %(example)s"),
            code="token",
            params={"param": token_param, "example": example},
        )
    if kind == DINGTALK and ("timestamp" in query or "sign" in query):
        raise ValidationError(
            gettext_lazy("请去掉地址中的 timestamp 和 sign 参数：系统每次发送时按加签密钥自动生成。"),
            code="signed",
        )


def mask_token(token: str) -> str:
    """The last four characters of a key/access_token, for telling robots apart in reasons."""
    return "****" + token[-4:] if len(token) >= 12 else "****"


def mask_webhook_url(url: str) -> str:
    """url with its key/access_token shortened to the last four characters and any
    signature or timestamp removed, fit for logs and admin pages."""
    parts = urlsplit(url)
    pairs = []
    for name, values in parse_qs(parts.query, keep_blank_values=True).items():
        if name in {"sign", "timestamp"}:
            continue
        for value in values:
            pairs.append((name, mask_token(value) if name in TOKEN_PARAMS.values() else value))
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(pairs, safe="*"), ""))


def _token_of(kind: str, url: str) -> str:
    values = parse_qs(urlsplit(url).query).get(TOKEN_PARAMS[kind], [""])
    return values[0]


def _kind_label(kind: str) -> str:
    return _("企业微信") if kind == WECOM else _("钉钉")


# --- Messages -------------------------------------------------------------------------


def truncate_utf8(text: str, max_bytes: int, ellipsis: str = ELLIPSIS) -> str:
    """text cut to at most max_bytes of UTF-8, on a character boundary, ending in the
    ellipsis when anything was cut."""
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    room = max_bytes - len(ellipsis.encode("utf-8"))
    # A cut inside a multi-byte character leaves an incomplete tail, which "ignore" drops.
    return encoded[: max(room, 0)].decode("utf-8", "ignore") + ellipsis


def _clean_mobiles(mobiles: Sequence[str]) -> list[str]:
    if isinstance(mobiles, str):
        raise TypeError("mobiles must be a sequence of strings, not one string")
    seen: dict[str, None] = {}
    for mobile in mobiles:
        mobile = str(mobile).strip()
        if mobile:
            seen.setdefault(mobile, None)
    return list(seen)


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk 加签: base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}")), before URL
    encoding (requests encodes it once as a query parameter)."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def send_wecom(url: str, text: str, *, mentioned_mobiles: Sequence[str] = (), timeout: float = 10) -> None:
    """Post text to a WeCom group robot, @-mentioning the members with these mobile numbers.
    Text over 2048 bytes of UTF-8 is cut and ends in "…"."""
    _check_url(WECOM, url)
    content: dict[str, object] = {"content": truncate_utf8(text, WECOM_TEXT_MAX_BYTES)}
    mobiles = _clean_mobiles(mentioned_mobiles)
    if mobiles:
        content["mentioned_mobile_list"] = mobiles
    _post(WECOM, url, {"msgtype": "text", "text": content}, params=None, timeout=timeout)


def send_dingtalk(
    url: str,
    text: str,
    *,
    secret: str = "",
    title: str = "",
    at_mobiles: Sequence[str] = (),
    timeout: float = 10,
    now_ms: int | None = None,
) -> None:
    """Post to a DingTalk custom robot: plain text, or markdown when a title is given (the
    title is what the chat list shows). With a secret the request is signed (加签) with the
    time now_ms (milliseconds; now by default). The members with these mobile numbers are
    @-mentioned; markdown only shows an @ that is in its text, so one is added there."""
    _check_url(DINGTALK, url)
    mobiles = _clean_mobiles(at_mobiles)
    if title:
        missing = [m for m in mobiles if f"@{m}" not in text]
        body_text = text + ("\n\n" + " ".join(f"@{m}" for m in missing) if missing else "")
        payload: dict[str, object] = {"msgtype": "markdown", "markdown": {"title": title, "text": body_text}}
    else:
        payload = {"msgtype": "text", "text": {"content": text}}
    payload["at"] = {"atMobiles": mobiles, "isAtAll": False}
    params = None
    if secret:
        timestamp = int(time.time() * 1000) if now_ms is None else int(now_ms)
        params = {"timestamp": str(timestamp), "sign": dingtalk_sign(secret, timestamp)}
    _post(DINGTALK, url, payload, params=params, timeout=timeout)


# --- Transport and outcomes -----------------------------------------------------------


def _check_url(kind: str, url: str) -> None:
    # The engine validates when the address is saved; checking again here means an address
    # stored before a rule changed (or typed into the admin) is never fetched.
    try:
        validate_webhook_url(kind, url)
    except ValidationError as exc:
        detail = "；".join(str(m) for m in exc.messages)
        raise PermanentError(
            _("%(kind)s机器人地址无效：%(detail)s") % {"kind": _kind_label(kind), "detail": detail}
        ) from None


def _post(kind: str, url: str, payload: Mapping[str, object], *, params, timeout: float) -> None:
    label = _kind_label(kind)
    masked = mask_webhook_url(url)
    try:
        response = requests.post(url, json=payload, params=params, timeout=timeout, allow_redirects=False)
    except requests.Timeout:
        logger.warning("%s webhook %s timed out after %ss", kind, masked, timeout)
        raise TransientError(
            _("%(kind)s机器人在 %(timeout)s 秒内没有应答，稍后重试") % {"kind": label, "timeout": f"{timeout:g}"}
        ) from None
    except requests.exceptions.SSLError:
        logger.warning("%s webhook %s: TLS handshake failed", kind, masked)
        raise TransientError(_("与%(kind)s服务器的 TLS 握手失败，稍后重试") % {"kind": label}) from None
    except requests.ConnectionError:
        # The exception's text names the full URL with its token, so it goes nowhere.
        logger.warning("%s webhook %s: connection failed", kind, masked)
        raise TransientError(_("连不上%(kind)s服务器（连接被拒绝或网络不通），稍后重试") % {"kind": label}) from None
    except requests.RequestException as exc:
        logger.warning("%s webhook %s: %s", kind, masked, type(exc).__name__)
        raise TransientError(_("发送到%(kind)s机器人时网络出错，稍后重试") % {"kind": label}) from None
    _raise_for_answer(kind, url, response)
    logger.info("%s webhook %s: delivered", kind, masked)


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0) if when.tzinfo else None


def _raise_for_answer(kind: str, url: str, response: requests.Response) -> None:
    label = _kind_label(kind)
    masked = mask_webhook_url(url)
    status = response.status_code
    if status == 429:
        logger.warning("%s webhook %s: HTTP 429", kind, masked)
        raise TransientError(
            _("%(kind)s服务器限流（HTTP 429），稍后重试") % {"kind": label}, retry_after=_retry_after(response)
        )
    if status >= 500:
        logger.warning("%s webhook %s: HTTP %s", kind, masked, status)
        raise TransientError(_("%(kind)s服务器出错（HTTP %(status)s），稍后重试") % {"kind": label, "status": status})
    if status == 404:
        logger.warning("%s webhook %s: HTTP 404", kind, masked)
        raise PermanentError(_("%(kind)s机器人地址不存在（HTTP 404）：请核对 Webhook 地址") % {"kind": label})
    if 300 <= status < 400:
        logger.warning("%s webhook %s: redirected (HTTP %s)", kind, masked, status)
        reason = _("%(kind)s机器人地址发生了跳转（HTTP %(status)s）：请核对 Webhook 地址")
        raise PermanentError(reason % {"kind": label, "status": status})
    if status >= 400 or status < 200:
        logger.warning("%s webhook %s: HTTP %s", kind, masked, status)
        raise PermanentError(
            _("%(kind)s服务器拒绝了请求（HTTP %(status)s）：请核对 Webhook 地址") % {"kind": label, "status": status}
        )
    try:
        answer = response.json()
    except ValueError:
        logger.warning("%s webhook %s: HTTP %s with a body that is not JSON", kind, masked, status)
        reason = _("%(kind)s机器人的应答不是 JSON（HTTP %(status)s）：地址可能指向了别的服务")
        raise PermanentError(reason % {"kind": label, "status": status}) from None
    errcode = answer.get("errcode") if isinstance(answer, dict) else None
    if isinstance(errcode, str) and errcode.lstrip("-").isdigit():
        errcode = int(errcode)
    if not isinstance(errcode, int) or isinstance(errcode, bool):
        logger.warning("%s webhook %s: answer without an errcode", kind, masked)
        raise PermanentError(_("%(kind)s机器人的应答里没有 errcode：地址可能指向了别的服务") % {"kind": label})
    if errcode == 0:
        return
    errmsg = _clean_errmsg(answer.get("errmsg"), kind, url)
    outcome, reason = _classify_errcode(kind, errcode, errmsg, url)
    logger.warning("%s webhook %s: errcode %s (%s): %s", kind, masked, errcode, outcome, errmsg)
    if outcome == TRANSIENT:
        rate_wait = {WECOM: WECOM_RATE_LIMIT_WAIT, DINGTALK: DINGTALK_RATE_LIMIT_WAIT}[kind]
        retry_after = rate_wait if errcode in {45009, 45033, 130101, 410100} else None
        raise TransientError(reason, retry_after=retry_after)
    raise PermanentError(reason)


def _clean_errmsg(errmsg: object, kind: str, url: str) -> str:
    """The robot's errmsg, shortened, with the robot's token masked should it echo it."""
    text = " ".join(str(errmsg or "").split())
    token = _token_of(kind, url)
    if token:
        text = text.replace(token, mask_token(token))
    if len(text) > ERRMSG_MAX_CHARS:
        text = text[: ERRMSG_MAX_CHARS - 1] + ELLIPSIS
    return text


def _classify_errcode(kind: str, errcode: int, errmsg: str, url: str) -> tuple[str, str]:
    params = {"errcode": errcode, "errmsg": errmsg or "-", "token": mask_token(_token_of(kind, url))}
    if kind == DINGTALK and errcode == 310000:
        lowered = errmsg.lower()
        for markers, reason in DINGTALK_SECURITY_REASONS:
            if any(marker in lowered for marker in markers):
                return PERMANENT, str(reason) % params
        return PERMANENT, _("钉钉机器人安全设置拒绝了消息（errcode 310000）：%(errmsg)s") % params
    table = WECOM_ERRCODES if kind == WECOM else DINGTALK_ERRCODES
    if errcode in table:
        outcome, reason = table[errcode]
        return outcome, str(reason) % params
    return PERMANENT, _("%(kind)s机器人拒绝了消息（errcode %(errcode)s）：%(errmsg)s") % {
        **params,
        "kind": _kind_label(kind),
    }
