"""What every group-chat robot shares: the webhook address rules, one HTTP POST with an
explicit timeout and no retries, and the reading of the robot's answer.

The delivery engine retries a TransientError with backoff and records a PermanentError for
the admins. Every reason is a short sentence for the failed-delivery page; no reason or log
line ever carries a robot's secret, the request signature, or its key/access_token in full.

A robot is a Transport: its kind, its official host and path, the query parameter that
carries its credential, its error codes, and how it words a message. A new one (Feishu,
say) is a module of its own registered in notifications.robots, not a new branch here.

Messages go out as plain text (msgtype "text"), never markdown: they carry task headings,
agency names and other text users typed, and both robots' markdown dialects render links
and (DingTalk) images while documenting no way to escape them. Every payload passes its
text through `robot_text` (in Transport.send), which also defangs any address but the
site's own.
"""

from __future__ import annotations

import email.utils
import logging
import re
import time
from collections.abc import Mapping, Sequence
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

logger = logging.getLogger("notifications.robots")

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})
ELLIPSIS = "…"
# How much of a robot's own errmsg goes into a reason; theirs run to 300 characters of hints.
ERRMSG_MAX_CHARS = 120

TRANSIENT = "transient"
PERMANENT = "permanent"


class DeliveryError(Exception):
    """reason: a short message shown to admins on the failed-delivery page.

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


# --- Text -------------------------------------------------------------------------------


def truncate_utf8(text: str, max_bytes: int, ellipsis: str = ELLIPSIS) -> str:
    """text cut to at most max_bytes of UTF-8, on a character boundary, ending in the
    ellipsis when anything was cut."""
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    room = max_bytes - len(ellipsis.encode("utf-8"))
    # A cut inside a multi-byte character leaves an incomplete tail, which "ignore" drops.
    return encoded[: max(room, 0)].decode("utf-8", "ignore") + ellipsis


# Characters that reorder or hide what a reader sees (bidi overrides and isolates,
# zero-width marks) and control characters other than a line break or a tab.
_HIDDEN = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\x00-\x08\x0b-\x1f\x7f]")
# An address with a scheme, up to what cannot be part of it.
_ADDRESS = re.compile(r"(?i)\b[a-z][a-z0-9+.-]*://[^\s<>\"'()\[\]（）【】]*")


def robot_text(text: str) -> str:
    """text as a robot may say it in a group: without characters that reorder or hide text,
    and with every address but the site's own defanged (`http[:]//evil[.]example/`), so the
    chat client shows it to read but makes no link of it. Chat clients turn addresses in a
    plain text message into links; a reminder should carry only the platform's own."""
    text = _HIDDEN.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return _ADDRESS.sub(_defang_foreign, text)


def _defang_foreign(match: re.Match) -> str:
    address = match.group(0)
    site = settings.SITE_URL.rstrip("/")
    if site and address.lower().startswith(site.lower()) and address[len(site) : len(site) + 1] in ("", "/"):
        return address
    scheme, rest = address.split("://", 1)
    host, slash, path = rest.partition("/")
    return f"{scheme}[:]//{host.replace('.', '[.]')}{slash}{path}"


def clean_mobiles(mobiles: Sequence[str]) -> list[str]:
    if isinstance(mobiles, str):
        raise TypeError("mobiles must be a sequence of strings, not one string")
    seen: dict[str, None] = {}
    for mobile in mobiles:
        mobile = str(mobile).strip()
        if mobile:
            seen.setdefault(mobile, None)
    return list(seen)


def mask_token(token: str) -> str:
    """The last four characters of a key/access_token, for telling robots apart in reasons."""
    return "****" + token[-4:] if len(token) >= 12 else "****"


# --- The transport ----------------------------------------------------------------------


