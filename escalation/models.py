"""Escalation's records (督办升级): the 督办单 (Notice) in the bureau's numbered series, the
causes the ladder issued it for (RuleCause: each level once per cause and task), an urge
(催办), a leader's instruction (批示), a hold on the automatic ladder for a task (Hold),
and the thread of every step taken on them (Step, append-only).

Notice, Urge and Instruction carry a `state` and a `version` and move only through
escalation.machine (row lock, version check, thread, audit), like the supervision loop's
objects."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from escalation.choices import (
    OPEN_NOTICE_STATES,
    UNANSWERED_STATES,
    Action,
    Cause,
    InstructionState,
    Level,
    NoticeState,
    Origin,
    UrgeState,
)
from tasks.models import AppendOnlyModel, AppendOnlyQuerySet, Task, TaskScopedQuerySet


def is_overdue(state: str, reply_due_on, today) -> bool:
    """Unanswered past the reply deadline on `today` (逾期未反馈); overdue_q is its SQL form."""
    return state in UNANSWERED_STATES and reply_due_on < today


def overdue_q(today) -> Q:
    """Notices unanswered past their reply deadline on `today` (逾期未反馈): the SQL form of
    Notice.is_overdue; the ladder's "ignored" rule, the 督办 page, the dashboard, exports,
    the digest and the API all count with it."""
    return Q(state__in=UNANSWERED_STATES, reply_due_on__lt=today)


class NoticeQuerySet(TaskScopedQuerySet):
    def open(self):
        """Not yet closed: issued, acknowledged or answered (未办结)."""
        return self.filter(state__in=OPEN_NOTICE_STATES)

    def overdue(self, today):
        return self.filter(overdue_q(today))


class NoticeCounter(models.Model):
    """The last number given in a series and year (督办〔2026〕12号 → 12): taken under a row
    lock, so numbers run without gaps or repeats however many issue at once."""

    series = models.CharField(_("编号系列"), max_length=20)
    year = models.PositiveSmallIntegerField(_("年度"))
    last = models.PositiveIntegerField(_("已用至"), default=0)

    class Meta:
        verbose_name = _("督办单编号")
        verbose_name_plural = _("督办单编号")
        constraints = [models.UniqueConstraint(fields=["series", "year"], name="notice_counter_once")]

    def __str__(self):
        return f"{self.series} {self.year}: {self.last}"


class Notice(models.Model):
    """A 督办单: a formal, numbered notice to a task's lead agency (co-owners copied), with
    the facts, the requirements and a reply deadline in working days. The addressee
    acknowledges (签收) and answers (反馈); the office closes it (办结), returns the answer,
    or cancels it with a reason; a higher level supersedes it (已升级); closing out the task
    (销号) closes it."""

    series = models.CharField(_("编号系列"), max_length=20)
    year = models.PositiveSmallIntegerField(_("年度"))
    seq = models.PositiveIntegerField(_("序号"))
    number = models.CharField(_("督办单编号"), max_length=60)
    level = models.CharField(_("督办等级"), max_length=8, choices=Level.choices)
    task = models.ForeignKey(Task, verbose_name=_("任务"), on_delete=models.CASCADE, related_name="notices")
    agency = models.ForeignKey(
        "accounts.Agency", verbose_name=_("主送单位"), on_delete=models.PROTECT, related_name="notices"
    )
    copied_to = models.ManyToManyField(
        "accounts.Agency", verbose_name=_("抄送单位"), blank=True, related_name="notices_copied"
    )
    origin = models.CharField(_("来源"), max_length=8, choices=Origin.choices)
    # The ladder's causes (Cause values), for a notice by rule; empty by hand.
    causes = models.JSONField(_("督办事由"), default=list, blank=True)
    facts = models.TextField(_("基本情况"))
    # The figures the facts were written from: percent, days late, points behind, …
    facts_data = models.JSONField(_("情况数据"), default=dict, blank=True)
    requirements = models.TextField(_("督办要求"))
    wants_evidence = models.BooleanField(_("须附佐证材料"), default=False)
    wants_plan = models.BooleanField(_("须报整改计划"), default=False)
    reply_due_on = models.DateField(_("反馈时限"))
    state = models.CharField(_("状态"), max_length=16, choices=NoticeState.choices, default=NoticeState.ISSUED)
    version = models.PositiveIntegerField(_("版本"), default=1)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("签发人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="notices_issued",
    )
    issued_on = models.DateField(_("下发日期"))
    issued_at = models.DateTimeField(_("下发时间"), default=timezone.now)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    answer = models.TextField(_("反馈内容"), blank=True)
    answer_plan = models.TextField(_("整改计划"), blank=True)
    # The progress record the answer wrote, carrying its files (tasks.Attachment).
    answer_update = models.ForeignKey(
        "tasks.ProgressUpdate",
        verbose_name=_("反馈材料"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="notice_answers",
    )
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(_("反馈时间"), null=True, blank=True)
    answered_late = models.BooleanField(_("逾期反馈"), default=False)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    cancel_reason = models.TextField(_("撤销原因"), blank=True)
    superseded_by = models.ForeignKey(
        "self", verbose_name=_("升级为"), null=True, blank=True, on_delete=models.SET_NULL, related_name="supersedes"
    )

    objects = NoticeQuerySet.as_manager()

    class Meta:
        verbose_name = _("督办单")
        verbose_name_plural = _("督办单")
        ordering = ["-issued_at", "-id"]
        indexes = [
            models.Index(fields=["state", "reply_due_on"], name="notice_state_due_idx"),
            models.Index(fields=["task", "state"], name="notice_task_state_idx"),
            models.Index(fields=["agency", "state"], name="notice_agency_state_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["series", "year", "seq"], name="notice_number_once"),
            models.CheckConstraint(condition=Q(level__in=Level.values), name="notice_level_valid"),
            models.CheckConstraint(condition=Q(state__in=NoticeState.values), name="notice_state_valid"),
            models.CheckConstraint(condition=Q(origin__in=Origin.values), name="notice_origin_valid"),
            models.CheckConstraint(
                condition=~Q(state=NoticeState.CANCELLED) | ~Q(cancel_reason=""), name="notice_cancelled_says_why"
            ),
            models.CheckConstraint(
                condition=Q(origin=Origin.RULE) | Q(issued_by__isnull=False), name="notice_by_hand_names_issuer"
            ),
        ]

    def __str__(self):
        return f"{self.number} · {self.get_level_display()}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_NOTICE_STATES

    def is_overdue(self, today) -> bool:
        return is_overdue(self.state, self.reply_due_on, today)

    def cause_labels(self) -> list[str]:
        return [str(Cause(cause).label) for cause in self.causes if cause in Cause.values]


class RuleCause(models.Model):
    """One cause the ladder acted on, for one task and level ("overdue:2026-06-30",
    "ignored:17"): its unique key is what makes the ladder issue each level once per
    cause, however often and however concurrently it runs."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="+")
    level = models.CharField(max_length=8, choices=Level.choices)
    key = models.CharField(max_length=80)
    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="rule_causes")

    class Meta:
        verbose_name = _("督办事由")
        verbose_name_plural = _("督办事由")
        constraints = [models.UniqueConstraint(fields=["task", "level", "key"], name="rule_cause_once")]

    def __str__(self):
        return f"{self.task_id} {self.level} {self.key}"


