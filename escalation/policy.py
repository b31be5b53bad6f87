"""The ladder's thresholds and the notices' defaults, read from settings at call time (so a
test's override applies at once): settings.ESCALATION_POLICY and ESCALATION_NUMBER_*."""

import datetime

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from escalation.choices import Level
from workdays.services import add_working_days


def policy() -> dict:
    return settings.ESCALATION_POLICY


def reply_working_days(level: str) -> int:
    return int(policy()["reply_working_days"][Level(level).value])


def default_reply_due(level: str, issued_on: datetime.date) -> datetime.date:
    """The reply deadline of a notice issued on `issued_on`: the level's working days on."""
    return add_working_days(issued_on, reply_working_days(level))


def number_text(series: str, year: int, seq: int) -> str:
    return settings.ESCALATION_NUMBER_FORMAT.format(series=series, year=year, seq=seq)


def series() -> str:
    return settings.ESCALATION_NUMBER_SERIES


# What a notice asks by default, per level (the issuing supervisor may rewrite it).
DEFAULT_REQUIREMENTS = {
    Level.BLUE: _("请对照任务要求加快推进，于反馈时限前报送办理情况。"),
    Level.YELLOW: _("请单位负责同志高度重视，查找滞后原因，制定整改措施，于反馈时限前书面反馈办理情况并附佐证材料。"),
    Level.RED: _(
        "请单位主要负责同志亲自研究部署，限期整改，于反馈时限前书面反馈整改情况、整改计划及佐证材料；督查室将视情约谈。"
    ),
}
