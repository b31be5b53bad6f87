"""The vocabulary of escalation (督办升级), written once: the levels of a 督办单, its states
and causes, the states of an urge (催办) and a leader's instruction (批示), and the steps of
their thread. The transitions are escalation.machine's; the thresholds escalation.policy's."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    BLUE = "blue", _("蓝色督办")
    YELLOW = "yellow", _("黄色督办")
    RED = "red", _("红色督办")


# Higher is more severe: a notice supersedes the open ones of lower rank on its task.
RANK = {Level.BLUE: 1, Level.YELLOW: 2, Level.RED: 3}

# What each level means, printed beside it (提醒 / 警示 / 严重).
LEVEL_MEANING = {Level.BLUE: _("提醒"), Level.YELLOW: _("警示"), Level.RED: _("严重")}


class NoticeState(models.TextChoices):
    ISSUED = "issued", _("已发出")
    ACKNOWLEDGED = "acknowledged", _("已签收")
    ANSWERED = "answered", _("已反馈")
    CLOSED = "closed", _("已办结")
    CANCELLED = "cancelled", _("已撤销")
    SUPERSEDED = "superseded", _("已升级")


OPEN_NOTICE_STATES = (NoticeState.ISSUED, NoticeState.ACKNOWLEDGED, NoticeState.ANSWERED)
# Waiting for the addressee's answer: past the reply deadline in one of these, it is ignored.
UNANSWERED_STATES = (NoticeState.ISSUED, NoticeState.ACKNOWLEDGED)


class Origin(models.TextChoices):
    RULE = "rule", _("按规则自动下发")
    HAND = "hand", _("督查室人工下发")


class Cause(models.TextChoices):
    """Why the ladder issued a notice (a notice by hand has none of these)."""

    DUE_SOON = "due_soon", _("临近到期且进度滞后")
    MILESTONE_DUE_SOON = "milestone_due_soon", _("时间节点临近到期尚未完成")
    REPORT_LATE = "report_late", _("本期进展逾期未报送")
    OVERDUE = "overdue", _("任务已逾期")
    BEHIND = "behind", _("落后时间进度")
    OVERDUE_LONG = "overdue_long", _("逾期超过规定工作日")
    IGNORED = "ignored", _("上一级督办单逾期未反馈")


class UrgeState(models.TextChoices):
    OPEN = "open", _("待答复")
    ANSWERED = "answered", _("已答复")
    CLOSED = "closed", _("已办结")


class InstructionState(models.TextChoices):
    OPEN = "open", _("待落实")
    RESPONDED = "responded", _("已反馈")
    SETTLED = "settled", _("已办结")


class Action(models.TextChoices):
    """Every step taken on a notice, an urge, an instruction or a hold: the thread's words."""

    ISSUE = "issue", _("下发")
    ACKNOWLEDGE = "acknowledge", _("签收")
    ANSWER = "answer", _("反馈")
    RETURN = "return", _("退回反馈")
    CLOSE = "close", _("办结")
    CANCEL = "cancel", _("撤销")
    SUPERSEDE = "supersede", _("升级")
    URGE = "urge", _("催办")
    REPLY = "reply", _("答复")
    INSTRUCT = "instruct", _("批示")
    RESPOND = "respond", _("反馈落实情况")
    SETTLE = "settle", _("确认办结")
    HOLD = "hold", _("暂停自动督办")
    RELEASE = "release", _("恢复自动督办")
