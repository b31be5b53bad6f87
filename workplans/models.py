"""Annual plans and their section tree."""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.services import scope_agency_ids
from audit.history import audit_history
from core.roles import Role
from workplans.choices import PlanStatus, ReportingCycle

MIN_YEAR = 2000
MAX_YEAR = 2100


def plan_source_path(plan: "Plan", filename: str) -> str:
    return f"plans/{plan.year}/{filename}"


def supervised_plan_ids(user) -> list[int]:
    """The plans a supervisor is named on, read once per request (kept on the user)."""
    cached = getattr(user, "_supervised_plans", None)
    if cached is None:
        cached = list(Plan.supervisors.through.objects.filter(user_id=user.pk).values_list("plan_id", flat=True))
        user._supervised_plans = cached
    return cached


class PlanQuerySet(models.QuerySet):
    def published(self) -> "PlanQuerySet":
        """Active or archived: a draft is not out yet."""
        return self.exclude(status=PlanStatus.DRAFT)

    def with_tasks_owned_by(self, agency_ids) -> "PlanQuerySet":
        """Plans in which one of `agency_ids` owns a task (lead or co-owner). Read through the
        reverse relations (tasks, their owners): the plans app sits below the tasks app."""
        owning = Plan.objects.filter(tasks__task_owners__agency_id__in=agency_ids).values("pk")
        return self.filter(pk__in=owning)

    def visible_to(self, user) -> "PlanQuerySet":
        """The plans `user` sees: admins every plan, drafts included; staff and leaders the
        published plans in which an agency of their scope owns a task; supervisors also the
        published plans they are named on. The same rule as Task.objects.visible_to, seen
        from the plan (the tests hold the two together)."""
        if not (user.is_authenticated and user.is_active):
            return self.none()
        scope = scope_agency_ids(user)
        if scope is None:
            return self
        owned = self.published().with_tasks_owned_by(scope)
        if user.role == Role.SUPERVISOR:
            return owned | self.published().filter(pk__in=supervised_plan_ids(user))
        return owned