class Hold(models.Model):
    """The automatic ladder held for a task, with a reason (an approved delay pending, a
    matter settled otherwise), until a day or until released. By-hand notices still go."""

    task = models.ForeignKey(Task, verbose_name=_("任务"), on_delete=models.CASCADE, related_name="escalation_holds")
    reason = models.TextField(_("暂停原因"))
    until = models.DateField(_("暂停至"), null=True, blank=True)
    held_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), on_delete=models.PROTECT, related_name="+"
    )
    held_at = models.DateTimeField(_("暂停时间"), default=timezone.now)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    released_at = models.DateTimeField(_("恢复时间"), null=True, blank=True)

    objects = TaskScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("暂停自动督办")
        verbose_name_plural = _("暂停自动督办")
        ordering = ["-held_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["task"], condition=Q(released_at__isnull=True), name="hold_one_per_task"),
            models.CheckConstraint(condition=~Q(reason=""), name="hold_says_why"),
        ]

    def __str__(self):
        return f"{self.task} · {self.reason[:20]}"

    def holds_on(self, day) -> bool:
        return self.released_at is None and (self.until is None or day <= self.until)


class Urge(models.Model):
    """催办: a short message from the supervision office or a leader to a task's lead
    agency (and, when asked, its co-owners), optionally with a reply-by date; answered in
    one step by the urged staff."""

    task = models.ForeignKey(Task, verbose_name=_("任务"), on_delete=models.CASCADE, related_name="urges")
    message = models.TextField(_("催办内容"))
    reply_by = models.DateField(_("答复时限"), null=True, blank=True)
    to_co_owners = models.BooleanField(_("同时催办配合单位"), default=False)
    state = models.CharField(_("状态"), max_length=12, choices=UrgeState.choices, default=UrgeState.OPEN)
    version = models.PositiveIntegerField(_("版本"), default=1)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("催办人"), on_delete=models.PROTECT, related_name="urges_issued"
    )
    issued_at = models.DateTimeField(_("催办时间"), default=timezone.now)
    answer = models.TextField(_("答复"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)

    objects = TaskScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("催办")
        verbose_name_plural = _("催办")
        ordering = ["-issued_at", "-id"]
        indexes = [models.Index(fields=["state", "task"], name="urge_state_task_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=UrgeState.values), name="urge_state_valid"),
            models.CheckConstraint(condition=~Q(message=""), name="urge_says_what"),
        ]

    def __str__(self):
        return f"{self.task} · {self.message[:20]}"


class Instruction(models.Model):
    """批示: a leader's instruction on a task (or on one of its notices); the owners respond
    by a date, and the leader marks the response settled (or asks for more)."""

    task = models.ForeignKey(Task, verbose_name=_("任务"), on_delete=models.CASCADE, related_name="instructions")
    notice = models.ForeignKey(
        Notice, verbose_name=_("督办单"), null=True, blank=True, on_delete=models.SET_NULL, related_name="instructions"
    )
    text = models.TextField(_("批示内容"))
    respond_by = models.DateField(_("反馈时限"))
    state = models.CharField(_("状态"), max_length=12, choices=InstructionState.choices, default=InstructionState.OPEN)
    version = models.PositiveIntegerField(_("版本"), default=1)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("批示领导"), on_delete=models.PROTECT, related_name="instructions"
    )
    issued_at = models.DateTimeField(_("批示时间"), default=timezone.now)
    response = models.TextField(_("落实情况"), blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    responded_at = models.DateTimeField(_("反馈时间"), null=True, blank=True)
    settled_at = models.DateTimeField(_("办结时间"), null=True, blank=True)

    objects = TaskScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("领导批示")
        verbose_name_plural = _("领导批示")
        ordering = ["-issued_at", "-id"]
        indexes = [models.Index(fields=["state", "respond_by"], name="instruction_state_due_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=InstructionState.values), name="instruction_state_valid"),
            models.CheckConstraint(condition=~Q(text=""), name="instruction_says_what"),
        ]

    def __str__(self):
        return f"{self.task} · {self.text[:20]}"


class Step(AppendOnlyModel):
    """One step taken on a notice, an urge, an instruction or a hold: who (nobody: the
    ladder), when, from which state to which, and what they wrote. The thread the task
    page shows; append-only."""

    task = models.ForeignKey(Task, verbose_name=_("任务"), on_delete=models.CASCADE, related_name="escalation_steps")
    notice = models.ForeignKey(Notice, null=True, blank=True, on_delete=models.CASCADE, related_name="steps")
    urge = models.ForeignKey(Urge, null=True, blank=True, on_delete=models.CASCADE, related_name="steps")
    instruction = models.ForeignKey(Instruction, null=True, blank=True, on_delete=models.CASCADE, related_name="steps")
    hold = models.ForeignKey(Hold, null=True, blank=True, on_delete=models.CASCADE, related_name="steps")
    action = models.CharField(_("操作"), max_length=16, choices=Action.choices)
    state_before = models.CharField(_("原状态"), max_length=16, blank=True)
    state_after = models.CharField(_("新状态"), max_length=16, blank=True)
    # None: the ladder (the escalation job) took the step.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    comment = models.TextField(_("意见"), blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    record_name = _("督办记录")
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("督办记录")
        verbose_name_plural = _("督办记录")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(action__in=Action.values), name="escalation_step_action_valid"),
            models.CheckConstraint(
                condition=(
                    Q(notice__isnull=False, urge__isnull=True, instruction__isnull=True, hold__isnull=True)
                    | Q(notice__isnull=True, urge__isnull=False, instruction__isnull=True, hold__isnull=True)
                    | Q(notice__isnull=True, urge__isnull=True, instruction__isnull=False, hold__isnull=True)
                    | Q(notice__isnull=True, urge__isnull=True, instruction__isnull=True, hold__isnull=False)
                ),
                name="escalation_step_one_object",
            ),
        ]

    def __str__(self):
        return f"{self.get_action_display()} · {self.actor or _('系统')}"

    @property
    def subject(self):
        return self.notice or self.urge or self.instruction or self.hold

    @property
    def actor_name(self) -> str:
        return self.actor.display_name if self.actor_id else str(_("督办系统"))
