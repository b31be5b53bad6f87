"""Group-chat robots that remind an agency's group: one Transport per kind (base), one
module per robot (wecom, dingtalk). A new robot is a new module registered here."""

from notifications.robots.base import (
    DeliveryError,
    PermanentError,
    TransientError,
    Transport,
    mask_url,
    truncate_utf8,
)
from notifications.robots.dingtalk import DingTalk, dingtalk_sign, send_dingtalk
from notifications.robots.wecom import WeCom, send_wecom

TRANSPORTS: dict[str, Transport] = {transport.kind: transport for transport in (WeCom(), DingTalk())}

__all__ = [
    "TRANSPORTS",
    "DeliveryError",
    "PermanentError",
    "TransientError",
    "dingtalk_sign",
    "mask_webhook_url",
    "send",
    "send_dingtalk",
    "send_wecom",
    "truncate_utf8",
    "validate_webhook_url",
]


def validate_webhook_url(kind: str, url: str) -> None:
    """ValidationError unless `url` is an address a robot of `kind` may be sent to."""
    if kind not in TRANSPORTS:
        raise ValueError(f"unknown webhook kind {kind!r}")
    TRANSPORTS[kind].validate_url(url)


def mask_webhook_url(url: str) -> str:
    """url with any robot's credential shortened to its last four characters."""
    return mask_url(url, [transport.token_param for transport in TRANSPORTS.values()])


def send(robot, text: str, *, title: str, mentions) -> None:
    """Say `text` in the group of `robot` (a notifications.models.Robot)."""
    TRANSPORTS[robot.kind].send(robot.webhook_url, text, title=title, mentions=mentions, secret=robot.secret)
