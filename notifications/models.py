"""Reminders: who wants which channels, agencies' group robots, one row per delivery, and
the in-app inbox.

A reminder is identified by (rule, object, due date, day offset, recipient, channel): the
`Delivery` table holds that key under a unique constraint, so however many times or in
however many processes the scan runs, each reminder exists once. The row is written
before anything is sent and carries the outcome.
"""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.history import audit_history
from notifications.choices import ROBOT_CHANNELS, Channel, DeliveryState, Rule
from notifications.robots import validate_webhook_url
from tasks.models import Milestone


def default_quiet_start() -> datetime.time:
    return datetime.time.fromisoformat(settings.REMINDERS["quiet_hours"][0])


def default_quiet_end() -> datetime.time:
    return datetime.time.fromisoformat(settings.REMINDERS["quiet_hours"][1])


class Preference(models.Model):
    """One user's reminder channels and quiet hours. The inbox is always on: it is where
    every reminder can be found again."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="reminder_preference"
    )
    email = models.BooleanField(_("电子邮件"), default=True)
    wecom = models.BooleanField(_("企业微信群"), default=False, help_text=_("在本单位企业微信群中提醒（@手机号）"))
    dingtalk = models.BooleanField(_("钉钉群"), default=False, help_text=_("在本单位钉钉群中提醒（@手机号）"))
    quiet_start = models.TimeField(_("免打扰开始"), default=default_quiet_start)
    quiet_end = models.TimeField(_("免打扰结束"), default=default_quiet_end)

    history = audit_history(verbose_name=_("提醒设置变更记录"))

    class Meta:
        verbose_name = _("提醒设置")
        verbose_name_plural = _("提醒设置")

    def __str__(self):
        return str(self.user)

    def wants(self, channel: str) -> bool:
        return channel == Channel.INBOX or bool(getattr(self, channel, False))

    def in_quiet_hours(self, moment: datetime.time) -> bool:
        start, end = self.quiet_start, self.quiet_end
        if start == end:
            return False
        if start < end:
            return start <= moment < end
        return moment >= start or moment < end


class Robot(models.Model):
    """An agency's group chat robot (企业微信 or 钉钉 webhook)."""

    agency = models.ForeignKey(
        "accounts.Agency", verbose_name=_("单位"), on_delete=models.CASCADE, related_name="robots"
    )
    kind = models.CharField(_("类型"), max_length=16, choices=[(c.value, c.label) for c in ROBOT_CHANNELS])
    name = models.CharField(_("名称"), max_length=50, help_text=_("例如：医政医管处工作群"))
    webhook_url = models.URLField(_("Webhook 地址"), max_length=500)
    secret = models.CharField(
        _("加签密钥"), max_length=200, blank=True, help_text=_("钉钉机器人开启“加签”时填写，以 SEC 开头")
    )
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    # The signing secret stays out of the audit trail; that it changed is still recorded.
    history = audit_history(verbose_name=_("群机器人变更记录"), excluded_fields=["secret"])

    class Meta:
        verbose_name = _("群机器人")
        verbose_name_plural = _("群机器人")
        ordering = ["agency", "kind", "id"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "kind"], name="robot_one_per_kind_per_agency"),
        ]

    def __str__(self):
        return f"{self.name}（{self.get_kind_display()}）"

    def clean(self):
        if self.webhook_url and self.kind:
            try:
                validate_webhook_url(self.kind, self.webhook_url)
            except ValidationError as error:
                raise ValidationError({"webhook_url": error.messages}) from None
        if self.secret and self.kind != Channel.DINGTALK:
            raise ValidationError({"secret": _("只有钉钉机器人需要加签密钥。")})


# What makes one reminder: which rule, about what, for which due date, how many days from it.
# With who gets it (a user or a robot) and how (the channel), it is a delivery's unique key;
# the scan, its rescans and the constraints below all read the fields from here.
REMINDER_KEY = ("rule", "object_id", "due_on", "day_offset")


class DeliveryQuerySet(models.QuerySet):
    def sendable(self, now: datetime.datetime | None = None):
        return self.filter(state=DeliveryState.PENDING, not_before__lte=now or timezone.now())


