"""WeCom (企业微信) group robots: plain text messages (never markdown: see robots.base),
members @-mentioned by mobile number.

Format and error codes: WeCom 群机器人 https://developer.work.weixin.qq.com/document/path/91770
and the WeCom global error codes (path/90313).
"""

from django.utils.translation import gettext_lazy

from notifications.robots.base import PERMANENT, TRANSIENT, Transport, truncate_utf8

# WeCom refuses text content over 2048 bytes of UTF-8 (errcode 40058).
TEXT_MAX_BYTES = 2048


class WeCom(Transport):
    kind = "wecom"
    label = gettext_lazy("企业微信")
    host = "qyapi.weixin.qq.com"
    path = "/cgi-bin/webhook/send"
    token_param = "key"
    # WeCom counts 20 messages a minute per robot.
    rate_limit_wait = 60
    rate_limit_codes = frozenset({45009, 45033})
    errcodes = {
        -1: (TRANSIENT, gettext_lazy("企业微信系统繁忙（errcode -1），稍后重试")),
        45009: (
            TRANSIENT,
            gettext_lazy("企业微信机器人发送太频繁（errcode 45009，每个机器人每分钟最多 20 条），稍后重试"),
        ),
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

    def payload(self, text, *, title, mentions, secret):
        """A text message (robots.base.robot_text); over 2048 bytes of UTF-8 it is cut and ends in
        "…". The title is not shown: the text's first line says the same."""
        content: dict[str, object] = {"content": truncate_utf8(text, TEXT_MAX_BYTES)}
        if mentions:
            content["mentioned_mobile_list"] = mentions
        return {"msgtype": "text", "text": content}, None


def send_wecom(url: str, text: str, *, mentioned_mobiles=(), timeout: float = 10) -> None:
    """Post text to a WeCom group robot, @-mentioning the members with these mobile numbers."""
    WeCom().send(url, text, mentions=mentioned_mobiles, timeout=timeout)
