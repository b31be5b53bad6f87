"""DingTalk (钉钉) custom robots: plain text messages (never markdown: see robots.base);
signed (加签) when the robot has a secret; members @-mentioned by mobile number.

Format and security settings: 自定义机器人
https://open.dingtalk.com/document/orgapp/custom-robots-send-group-messages (加签, keywords,
IP list), which all answer errcode 310000.
"""

import base64
import hashlib
import hmac
import time

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from notifications.robots.base import PERMANENT, TRANSIENT, Transport

# DingTalk answers 310000 for every security-setting refusal; its errmsg says which one,
# in English ("sign not match") or, lately, in Chinese ("机器人发送签名不匹配"). The first
# marker found wins, so the signature comes before the timestamp the Chinese text also names.
SECURITY_REASONS = (
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


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """加签: base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}")), before URL
    encoding (requests encodes it once as a query parameter)."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


class DingTalk(Transport):
    kind = "dingtalk"
    label = gettext_lazy("钉钉")
    host = "oapi.dingtalk.com"
    path = "/robot/send"
    token_param = "access_token"
    # DingTalk allows 20 messages a minute, then blocks the robot for 10 minutes.
    rate_limit_wait = 600
    rate_limit_codes = frozenset({130101, 410100})
    errcodes = {
        -1: (TRANSIENT, gettext_lazy("钉钉系统繁忙（errcode -1），稍后重试")),
        130101: (TRANSIENT, gettext_lazy("钉钉机器人发送太频繁（errcode 130101，每分钟最多 20 条），稍后重试")),
        410100: (TRANSIENT, gettext_lazy("钉钉机器人发送太频繁被限流（errcode 410100），稍后重试")),
        300001: (
            PERMANENT,
            gettext_lazy(
                "钉钉机器人 access_token 不存在（errcode 300001，%(token)s）：请在群设置中重新复制 Webhook 地址"
            ),
        ),
        300005: (
            PERMANENT,
            gettext_lazy(
                "钉钉机器人 access_token 不存在（errcode 300005，%(token)s）：请在群设置中重新复制 Webhook 地址"
            ),
        ),
        400013: (PERMANENT, gettext_lazy("钉钉群已解散（errcode 400013）：请为该单位配置新的群机器人")),
        400101: (
            PERMANENT,
            gettext_lazy(
                "钉钉机器人 access_token 不存在（errcode 400101，%(token)s）：请在群设置中重新复制 Webhook 地址"
            ),
        ),
        400102: (PERMANENT, gettext_lazy("钉钉机器人已停用（errcode 400102）：请群管理员重新启用")),
        400105: (PERMANENT, gettext_lazy("钉钉机器人不支持此消息类型（errcode 400105）")),
        400106: (PERMANENT, gettext_lazy("钉钉机器人不存在（errcode 400106）：请确认机器人仍在群里")),
        430101: (PERMANENT, gettext_lazy("钉钉拒绝了消息：含有不安全的外链（errcode 430101）")),
        430102: (PERMANENT, gettext_lazy("钉钉拒绝了消息：含有不合适的文本（errcode 430102）")),
        430103: (PERMANENT, gettext_lazy("钉钉拒绝了消息：含有不合适的图片（errcode 430103）")),
        430104: (PERMANENT, gettext_lazy("钉钉拒绝了消息：含有不合适的内容（errcode 430104）")),
    }

    def __init__(self, now_ms: int | None = None):
        # The signing time; None: the moment of sending (tests pin it).
        self.now_ms = now_ms

    def validate_query(self, query):
        if "timestamp" in query or "sign" in query:
            raise ValidationError(
                gettext_lazy("请去掉地址中的 timestamp 和 sign 参数：系统每次发送时按加签密钥自动生成。"),
                code="signed",
            )

    def payload(self, text, *, title, mentions, secret):
        """A text message (robots.base.robot_text), never markdown: DingTalk's markdown renders
        links and images from whatever a task heading says. The title is not shown (a text
        message has none; the text's first line says the same). DingTalk shows an @ where
        the text has it, so a mention the text lacks is added at its end."""
        content = text
        missing = [m for m in mentions if f"@{m}" not in content]
        if missing:
            content += "\n\n" + " ".join(f"@{m}" for m in missing)
        body: dict[str, object] = {"msgtype": "text", "text": {"content": content}}
        body["at"] = {"atMobiles": mentions, "isAtAll": False}
        params = None
        if secret:
            timestamp = int(time.time() * 1000) if self.now_ms is None else int(self.now_ms)
            params = {"timestamp": str(timestamp), "sign": dingtalk_sign(secret, timestamp)}
        return body, params

    def classify(self, errcode, errmsg, url):
        if errcode == 310000:
            params = self.params_of(errcode, errmsg, url)
            lowered = errmsg.lower()
            for markers, reason in SECURITY_REASONS:
                if any(marker in lowered for marker in markers):
                    return PERMANENT, str(reason) % params
            return PERMANENT, _("钉钉机器人安全设置拒绝了消息（errcode 310000）：%(errmsg)s") % params
        return super().classify(errcode, errmsg, url)


def send_dingtalk(
    url: str,
    text: str,
    *,
    secret: str = "",
    title: str = "",
    at_mobiles=(),
    timeout: float = 10,
    now_ms: int | None = None,
) -> None:
    """Post to a DingTalk custom robot (see DingTalk.payload); signed when there is a secret."""
    DingTalk(now_ms).send(url, text, title=title, mentions=at_mobiles, secret=secret, timeout=timeout)
