"""Tasks of a plan, their owners and milestones, and the append-only progress log."""

import datetime
import os
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q, Value
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.services import scope_agency_ids
from audit.history import audit_history
from core.roles import Role
from core.text import script_key
from tasks.choices import FINISHED, MilestoneEventKind, OwnerRole, TaskStatus
from workplans.choices import PlanStatus
from workplans.models import supervised_plan_ids

PERCENT_RANGE = Q(percent__gte=0) & Q(percent__lte=100)
# Status and percent agree (with "done is 100 %" beside each use): work not started is at 0.
NOT_STARTED_AT_0 = ~Q(status=TaskStatus.NOT_STARTED) | Q(percent=0)
# Finished work (已完成, 已销号) is at 100.
DONE_AT_100 = ~Q(status__in=FINISHED) | Q(percent=100)


class TaskQuerySet(models.QuerySet):
    """Who sees which task, written once: pages, the API, exports, dashboards and digests
    all start from visible_to() or from the two rules it is made of."""

    def owned_by(self, agency_ids) -> "TaskQuerySet":
        """Tasks any of `agency_ids` owns as lead or co-owner, each once, with `is_lead`:
        whether one of them leads it."""
        ownership = TaskOwner.objects.filter(task=OuterRef("pk"), agency_id__in=agency_ids)
        return self.filter(Exists(ownership)).annotate(is_lead=Exists(ownership.filter(role=OwnerRole.LEAD)))

    def published(self) -> "TaskQuerySet":
        """Tasks of published plans (active or archived): a draft is not out yet."""
        return self.exclude(plan__status=PlanStatus.DRAFT)

    def unowned(self) -> "TaskQuerySet":
        """Tasks nobody leads and not marked 无需填报: nobody would report them, so a plan
        holding one is not activated (the console's activation check, the import's
        "activate on confirm")."""
        lead = TaskOwner.objects.filter(task=OuterRef("pk"), role=OwnerRole.LEAD)
        return self.filter(reporting_exempt=False).exclude(Exists(lead))

    def active(self) -> "TaskQuerySet":
        """Tasks of the plans being run now: what is reported on and reminded of."""
        return self.filter(plan__status=PlanStatus.ACTIVE)

    def visible_to(self, user) -> "TaskQuerySet":
        """The tasks `user` may open, with `is_lead`. Admins: every task, drafts included (a
        draft plan is theirs to check before it goes out), `is_lead` False. Staff and
        leaders: the published tasks owned by an agency in their scope
        (accounts.services.scope_agency_ids). Everyone else: none."""
        if not (user.is_authenticated and user.is_active):
            return self.none()
        scope = scope_agency_ids(user)
        if scope is None:
            return self.annotate(is_lead=Value(False))
        if user.role == Role.SUPERVISOR:
            # The supervision office reads its agency tree and the plans it is named on; it
            # leads nothing.
            ownership = TaskOwner.objects.filter(task=OuterRef("pk"), agency_id__in=scope)
            return (
                self.published()
                .filter(Exists(ownership) | Q(plan_id__in=supervised_plan_ids(user)))
                .annotate(is_lead=Value(False))
            )
        return self.published().owned_by(scope)