class Delivery(models.Model):
    """One reminder on one channel to one recipient: a user, or an agency's robot."""

    rule = models.CharField(_("提醒规则"), max_length=32, choices=Rule.choices)
    # The task, milestone or plan the reminder is about; for a digest, the leader.
    object_id = models.PositiveIntegerField(_("对象编号"))
    due_on = models.DateField(_("到期日"))
    # Days from the due date to the day the reminder is for: -7 and -1 before, 1..7, 14,
    # 21 ... after; 0 on the day.
    day_offset = models.SmallIntegerField(_("提前/逾期天数"))
    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    robot = models.ForeignKey(
        Robot, verbose_name=_("群机器人"), null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    task = models.ForeignKey(
        "tasks.Task", verbose_name=_("任务"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    urgent = models.BooleanField(_("紧急"), default=False, help_text=_("紧急提醒不受免打扰时段限制"))
    # What the scan knew that the sender needs: who a robot message @-mentions, a digest's
    # figures (computed once, so inbox and email say the same).
    payload = models.JSONField(_("附加数据"), default=dict, blank=True)

    state = models.CharField(_("状态"), max_length=16, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    not_before = models.DateTimeField(_("最早发送时间"))
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    claimed_at = models.DateTimeField(_("开始发送时间"), null=True, blank=True)
    # Written and committed just before an email or robot message goes on the wire: a claim
    # that runs out with this set may have been delivered, one without it was never sent.
    handed_over_at = models.DateTimeField(_("交付发送时间"), null=True, blank=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    last_error = models.TextField(_("失败原因"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        verbose_name = _("提醒发送记录")
        verbose_name_plural = _("提醒发送记录")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The sender's sweep: what is pending and due to go out.
            models.Index(fields=["not_before"], condition=Q(state="pending"), name="delivery_pending_idx"),
            models.Index(fields=["state", "-created_at"], name="delivery_state_created_idx"),
            models.Index(fields=["created_at"], name="delivery_created_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=[*REMINDER_KEY, "recipient", "channel"],
                condition=Q(recipient__isnull=False),
                name="delivery_once_per_user",
            ),
            models.UniqueConstraint(
                fields=[*REMINDER_KEY, "robot", "channel"],
                condition=Q(robot__isnull=False),
                name="delivery_once_per_robot",
            ),
            models.CheckConstraint(
                condition=(Q(recipient__isnull=False) & Q(robot__isnull=True))
                | (Q(recipient__isnull=True) & Q(robot__isnull=False)),
                name="delivery_user_or_robot",
            ),
            models.CheckConstraint(condition=Q(state__in=DeliveryState.values), name="delivery_state_valid"),
        ]

    def __str__(self):
        return f"{self.get_rule_display()} · {self.get_channel_display()} · {self.recipient or self.robot}"


MILESTONE_RULES = (Rule.MILESTONE_DUE, Rule.MILESTONE_OVERDUE)


class NotificationQuerySet(models.QuerySet):
    def visible_to(self, user) -> "NotificationQuerySet":
        """An inbox item is its recipient's alone."""
        return self.filter(recipient=user) if user.is_authenticated else self.none()

    def with_settled(self) -> "NotificationQuerySet":
        """With `settled`: the item reminds of a time node that has been done since, so it
        asks nothing any more (a node reopened asks again). Read when shown, not written
        when the node is done: however a node gets done, the inbox agrees."""
        done = Milestone.objects.filter(pk=OuterRef("delivery__object_id"), done_on__isnull=False)
        settled = ExpressionWrapper(Q(rule__in=MILESTONE_RULES) & Exists(done), output_field=BooleanField())
        return self.annotate(settled=settled)

    def unread(self) -> "NotificationQuerySet":
        """What is still open: not read, and not settled."""
        return self.with_settled().filter(read_at__isnull=True, settled=False)


class Notification(models.Model):
    """An item in a user's in-app inbox."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("接收人"), on_delete=models.CASCADE, related_name="notifications"
    )
    rule = models.CharField(_("提醒规则"), max_length=32, choices=Rule.choices)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    link = models.CharField(_("链接"), max_length=300, blank=True)
    task = models.ForeignKey(
        "tasks.Task", verbose_name=_("任务"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # The inbox delivery that made it: a retried delivery cannot make a second item.
    delivery = models.OneToOneField(
        Delivery,
        verbose_name=_("发送记录"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notification",
    )
    payload = models.JSONField(_("附加数据"), default=dict, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("站内消息")
        verbose_name_plural = _("站内消息")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_inbox_idx"),
            models.Index(fields=["recipient"], condition=Q(read_at__isnull=True), name="notification_unread_idx"),
        ]

    def __str__(self):
        return self.title