class Transport:
    """One kind of group-chat robot. Subclasses set the class attributes and `payload`."""

    kind: str
    label = gettext_lazy("机器人")
    host: str
    path: str
    token_param: str
    # Seconds the robot asks senders to wait after "too fast", and the codes that say it.
    rate_limit_wait: int = 60
    rate_limit_codes: frozenset[int] = frozenset()
    # errcode -> (TRANSIENT or PERMANENT, reason). Codes not listed are permanent: the robot
    # did answer and refused the message, and sending it again will not change its mind.
    errcodes: Mapping[int, tuple[str, object]] = {}

    # -- addresses

    @property
    def example(self) -> str:
        return f"https://{self.host}{self.path}?{self.token_param}=…"

    def validate_url(self, url: str) -> None:
        """Raise ValidationError unless url is this robot's official address over https with
        its credential; with DEBUG or NOTIFICATIONS_ALLOW_LOCAL_WEBHOOKS, http(s)://127.0.0.1
        or localhost on any port and path is accepted too (the tests' fake robot)."""
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
        if _local_webhooks_allowed() and hostname in LOCAL_HOSTS:
            if parts.scheme not in {"http", "https"} or port == -1:
                raise ValidationError(gettext_lazy("本机测试地址须为 http://127.0.0.1:端口/… 的形式。"), code="invalid")
        else:
            if parts.scheme != "https":
                raise ValidationError(
                    gettext_lazy("Webhook 地址须以 https:// 开头，例如 %(example)s"),
                    code="insecure",
                    params={"example": self.example},
                )
            official = hostname == self.host and parts.path == self.path
            if not official or port not in (None, 443) or parts.username or parts.password:
                raise ValidationError(
                    gettext_lazy("这不是%(kind)s机器人的官方地址，应为 %(example)s"),
                    code="host",
                    params={"kind": self.label, "example": self.example},
                )
        if parts.fragment:
            raise ValidationError(gettext_lazy("Webhook 地址不能带 # 片段。"), code="invalid")
        query = parse_qs(parts.query, keep_blank_values=True)
        tokens = query.get(self.token_param, [])
        if len(tokens) != 1 or not tokens[0].strip():
            raise ValidationError(
                gettext_lazy("Webhook 地址缺少 %(param)s 参数，请从群机器人设置中完整复制，例如 %(example)s"),
                code="token",
                params={"param": self.token_param, "example": self.example},
            )
        self.validate_query(query)

    def validate_query(self, query: dict[str, list[str]]) -> None:
        """Refuse query parameters this robot's address must not carry."""

    def mask(self, url: str) -> str:
        return mask_url(url, [self.token_param])

    def token_of(self, url: str) -> str:
        return parse_qs(urlsplit(url).query).get(self.token_param, [""])[0]

    # -- sending

    def payload(self, text: str, *, title: str, mentions: list[str], secret: str) -> tuple[dict, dict | None]:
        """The JSON body and the query parameters (None: none) of one plain text message;
        `text` has been through robot_text."""
        raise NotImplementedError

    def send(
        self,
        url: str,
        text: str,
        *,
        title: str = "",
        mentions: Sequence[str] = (),
        secret: str = "",
        timeout: float = 10,
    ) -> None:
        """Post one message; return when the robot took it, else raise a DeliveryError."""
        self.check_url(url)
        # Here, not in each robot's payload: no robot, present or future, sends text unescaped.
        body, params = self.payload(robot_text(text), title=title, mentions=clean_mobiles(mentions), secret=secret)
        self.post(url, body, params=params, timeout=timeout)

    def check_url(self, url: str) -> None:
        # Addresses are validated when saved; checking again here means one stored before a
        # rule changed (or typed into the admin) is never fetched.
        try:
            self.validate_url(url)
        except ValidationError as exc:
            detail = "；".join(str(m) for m in exc.messages)
            raise PermanentError(
                _("%(kind)s机器人地址无效：%(detail)s") % {"kind": self.label, "detail": detail}
            ) from None

    def post(self, url: str, payload: Mapping[str, object], *, params, timeout: float) -> None:
        label = self.label
        masked = self.mask(url)
        try:
            response = requests.post(url, json=payload, params=params, timeout=timeout, allow_redirects=False)
        except requests.Timeout:
            logger.warning("%s webhook %s timed out after %ss", self.kind, masked, timeout)
            raise TransientError(
                _("%(kind)s机器人在 %(timeout)s 秒内没有应答，稍后重试") % {"kind": label, "timeout": f"{timeout:g}"}
            ) from None
        except requests.exceptions.SSLError:
            logger.warning("%s webhook %s: TLS handshake failed", self.kind, masked)
            raise TransientError(_("与%(kind)s服务器的 TLS 握手失败，稍后重试") % {"kind": label}) from None
        except requests.ConnectionError:
            # The exception's text names the full URL with its token, so it goes nowhere.
            logger.warning("%s webhook %s: connection failed", self.kind, masked)
            raise TransientError(
                _("连不上%(kind)s服务器（连接被拒绝或网络不通），稍后重试") % {"kind": label}
            ) from None
        except requests.RequestException as exc:
            logger.warning("%s webhook %s: %s", self.kind, masked, type(exc).__name__)
            raise TransientError(_("发送到%(kind)s机器人时网络出错，稍后重试") % {"kind": label}) from None
        self.raise_for_answer(url, response)
        logger.info("%s webhook %s: delivered", self.kind, masked)

    # -- answers

    def raise_for_answer(self, url: str, response: requests.Response) -> None:
        label = self.label
        masked = self.mask(url)
        status = response.status_code
        if status == 429:
            logger.warning("%s webhook %s: HTTP 429", self.kind, masked)
            raise TransientError(
                _("%(kind)s服务器限流（HTTP 429），稍后重试") % {"kind": label}, retry_after=_retry_after(response)
            )
        if status >= 500:
            logger.warning("%s webhook %s: HTTP %s", self.kind, masked, status)
            raise TransientError(
                _("%(kind)s服务器出错（HTTP %(status)s），稍后重试") % {"kind": label, "status": status}
            )
        if status == 404:
            logger.warning("%s webhook %s: HTTP 404", self.kind, masked)
            raise PermanentError(_("%(kind)s机器人地址不存在（HTTP 404）：请核对 Webhook 地址") % {"kind": label})
        if 300 <= status < 400:
            logger.warning("%s webhook %s: redirected (HTTP %s)", self.kind, masked, status)
            reason = _("%(kind)s机器人地址发生了跳转（HTTP %(status)s）：请核对 Webhook 地址")
            raise PermanentError(reason % {"kind": label, "status": status})
        if status >= 400 or status < 200:
            logger.warning("%s webhook %s: HTTP %s", self.kind, masked, status)
            raise PermanentError(
                _("%(kind)s服务器拒绝了请求（HTTP %(status)s）：请核对 Webhook 地址")
                % {"kind": label, "status": status}
            )
        try:
            answer = response.json()
        except ValueError:
            logger.warning("%s webhook %s: HTTP %s with a body that is not JSON", self.kind, masked, status)
            reason = _("%(kind)s机器人的应答不是 JSON（HTTP %(status)s）：地址可能指向了别的服务")
            raise PermanentError(reason % {"kind": label, "status": status}) from None
        errcode = answer.get("errcode") if isinstance(answer, dict) else None
        if isinstance(errcode, str) and errcode.lstrip("-").isdigit():
            errcode = int(errcode)
        if not isinstance(errcode, int) or isinstance(errcode, bool):
            logger.warning("%s webhook %s: answer without an errcode", self.kind, masked)
            raise PermanentError(_("%(kind)s机器人的应答里没有 errcode：地址可能指向了别的服务") % {"kind": label})
        if errcode == 0:
            return
        errmsg = self.clean_errmsg(answer.get("errmsg"), url)
        outcome, reason = self.classify(errcode, errmsg, url)
        logger.warning("%s webhook %s: errcode %s (%s): %s", self.kind, masked, errcode, outcome, errmsg)
        if outcome == TRANSIENT:
            retry_after = self.rate_limit_wait if errcode in self.rate_limit_codes else None
            raise TransientError(reason, retry_after=retry_after)
        raise PermanentError(reason)

    def clean_errmsg(self, errmsg: object, url: str) -> str:
        """The robot's errmsg, shortened, with the robot's token masked should it echo it."""
        text = " ".join(str(errmsg or "").split())
        token = self.token_of(url)
        if token:
            text = text.replace(token, mask_token(token))
        if len(text) > ERRMSG_MAX_CHARS:
            text = text[: ERRMSG_MAX_CHARS - 1] + ELLIPSIS
        return text

    def params_of(self, errcode: int, errmsg: str, url: str) -> dict:
        return {"errcode": errcode, "errmsg": errmsg or "-", "token": mask_token(self.token_of(url))}

    def classify(self, errcode: int, errmsg: str, url: str) -> tuple[str, str]:
        params = self.params_of(errcode, errmsg, url)
        if errcode in self.errcodes:
            outcome, reason = self.errcodes[errcode]
            return outcome, str(reason) % params
        return PERMANENT, _("%(kind)s机器人拒绝了消息（errcode %(errcode)s）：%(errmsg)s") % {
            **params,
            "kind": self.label,
        }


def _local_webhooks_allowed() -> bool:
    return bool(settings.DEBUG or getattr(settings, "NOTIFICATIONS_ALLOW_LOCAL_WEBHOOKS", False))


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


def mask_url(url: str, token_params: Sequence[str]) -> str:
    """url with its credentials (the `token_params`) shortened to the last four characters
    and any signature or timestamp removed, fit for logs and admin pages."""
    parts = urlsplit(url)
    pairs = []
    for name, values in parse_qs(parts.query, keep_blank_values=True).items():
        if name in {"sign", "timestamp"}:
            continue
        for value in values:
            pairs.append((name, mask_token(value) if name in token_params else value))
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(pairs, safe="*"), ""))
