"""What a reminder is about, how it travels, and where its delivery stands."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Rule(models.TextChoices):
    TASK_DUE = "task_due", _("任务即将到期")
    MILESTONE_DUE = "milestone_due", _("时间节点即将到期")
    TASK_OVERDUE = "task_overdue", _("任务已逾期")
    MILESTONE_OVERDUE = "milestone_overdue", _("时间节点已逾期")
    REPORT_DUE = "report_due", _("进展未报送")
    LEADER_DIGEST = "leader_digest", _("每周督办摘要")
    # Not a reminder: a security alert (audit.services.raise_alert) for the security or
    # audit admin, e.g. an administrator locked out or one user refused again and again.
    SECURITY_ALERT = "security_alert", _("安全告警")
    # A step of the supervision loop (a report submitted, returned, a request decided …),
    # told to the next person once (notifications.receivers); keyed by the Transition.
    SUPERVISION = "supervision", _("督办流程")
    # Co-owners who have not given this cycle's input, before their due day.
    CO_OWNER_DUE = "co_owner_due", _("配合单位反馈未提交")
    # A step of escalation (a 督办单 issued, answered, an urge, a leader's instruction …),
    # keyed by its escalation.models.Step.
    ESCALATION = "escalation", _("督办升级")


class Channel(models.TextChoices):
    INBOX = "inbox", _("站内消息")
    EMAIL = "email", _("电子邮件")
    WECOM = "wecom", _("企业微信群机器人")
    DINGTALK = "dingtalk", _("钉钉群机器人")


ROBOT_CHANNELS = (Channel.WECOM, Channel.DINGTALK)


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENDING = "sending", _("发送中")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")
    CANCELLED = "cancelled", _("已取消")
    # The worker stopped after the message went on the wire and before the answer was
    # recorded: it may have arrived, so it is not sent again without an admin's look.
    INTERRUPTED = "interrupted", _("发送中断")


# What the admins' delivery log offers to send again (the 重新发送 button).
RESENDABLE_STATES = (DeliveryState.FAILED, DeliveryState.INTERRUPTED)