class Plan(models.Model):
    title = models.CharField(_("标题"), max_length=200)
    year = models.PositiveSmallIntegerField(_("年度"))
    issuer = models.ForeignKey(
        "accounts.Agency",
        verbose_name=_("印发单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="issued_plans",
    )
    doc_number = models.CharField(_("文号"), max_length=100, blank=True)
    issued_on = models.DateField(_("印发日期"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    reporting_cycle = models.CharField(
        _("报送周期"), max_length=16, choices=ReportingCycle.choices, default=ReportingCycle.MONTHLY
    )
    report_due_day = models.PositiveSmallIntegerField(
        _("报送截止日"),
        default=25,
        help_text=_("月报：每月第几日前报送；季报：每季度最后一个月的第几日前报送（1–28）。"),
    )
    # The supervision loop's settings for this plan (supervision app).
    requires_unit_signoff = models.BooleanField(
        _("报送需单位审核"),
        default=False,
        help_text=_("开启后，经办人提交的报送须经本单位领导或审核人审核通过，才送督查室审核。"),
    )
    requests_need_unit_signoff = models.BooleanField(
        _("延期/调整申请需单位审核"), default=True, help_text=_("申请先经本单位领导或审核人同意，再送督查室。")
    )
    target_changes_need_leader = models.BooleanField(
        _("调整指标须分管领导审批"), default=True, help_text=_("调整指标目标值的申请，经督查室同意后还须分管领导审批。")
    )
    leader_in_charge = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("分管领导"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="plans_in_charge",
        limit_choices_to={"role": "leader"},
    )
    supervisors = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("督查专员"),
        blank=True,
        related_name="supervised_plans",
        limit_choices_to={"role": "supervisor"},
        help_text=_("除其单位范围外，这些督查专员还负责本计划。"),
    )
    # Alignment: the plan of a higher level (provincial, national) this plan carries out.
    higher_plan = models.ForeignKey(
        "self",
        verbose_name=_("上级计划"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="lower_plans",
        help_text=_("本计划所落实的省级或国家级计划。"),
    )
    # The year closed (年度关闭): figures and the assessment frozen, the plan archived.
    closed_at = models.DateTimeField(_("年度关闭时间"), null=True, blank=True, editable=False)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("关闭人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    source_file = models.FileField(_("原始文件"), upload_to=plan_source_path, blank=True)
    source_sha256 = models.CharField(_("文件摘要(SHA-256)"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = PlanQuerySet.as_manager()
    history = audit_history(verbose_name=_("计划变更记录"))

    class Meta:
        verbose_name = _("工作计划")
        verbose_name_plural = _("工作计划")
        ordering = ["-year", "title"]
        indexes = [
            # Dashboards and 我的任务 list the active plans of a year; GET /api/v1/plans/?year=&status=
            # and the task lists' year= (through the task's plan) filter by them.
            models.Index(fields=["year", "status"], name="plan_year_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(year__gte=MIN_YEAR) & Q(year__lte=MAX_YEAR), name="plan_year_in_range"),
            models.CheckConstraint(
                condition=Q(report_due_day__gte=1) & Q(report_due_day__lte=28), name="plan_report_due_day_1_28"
            ),
            models.CheckConstraint(condition=Q(status__in=PlanStatus.values), name="plan_status_valid"),
            models.CheckConstraint(condition=~Q(higher_plan=models.F("id")), name="plan_not_own_higher_plan"),
            models.CheckConstraint(
                condition=Q(reporting_cycle__in=ReportingCycle.values), name="plan_reporting_cycle_valid"
            ),
            # The same bytes imported twice are one plan.
            models.UniqueConstraint(
                fields=["source_sha256"], condition=~Q(source_sha256=""), name="plan_source_sha256_unique"
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def is_closed(self) -> bool:
        """The year is closed (archived): its figures and assessment are frozen and nothing
        in it is written any more, except the tasks marked 长期推进 that continue in place."""
        return self.status == PlanStatus.ARCHIVED

    @property
    def year_end(self) -> datetime.date:
        return datetime.date(self.year, 12, 31)


class SectionQuerySet(models.QuerySet):
    def visible_to(self, user) -> "SectionQuerySet":
        """A section is seen with its plan."""
        return self.filter(plan__in=Plan.objects.visible_to(user).values("pk"))

    def with_descendants(self) -> set[int]:
        """The ids of these sections and of every section below them, in one query: the
        sections of their plans are read once and walked (a plan has dozens of them)."""
        roots = set(self.values_list("pk", flat=True))
        pairs = list(Section.objects.filter(plan__sections__in=roots).values_list("id", "parent_id").distinct())
        found, level = set(roots), set(roots)
        while level:
            level = {pk for pk, parent in pairs if parent in level} - found
            found |= level
        return found


class Section(models.Model):
    plan = models.ForeignKey(Plan, verbose_name=_("工作计划"), on_delete=models.CASCADE, related_name="sections")
    parent = models.ForeignKey(
        "self", verbose_name=_("上级部分"), null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    label = models.CharField(_("编号"), max_length=20, help_text=_("如 第二部分、一、(三)"))
    title = models.CharField(_("标题"), max_length=300, blank=True)
    order = models.PositiveIntegerField(_("排序"), default=0)

    objects = SectionQuerySet.as_manager()
    history = audit_history(verbose_name=_("部分变更记录"))

    class Meta:
        verbose_name = _("计划部分")
        verbose_name_plural = _("计划部分")
        ordering = ["plan", "order", "id"]
        constraints = [
            # Target of the composite keys that keep children in the same plan.
            models.UniqueConstraint(fields=["id", "plan"], name="section_id_plan_key"),
            models.UniqueConstraint(
                fields=["plan", "parent", "label"], condition=Q(parent__isnull=False), name="section_label_unique"
            ),
            models.UniqueConstraint(
                fields=["plan", "label"], condition=Q(parent__isnull=True), name="section_top_label_unique"
            ),
            models.CheckConstraint(condition=~Q(parent=models.F("id")), name="section_not_own_parent"),
        ]

    def __str__(self):
        return f"{self.label} {self.title}".strip()