class Task(models.Model):
    plan = models.ForeignKey(
        "workplans.Plan", verbose_name=_("工作计划"), on_delete=models.CASCADE, related_name="tasks"
    )
    section = models.ForeignKey(
        "workplans.Section",
        verbose_name=_("所属部分"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tasks",
    )
    number = models.CharField(_("序号"), max_length=20, blank=True, help_text=_("无编号的事项留空"))
    heading = models.CharField(_("任务摘要"), max_length=500)
    text = models.TextField(_("任务全文"), blank=True)
    # Heading and text folded to simplified script, lower case, no spaces: search matches
    # 醫療 and 医疗 alike. Kept by save() and by the importer's bulk writes.
    search_text = models.TextField(_("检索文本"), blank=True, editable=False)
    owners = models.ManyToManyField(
        "accounts.Agency", verbose_name=_("责任单位"), through="TaskOwner", related_name="tasks"
    )
    responsible_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("责任人"), blank=True, related_name="responsible_tasks"
    )
    due_on = models.DateField(_("完成时限"), help_text=_("未指定时为计划年度末；经批准的延期改写此日期"))
    # The due date as the plan was imported (基线): kept when approved delays move due_on,
    # so the year-end assessment sees the original promise beside the current one.
    baseline_due_on = models.DateField(_("原定时限"), null=True, blank=True, editable=False)
    # The day the work was finished: the date of the completion report that was closed out.
    completed_on = models.DateField(_("实际完成日期"), null=True, blank=True, editable=False)
    status = models.CharField(_("状态"), max_length=16, choices=TaskStatus.choices, default=TaskStatus.NOT_STARTED)
    percent = models.PositiveSmallIntegerField(_("完成百分比"), default=0)
    version = models.PositiveIntegerField(_("版本"), default=1, help_text=_("每次进展更新加一，用于防止覆盖他人修改"))
    last_progress_at = models.DateTimeField(_("最近更新时间"), null=True, blank=True)
    order = models.PositiveIntegerField(_("排序"), default=0)
    # A task nobody reports on (a general statement, a heading-like item): the admin marks
    # it so, explicitly, instead of leaving it without an owner. It is owed no report and
    # no reminder.
    reporting_exempt = models.BooleanField(
        _("无需填报"), default=False, help_text=_("总体性表述等无需责任单位报送进展的事项；不催报、不计入报送率。")
    )
    # 长期推进: unfinished at year end, continued in place instead of carried into the next
    # year's plan.
    long_term = models.BooleanField(_("长期推进"), default=False)
    # The rollover link: this task continues the unfinished task of the previous year's plan.
    carried_from = models.ForeignKey(
        "self",
        verbose_name=_("上年任务"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="carried_into",
    )
    # Alignment: the task of a higher plan (provincial, national) this task serves.
    serves = models.ForeignKey(
        "self",
        verbose_name=_("对应上级任务"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="served_by",
    )
    # What an admin set by hand on the plan pages ("owners", "responsible_users", "due_on"):
    # a new version of the document keeps these unless the admin chooses otherwise.
    hand_set = models.JSONField(_("手工设定"), default=list, blank=True, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    objects = TaskQuerySet.as_manager()
    history = audit_history(
        verbose_name=_("任务变更记录"), m2m_fields=[responsible_users], excluded_fields=["search_text"]
    )

    class Meta:
        verbose_name = _("任务")
        verbose_name_plural = _("任务")
        ordering = ["plan", "order", "id"]
        indexes = [
            # Overdue and due-soon lists: open tasks of a plan by due date.
            models.Index(fields=["plan", "status", "due_on"], name="task_plan_status_due_idx"),
            # The date filters of 我的任务 and of GET /api/v1/tasks/ on open tasks: overdue=
            # (due_on < today), due_within=, due_after=/due_before=, and the risk filters
            # risk= and at_risk= (tasks.risk.risk_q: red is overdue, amber and green are due
            # from today on; percent is read from the index).
            models.Index(fields=["due_on", "percent"], condition=~Q(status__in=FINISHED), name="task_open_due_idx"),
            # On PostgreSQL two more, made in migrations (SQLite does without): the trigram
            # index on search_text for q= (0005), and task_list_cover_idx (0011), the list
            # keys by id, from which 我的任务 and GET /api/v1/tasks/ count and order the tasks
            # of the user's agencies without reading their wide rows (tasks.filters.PagedByKeys).
            # GET /api/v1/tasks/?updated_since= (a system fetching what changed since its last
            # call) and ?ordering=-updated_at.
            models.Index(fields=["updated_at"], name="task_updated_at_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["id", "plan"], name="task_id_plan_key"),
            models.UniqueConstraint(
                fields=["section", "number"],
                condition=Q(section__isnull=False) & ~Q(number=""),
                name="task_number_unique_in_section",
            ),
            models.UniqueConstraint(
                fields=["plan", "number"],
                condition=Q(section__isnull=True) & ~Q(number=""),
                name="task_number_unique_in_plan_top",
            ),
            models.CheckConstraint(condition=PERCENT_RANGE, name="task_percent_0_100"),
            models.CheckConstraint(condition=Q(status__in=TaskStatus.values), name="task_status_valid"),
            models.CheckConstraint(condition=DONE_AT_100, name="task_done_is_100_percent"),
            models.CheckConstraint(condition=NOT_STARTED_AT_0, name="task_not_started_is_0_percent"),
            models.CheckConstraint(condition=Q(version__gte=1), name="task_version_positive"),
            models.CheckConstraint(condition=~Q(serves=models.F("id")), name="task_not_serving_itself"),
            models.CheckConstraint(condition=~Q(carried_from=models.F("id")), name="task_not_carried_from_itself"),
        ]

    def __str__(self):
        return f"{self.number}. {self.heading}" if self.number else self.heading

    def save(self, *args, **kwargs):
        if self.due_on is None and self.plan_id:
            self.due_on = self.plan.year_end
        if self.baseline_due_on is None:
            self.baseline_due_on = self.due_on
        self.search_text = self.make_search_text(self.heading, self.text)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"heading", "text"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "search_text"}
        super().save(*args, **kwargs)

    # How long a heading may be where a message names its task.
    LABEL_CHARS = 60

    @property
    def label(self) -> str:
        """The task as a message names it: "12. heading", the heading cut at LABEL_CHARS."""
        heading = self.heading if len(self.heading) <= self.LABEL_CHARS else self.heading[: self.LABEL_CHARS - 1] + "…"
        return f"{self.number}. {heading}" if self.number else heading

    @staticmethod
    def make_search_text(heading: str, text: str) -> str:
        return script_key(f"{heading}\n{text}")

    def is_overdue(self, today: datetime.date | None = None) -> bool:
        today = today or timezone.localdate()
        return self.status not in FINISHED and self.due_on < today

    @property
    def lead_agency(self):
        for owner in self.task_owners.all():
            if owner.role == OwnerRole.LEAD:
                return owner.agency
        return None


class TaskOwner(models.Model):
    """An agency responsible for a task: one lead (牵头) and any number of co-owners (配合)."""

    task = models.ForeignKey(Task, verbose_name=_("任务"), on_delete=models.CASCADE, related_name="task_owners")
    agency = models.ForeignKey(
        "accounts.Agency", verbose_name=_("单位"), on_delete=models.PROTECT, related_name="task_ownerships"
    )
    role = models.CharField(_("角色"), max_length=16, choices=OwnerRole.choices, default=OwnerRole.CO_OWNER)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    history = audit_history(verbose_name=_("责任单位变更记录"))

    class Meta:
        verbose_name = _("责任单位")
        verbose_name_plural = _("责任单位")
        ordering = ["task", "order", "id"]
        indexes = [
            # Every task list starts here: Task.objects.visible_to (我的任务, 任务清单, the API's
            # lists, exports) reads the tasks of the user's agencies and whether one of them
            # leads (is_lead) from this index alone; so do the API's owner_id= and role=.
            models.Index(fields=["agency", "task", "role"], name="taskowner_agency_task_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["task", "agency"], name="taskowner_agency_once_per_task"),
            models.UniqueConstraint(
                fields=["task"], condition=Q(role=OwnerRole.LEAD), name="taskowner_one_lead_per_task"
            ),
            models.CheckConstraint(condition=Q(role__in=OwnerRole.values), name="taskowner_role_valid"),
        ]

    def __str__(self):
        return f"{self.agency} ({self.get_role_display()})"


class Milestone(models.Model):
    task = models.ForeignKey(Task, verbose_name=_("任务"), on_delete=models.CASCADE, related_name="milestones")
    due_on = models.DateField(_("节点日期"))
    baseline_due_on = models.DateField(_("原定节点日期"), null=True, blank=True, editable=False)
    text = models.CharField(_("节点内容"), max_length=500)
    done_on = models.DateField(_("完成日期"), null=True, blank=True)
    done_by_update = models.ForeignKey(
        "ProgressUpdate",
        verbose_name=_("完成时的进展记录"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="milestones_done",
    )
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    history = audit_history(verbose_name=_("节点变更记录"))

    class Meta:
        verbose_name = _("时间节点")
        verbose_name_plural = _("时间节点")
        ordering = ["task", "due_on", "order", "id"]
        indexes = [
            # Reminder scan: open milestones by due date.
            models.Index(fields=["due_on"], condition=Q(done_on__isnull=True), name="milestone_open_due_idx"),
        ]

    def __str__(self):
        return f"{self.due_on:%Y-%m-%d} {self.text}"

    def save(self, *args, **kwargs):
        if self.baseline_due_on is None:
            self.baseline_due_on = self.due_on
        super().save(*args, **kwargs)


class TaskScopedQuerySet(models.QuerySet):
    """Rows of a task (a `task` foreign key): seen by whoever may open the task."""

    def visible_to(self, user):
        return self.filter(task__in=Task.objects.visible_to(user).values("pk"))


class AppendOnlyQuerySet(TaskScopedQuerySet):
    """Refuses bulk changes: the rows of a log are added, never changed or removed. A row
    is seen by whoever may open its task."""

    def update(self, **kwargs):
        raise ValidationError(self.model.change_refused())

    def delete(self):
        raise ValidationError(self.model.delete_refused())


class AppendOnlyModel(models.Model):
    """A row that is part of the record: saved once, then never changed or deleted, not
    through the model, its queryset or the admin (which shows these read-only)."""

    record_name = _("记录")

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError(self.change_refused())
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(self.delete_refused())

    @classmethod
    def change_refused(cls) -> str:
        return _("%(record)s只能新增，不能修改。") % {"record": cls.record_name}

    @classmethod
    def delete_refused(cls) -> str:
        return _("%(record)s只能新增，不能删除。") % {"record": cls.record_name}


class ProgressUpdate(AppendOnlyModel):
    """One report on a task. Append-only: the task's current state is the latest of these."""

    task = models.ForeignKey(Task, verbose_name=_("任务"), on_delete=models.CASCADE, related_name="progress_updates")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("填报人"), on_delete=models.PROTECT, related_name="progress_updates"
    )
    created_at = models.DateTimeField(_("填报时间"), default=timezone.now, db_index=True)
    status = models.CharField(_("状态"), max_length=16, choices=TaskStatus.choices)
    percent = models.PositiveSmallIntegerField(_("完成百分比"))
    note = models.TextField(_("进展说明"), blank=True)
    # What the task showed before this update, so the history reads "进行中 → 已完成".
    status_before = models.CharField(_("原状态"), max_length=16, choices=TaskStatus.choices, blank=True)
    percent_before = models.PositiveSmallIntegerField(_("原完成百分比"), null=True, blank=True)
    based_on_version = models.PositiveIntegerField(_("基于版本"), null=True, blank=True)
    # A token the form carries: the same form posted twice (a double click, a retried
    # request) is one update, not two.
    submission_key = models.CharField(_("提交标识"), max_length=64, blank=True, editable=False)

    record_name = _("进展记录")

    class Meta:
        verbose_name = _("进展记录")
        verbose_name_plural = _("进展记录")
        ordering = ["-created_at", "-id"]
        get_latest_by = ["created_at", "id"]
        indexes = [
            # Task page history and "latest update per task".
            models.Index(fields=["task", "-created_at"], name="progress_task_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=PERCENT_RANGE, name="progress_percent_0_100"),
            models.CheckConstraint(condition=Q(status__in=TaskStatus.values), name="progress_status_valid"),
            models.CheckConstraint(condition=DONE_AT_100, name="progress_done_is_100_percent"),
            models.CheckConstraint(condition=NOT_STARTED_AT_0, name="progress_not_started_is_0_percent"),
            models.UniqueConstraint(
                fields=["task", "submission_key"],
                condition=~Q(submission_key=""),
                name="progress_submission_once_per_task",
            ),
        ]

    def __str__(self):
        return f"{self.task} · {self.get_status_display()} {self.percent}%"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError(self.change_refused())
        with transaction.atomic():
            # Lock the task first: the "before" values and the version are read and moved
            # under the same lock, so two updates at once are ordered, never interleaved.
            task = Task.objects.select_for_update().get(pk=self.task_id)
            self.status_before, self.percent_before = task.status, task.percent
            super().save(*args, **kwargs)
            if task.last_progress_at is not None and task.last_progress_at > self.created_at:
                return  # a back-dated entry: the task keeps following the latest one
            # The task follows its latest update; the version moves so a stale form loses.
            # Saved through the model (the row is locked) so the audit trail records it.
            task.status, task.percent = self.status, self.percent
            task.version += 1
            task.last_progress_at = self.created_at
            task.save(update_fields=["status", "percent", "version", "last_progress_at", "updated_at"])
            self.task = task


class MilestoneEvent(AppendOnlyModel):
    """A milestone marked done, or its completion taken back (with the reason): the record
    of who did which when. The milestone's done_on is what the latest of these says, kept
    by tasks.services (record_milestones_done, reopen_milestone), never edited by hand."""

    milestone = models.ForeignKey(
        Milestone, verbose_name=_("时间节点"), on_delete=models.CASCADE, related_name="events"
    )
    # Repeated from the milestone: a row is seen by whoever may open its task.
    task = models.ForeignKey(Task, verbose_name=_("任务"), on_delete=models.CASCADE, related_name="milestone_events")
    kind = models.CharField(_("事项"), max_length=16, choices=MilestoneEventKind.choices)
    done_on = models.DateField(_("完成日期"), null=True, blank=True)
    # Empty only on rows written from the milestones done before this log existed, when
    # no progress update named who did it.
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="milestone_events",
    )
    recorded_at = models.DateTimeField(_("操作时间"), default=timezone.now)
    progress_update = models.ForeignKey(
        ProgressUpdate,
        verbose_name=_("进展记录"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="milestone_events",
    )
    reason = models.CharField(_("原因"), max_length=500, blank=True)

    record_name = _("时间节点完成记录")

    class Meta:
        verbose_name = _("时间节点完成记录")
        verbose_name_plural = _("时间节点完成记录")
        ordering = ["milestone", "recorded_at", "id"]
        indexes = [
            # Task page: each milestone's events, in order.
            models.Index(fields=["milestone", "recorded_at"], name="milestone_event_time_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=MilestoneEventKind.values), name="milestone_event_kind_valid"),
            models.CheckConstraint(
                condition=~Q(kind=MilestoneEventKind.REOPENED) | ~Q(reason=""), name="milestone_reopened_has_reason"
            ),
            models.CheckConstraint(
                condition=~Q(kind=MilestoneEventKind.DONE) | Q(done_on__isnull=False), name="milestone_done_has_date"
            ),
        ]

    def __str__(self):
        return f"{self.milestone} · {self.get_kind_display()}"


def evidence_path(attachment, filename):
    # The stored name is ours (a random part, the checked extension), never the uploader's,
    # so a name cannot climb out of the folder or collide; the original is kept in the row.
    return f"evidence/{timezone.localdate():%Y/%m}/{attachment.task_id}-{secrets.token_hex(8)}{attachment.extension}"


class Attachment(AppendOnlyModel):
    """An evidence file reported with a progress update. Part of the record: never changed."""

    progress_update = models.ForeignKey(
        ProgressUpdate, verbose_name=_("进展记录"), on_delete=models.CASCADE, related_name="attachments"
    )
    # Repeated from the update so the task page lists all files in one query.
    task = models.ForeignKey(Task, verbose_name=_("任务"), on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("文件"), upload_to=evidence_path, max_length=200)
    original_name = models.CharField(_("原文件名"), max_length=255)
    kind = models.CharField(_("类型"), max_length=8)
    content_type = models.CharField(_("MIME 类型"), max_length=100)
    size = models.PositiveBigIntegerField(_("大小（字节）"))
    sha256 = models.CharField(_("文件摘要(SHA-256)"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("上传人"), on_delete=models.PROTECT, related_name="attachments"
    )
    created_at = models.DateTimeField(_("上传时间"), default=timezone.now)

    record_name = _("佐证材料")

    class Meta:
        verbose_name = _("佐证材料")
        verbose_name_plural = _("佐证材料")
        ordering = ["-created_at", "-id"]
        indexes = [
            # Task page: a task's files, newest first.
            models.Index(fields=["task", "-created_at"], name="attachment_task_created_idx"),
        ]

    def __str__(self):
        return self.original_name

    @property
    def extension(self) -> str:
        return os.path.splitext(self.original_name)[1].lower()
