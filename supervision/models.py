"""The supervision loop's records (督办闭环): each cycle's report from the lead unit and its
revisions, the co-owners' input, the close-out (销号) of a finished task, and requests to
move a date or change a task's wording or an indicator's target; with the log of every
step taken on them (Transition), which is the thread the pages show.

Each object carries a `state` and a `version`: its state moves only through
supervision.machine, under a row lock and a version check, so two decisions at once
cannot both win."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from supervision.choices import (
    Action,
    CloseOutState,
    InputState,
    ReportState,
    RequestKind,
    RequestState,
    Step,
)
from tasks.models import AppendOnlyModel, AppendOnlyQuerySet, Task, TaskScopedQuerySet

OPEN_REQUEST_STATES = (RequestState.PENDING_UNIT, RequestState.PENDING_SUPERVISOR, RequestState.PENDING_LEADER)
# A report that waits for somebody other than its author.
WAITING_REPORT_STATES = (ReportState.PENDING_SIGNOFF, ReportState.PENDING_REVIEW)
# A report its author owes work on.
OWED_REPORT_STATES = (ReportState.DRAFT, ReportState.UNIT_RETURNED, ReportState.RETURNED)
# A report that was sent (the reporting rate counts it as submitted).
SENT_REPORT_STATES = (ReportState.PENDING_SIGNOFF, ReportState.PENDING_REVIEW, ReportState.ACCEPTED)
# A report returned to its author, by the unit or by the supervision office, not yet resent.
RETURNED_REPORT_STATES = (ReportState.UNIT_RETURNED, ReportState.RETURNED)


class PeriodReport(models.Model):
    """The lead unit's report for one reporting cycle of one task (周期报送). Its text and
    figures are the latest revision's, or the draft's while it is being written."""

    task = models.ForeignKey(Task, verbose_name=_("任务"), on_delete=models.CASCADE, related_name="period_reports")
    period_start = models.DateField(_("周期开始"))
    period_end = models.DateField(_("周期结束"))
    period_label = models.CharField(_("报送周期"), max_length=40)
    due_on = models.DateField(_("报送截止日"))
    state = models.CharField(_("状态"), max_length=20, choices=ReportState.choices, default=ReportState.DRAFT)
    version = models.PositiveIntegerField(_("版本"), default=1)
    revision = models.PositiveSmallIntegerField(_("提交次数"), default=0)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("填报人"), on_delete=models.PROTECT, related_name="period_reports"
    )
    progress = models.TextField(_("本期进展"), blank=True)
    problems = models.TextField(_("存在问题"), blank=True)
    next_steps = models.TextField(_("下步计划"), blank=True)
    status = models.CharField(_("任务状态"), max_length=16, blank=True)
    percent = models.PositiveSmallIntegerField(_("完成百分比"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    late = models.BooleanField(_("逾期报送"), default=False)
    # The day the step it waits for is due (sign-off or review), in working days.
    decision_due_on = models.DateField(_("审核时限"), null=True, blank=True)
    # What the last return asked for: shown to the author until they resubmit.
    requirements = models.TextField(_("退回要求"), blank=True)
    accepted_at = models.DateTimeField(_("通过时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    objects = TaskScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("周期报送")
        verbose_name_plural = _("周期报送")
        ordering = ["-period_start", "task_id"]
        indexes = [
            models.Index(fields=["state", "decision_due_on"], name="report_state_due_idx"),
            models.Index(fields=["period_start", "state"], name="report_period_state_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["task", "period_start"], name="report_once_per_task_cycle"),
            models.CheckConstraint(condition=Q(state__in=ReportState.values), name="report_state_valid"),
            models.CheckConstraint(condition=Q(version__gte=1), name="report_version_positive"),
            models.CheckConstraint(
                condition=Q(percent__isnull=True) | (Q(percent__gte=0) & Q(percent__lte=100)),
                name="report_percent_0_100",
            ),
        ]

    def __str__(self):
        return f"{self.task} · {self.period_label}"


class ReportRevision(AppendOnlyModel):
    """One submission of a report, as it was sent: resubmitting after a return adds the
    next revision, and the earlier ones stay for the thread."""

    report = models.ForeignKey(
        PeriodReport, verbose_name=_("周期报送"), on_delete=models.CASCADE, related_name="revisions"
    )
    task = models.ForeignKey(Task, verbose_name=_("任务"), on_delete=models.CASCADE, related_name="report_revisions")
    number = models.PositiveSmallIntegerField(_("第几次提交"))
    progress = models.TextField(_("本期进展"))
    problems = models.TextField(_("存在问题"), blank=True)
    next_steps = models.TextField(_("下步计划"), blank=True)
    status = models.CharField(_("任务状态"), max_length=16)
    percent = models.PositiveSmallIntegerField(_("完成百分比"))
    # The progress record the submission wrote (status, percent, files, milestones, readings).
    progress_update = models.ForeignKey(
        "tasks.ProgressUpdate",
        verbose_name=_("进展记录"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="report_revisions",
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("提交人"), on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(_("提交时间"), default=timezone.now)
    late = models.BooleanField(_("逾期报送"), default=False)

    record_name = _("报送版本")
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("报送版本")
        verbose_name_plural = _("报送版本")
        ordering = ["report", "number"]
        constraints = [
            models.UniqueConstraint(fields=["report", "number"], name="revision_number_once"),
        ]

    def __str__(self):
        return f"{self.report} · v{self.number}"


class CoOwnerInput(models.Model):
    """A co-owner agency's contribution to one cycle's report (配合单位反馈): text, and files
    and readings through the progress record its submission writes."""

    task = models.ForeignKey(Task, verbose_name=_("任务"), on_delete=models.CASCADE, related_name="co_inputs")
    agency = models.ForeignKey(
        "accounts.Agency", verbose_name=_("配合单位"), on_delete=models.PROTECT, related_name="co_inputs"
    )
    period_start = models.DateField(_("周期开始"))
    period_label = models.CharField(_("报送周期"), max_length=40)
    # Co-owners feed the lead: theirs is due some working days before the lead's.
    due_on = models.DateField(_("反馈截止日"))
    state = models.CharField(_("状态"), max_length=16, choices=InputState.choices, default=InputState.DRAFT)
    version = models.PositiveIntegerField(_("版本"), default=1)
    text = models.TextField(_("配合工作情况"), blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("填报人"), on_delete=models.PROTECT, related_name="co_inputs"
    )
    progress_update = models.ForeignKey(
        "tasks.ProgressUpdate",
        verbose_name=_("进展记录"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="co_inputs",
    )
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    late = models.BooleanField(_("逾期反馈"), default=False)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    objects = TaskScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("配合单位反馈")
        verbose_name_plural = _("配合单位反馈")
        ordering = ["-period_start", "task_id", "agency_id"]
        indexes = [models.Index(fields=["period_start", "state"], name="coinput_period_state_idx")]
        constraints = [
            models.UniqueConstraint(fields=["task", "agency", "period_start"], name="coinput_once_per_agency_cycle"),
            models.CheckConstraint(condition=Q(state__in=InputState.values), name="coinput_state_valid"),
        ]

    def __str__(self):
        return f"{self.task} · {self.agency} · {self.period_label}"


class CloseOut(models.Model):
    """A request to close out a finished task (销号): the completion report, checked by the
    supervision office against a checklist, approved (the task becomes 已销号) or rejected
    with requirements (the task returns to 进行中)."""

    task = models.ForeignKey(Task, verbose_name=_("任务"), on_delete=models.CASCADE, related_name="close_outs")
    state = models.CharField(_("状态"), max_length=16, choices=CloseOutState.choices, default=CloseOutState.PENDING)
    version = models.PositiveIntegerField(_("版本"), default=1)
    summary = models.TextField(_("完成情况"))
    # Why an indicator of the task was missed (required when one is).
    explanation = models.TextField(_("指标未达标说明"), blank=True)
    progress_update = models.ForeignKey(
        "tasks.ProgressUpdate",
        verbose_name=_("完成报告"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="close_outs",
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="close_outs"
    )
    submitted_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    decision_due_on = models.DateField(_("审核时限"), null=True, blank=True)
    # The checklist, as the supervisor ticked it.
    evidence_checked = models.BooleanField(_("佐证材料齐全"), default=False)
    milestones_checked = models.BooleanField(_("时间节点已完成"), default=False)
    indicators_checked = models.BooleanField(_("指标已达标或已说明"), default=False)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="close_outs_decided",
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    requirements = models.TextField(_("退回要求"), blank=True)
    reopen_reason = models.TextField(_("重新打开原因"), blank=True)

    objects = TaskScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("销号申请")
        verbose_name_plural = _("销号申请")
        ordering = ["-submitted_at", "-id"]
        indexes = [models.Index(fields=["state", "decision_due_on"], name="closeout_state_due_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["task"], condition=Q(state=CloseOutState.PENDING), name="closeout_one_pending_per_task"
            ),
            models.CheckConstraint(condition=Q(state__in=CloseOutState.values), name="closeout_state_valid"),
            models.CheckConstraint(
                condition=~Q(state=CloseOutState.REJECTED) | ~Q(requirements=""), name="closeout_rejected_says_why"
            ),
            models.CheckConstraint(
                condition=~Q(state=CloseOutState.REOPENED) | ~Q(reopen_reason=""), name="closeout_reopened_says_why"
            ),
        ]

    def __str__(self):
        return f"{self.task} · {self.get_state_display()}"


class ChangeRequest(models.Model):
    """A request to move a task's or a milestone's due date (延期), or to change a task's
    wording or an indicator's target (调整), decided step by step along the chain the plan
    sets (`steps`); an approval names the exact date or value."""

    task = models.ForeignKey(Task, verbose_name=_("任务"), on_delete=models.CASCADE, related_name="change_requests")
    milestone = models.ForeignKey(
        "tasks.Milestone",
        verbose_name=_("时间节点"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="change_requests",
    )
    indicator = models.ForeignKey(
        "indicators.Indicator",
        verbose_name=_("量化指标"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="change_requests",
    )
    kind = models.CharField(_("申请类型"), max_length=16, choices=RequestKind.choices)
    state = models.CharField(_("状态"), max_length=20, choices=RequestState.choices)
    version = models.PositiveIntegerField(_("版本"), default=1)
    # The chain of steps, fixed when filed from the plan's settings: e.g. ["unit", "supervisor"].
    steps = models.JSONField(_("审批环节"), default=list)
    reason = models.TextField(_("申请理由"))
    progress_so_far = models.TextField(_("目前进展"), blank=True)
    current_due_on = models.DateField(_("现时限"), null=True, blank=True)
    proposed_due_on = models.DateField(_("申请时限"), null=True, blank=True)
    approved_due_on = models.DateField(_("批准时限"), null=True, blank=True)
    current_text = models.TextField(_("现内容"), blank=True)
    proposed_text = models.TextField(_("申请调整为"), blank=True)
    approved_text = models.TextField(_("批准内容"), blank=True)
    current_target = models.DecimalField(_("现目标值"), max_digits=14, decimal_places=4, null=True, blank=True)
    proposed_target = models.DecimalField(_("申请目标值"), max_digits=14, decimal_places=4, null=True, blank=True)
    approved_target = models.DecimalField(_("批准目标值"), max_digits=14, decimal_places=4, null=True, blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="change_requests"
    )
    filed_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    # Filed after the date it asks to move (or the task's due date, for a change).
    filed_late = models.BooleanField(_("逾期申请"), default=False)
    decision_due_on = models.DateField(_("审核时限"), null=True, blank=True)
    decided_at = models.DateTimeField(_("办结时间"), null=True, blank=True)

    objects = TaskScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("延期/调整申请")
        verbose_name_plural = _("延期/调整申请")
        ordering = ["-filed_at", "-id"]
        indexes = [models.Index(fields=["state", "decision_due_on"], name="request_state_due_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=RequestKind.values), name="request_kind_valid"),
            models.CheckConstraint(condition=Q(state__in=RequestState.values), name="request_state_valid"),
            models.CheckConstraint(
                condition=~Q(kind=RequestKind.DELAY) | Q(proposed_due_on__isnull=False), name="request_delay_has_date"
            ),
            models.CheckConstraint(
                condition=~Q(kind=RequestKind.TARGET) | (Q(indicator__isnull=False) & Q(proposed_target__isnull=False)),
                name="request_target_has_value",
            ),
            models.CheckConstraint(
                condition=~Q(kind=RequestKind.WORDING) | ~Q(proposed_text=""), name="request_wording_has_text"
            ),
        ]

    def __str__(self):
        return f"{self.task} · {self.get_kind_display()}"

    @property
    def step(self) -> str | None:
        """The step deciding now, or None when the request is decided."""
        return {
            RequestState.PENDING_UNIT: Step.UNIT,
            RequestState.PENDING_SUPERVISOR: Step.SUPERVISOR,
            RequestState.PENDING_LEADER: Step.LEADER,
        }.get(self.state)


class Transition(AppendOnlyModel):
    """One step taken on a report, a co-owner input, a close-out or a request: who, when,
    from which state to which, and what they wrote (the requirements of a return, the
    reason of a decision). Append-only: the thread of each object."""

    task = models.ForeignKey(Task, verbose_name=_("任务"), on_delete=models.CASCADE, related_name="transitions")
    report = models.ForeignKey(
        PeriodReport, null=True, blank=True, on_delete=models.CASCADE, related_name="transitions"
    )
    co_input = models.ForeignKey(
        CoOwnerInput, null=True, blank=True, on_delete=models.CASCADE, related_name="transitions"
    )
    close_out = models.ForeignKey(CloseOut, null=True, blank=True, on_delete=models.CASCADE, related_name="transitions")
    request = models.ForeignKey(
        ChangeRequest, null=True, blank=True, on_delete=models.CASCADE, related_name="transitions"
    )
    action = models.CharField(_("操作"), max_length=16, choices=Action.choices)
    state_before = models.CharField(_("原状态"), max_length=20, blank=True)
    state_after = models.CharField(_("新状态"), max_length=20)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), on_delete=models.PROTECT, related_name="+"
    )
    comment = models.TextField(_("意见"), blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    record_name = _("流程记录")
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("流程记录")
        verbose_name_plural = _("流程记录")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(action__in=Action.values), name="transition_action_valid"),
            models.CheckConstraint(
                condition=(
                    Q(report__isnull=False, co_input__isnull=True, close_out__isnull=True, request__isnull=True)
                    | Q(report__isnull=True, co_input__isnull=False, close_out__isnull=True, request__isnull=True)
                    | Q(report__isnull=True, co_input__isnull=True, close_out__isnull=False, request__isnull=True)
                    | Q(report__isnull=True, co_input__isnull=True, close_out__isnull=True, request__isnull=False)
                ),
                name="transition_one_object",
            ),
        ]

    def __str__(self):
        return f"{self.get_action_display()} · {self.actor}"

    @property
    def subject(self):
        return self.report or self.co_input or self.close_out or self.request
