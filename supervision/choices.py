"""The states of the supervision loop's objects, their kinds and actions, written once.
The transitions between the states are supervision.machine's."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PENDING_SIGNOFF = "pending_signoff", _("待单位审核")
    UNIT_RETURNED = "unit_returned", _("单位退回")
    PENDING_REVIEW = "pending_review", _("待督查审核")
    RETURNED = "returned", _("督查退回")
    ACCEPTED = "accepted", _("审核通过")


class InputState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已提交")


class CloseOutState(models.TextChoices):
    PENDING = "pending", _("待销号审核")
    APPROVED = "approved", _("已销号")
    REJECTED = "rejected", _("销号退回")
    WITHDRAWN = "withdrawn", _("已撤回")
    REOPENED = "reopened", _("已重新打开")


class RequestKind(models.TextChoices):
    DELAY = "delay", _("延期")
    WORDING = "wording", _("调整任务内容")
    TARGET = "target", _("调整指标目标")


class RequestState(models.TextChoices):
    PENDING_UNIT = "pending_unit", _("待单位审核")
    PENDING_SUPERVISOR = "pending_supervisor", _("待督查室审核")
    PENDING_LEADER = "pending_leader", _("待分管领导审批")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("未批准")
    WITHDRAWN = "withdrawn", _("已撤回")


class Step(models.TextChoices):
    """Who decides a step: the lead agency's head (leader or 审核人), the supervision
    office, the leader in charge (分管领导)."""

    UNIT = "unit", _("单位审核")
    SUPERVISOR = "supervisor", _("督查室")
    LEADER = "leader", _("分管领导")


class Action(models.TextChoices):
    """Everything a person can do to an object of the loop: the log's vocabulary."""

    SAVE_DRAFT = "save_draft", _("保存草稿")
    SUBMIT = "submit", _("提交")
    SIGN_OFF = "sign_off", _("单位审核通过")
    UNIT_RETURN = "unit_return", _("单位退回")
    ACCEPT = "accept", _("审核通过")
    RETURN = "return", _("退回并提出要求")
    APPROVE = "approve", _("批准")
    REJECT = "reject", _("不予批准")
    WITHDRAW = "withdraw", _("撤回")
    REOPEN = "reopen", _("重新打开")
