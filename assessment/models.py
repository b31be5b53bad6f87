"""The assessment's records (考核): a plan's scoring scheme and its blocks, the leaders'
evaluations, and the year's result as it was frozen (one row per scored item), which a
frozen year reads instead of recomputing."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assessment.choices import SchemeState
from assessment.rules import EVALUATION_MAX, EVALUATION_MIN, Block, EventKind, ItemRole

WEIGHT_RANGE = Q(lead_weight__gte=0) & Q(lead_weight__lte=10) & Q(co_weight__gte=0) & Q(co_weight__lte=10)


class Scheme(models.Model):
    """How a plan's year is scored (考核方案): one per plan (the plan fixes the year), made
    of one rule per building block and the weights of a task's lead and co-owners. Drafted
    and activated by the system admin; frozen at the year's end, after which it and its
    year's evaluations are read-only and the result is read from FrozenItem."""

    plan = models.OneToOneField(
        "workplans.Plan", verbose_name=_("工作计划"), on_delete=models.CASCADE, related_name="assessment_scheme"
    )
    state = models.CharField(_("状态"), max_length=12, choices=SchemeState.choices, default=SchemeState.DRAFT)
    lead_weight = models.DecimalField(_("牵头单位权重"), max_digits=4, decimal_places=2)
    co_weight = models.DecimalField(_("配合单位权重"), max_digits=4, decimal_places=2)
    version = models.PositiveIntegerField(_("版本"), default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("创建人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)
    frozen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("冻结人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    frozen_at = models.DateTimeField(_("冻结时间"), null=True, blank=True)
    # The last day the frozen result counted events up to.
    frozen_until = models.DateField(_("计分截止日"), null=True, blank=True)

    class Meta:
        verbose_name = _("考核方案")
        verbose_name_plural = _("考核方案")
        ordering = ["-plan__year", "plan__title"]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=SchemeState.values), name="scheme_state_valid"),
            models.CheckConstraint(condition=WEIGHT_RANGE, name="scheme_weights_0_10"),
            models.CheckConstraint(condition=Q(version__gte=1), name="scheme_version_positive"),
            models.CheckConstraint(
                condition=~Q(state=SchemeState.FROZEN) | Q(frozen_at__isnull=False, frozen_until__isnull=False),
                name="scheme_frozen_says_when",
            ),
        ]

    def __str__(self):
        return f"{self.plan} · {self.get_state_display()}"

    @property
    def is_frozen(self) -> bool:
        return self.state == SchemeState.FROZEN


class SchemeRule(models.Model):
    """One building block of a scheme: on or off, its points, and an optional cap on what
    one agency can get from it in the year."""

    scheme = models.ForeignKey(Scheme, verbose_name=_("考核方案"), on_delete=models.CASCADE, related_name="rules")
    block = models.CharField(_("计分项"), max_length=24, choices=Block.choices)
    enabled = models.BooleanField(_("启用"), default=True)
    points = models.DecimalField(_("分值"), max_digits=6, decimal_places=2)
    cap = models.DecimalField(
        _("单位年度上限"),
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("一个单位全年从本项最多得（或扣）多少分；留空不设上限。"),
    )

    class Meta:
        verbose_name = _("计分项")
        verbose_name_plural = _("计分项")
        ordering = ["scheme", "id"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "block"], name="scheme_rule_block_once"),
            models.CheckConstraint(condition=Q(block__in=Block.values), name="scheme_rule_block_valid"),
            models.CheckConstraint(condition=Q(points__gte=-100) & Q(points__lte=100), name="scheme_rule_points_range"),
            models.CheckConstraint(condition=Q(cap__isnull=True) | Q(cap__gt=0), name="scheme_rule_cap_positive"),
        ]

    def __str__(self):
        return f"{self.get_block_display()} {self.points}"


class Evaluation(models.Model):
    """A leader's evaluation of an agency for the year (领导评价): points within a bounded
    range and the written reason; never edited, and read-only once the year is frozen."""

    scheme = models.ForeignKey(Scheme, verbose_name=_("考核方案"), on_delete=models.CASCADE, related_name="evaluations")
    agency = models.ForeignKey(
        "accounts.Agency", verbose_name=_("被评价单位"), on_delete=models.PROTECT, related_name="assessment_evaluations"
    )
    points = models.DecimalField(_("评价分"), max_digits=5, decimal_places=2)
    reason = models.TextField(_("评价理由"))
    given_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("评价人"), on_delete=models.PROTECT, related_name="+"
    )
    given_at = models.DateTimeField(_("评价时间"), default=timezone.now)

    class Meta:
        verbose_name = _("领导评价")
        verbose_name_plural = _("领导评价")
        ordering = ["given_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(points__gte=EVALUATION_MIN) & Q(points__lte=EVALUATION_MAX), name="evaluation_points_range"
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="evaluation_says_why"),
        ]

    def __str__(self):
        return f"{self.agency} {self.points}"


class FrozenItem(models.Model):
    """One scored item of a frozen year, as it was when frozen: the agency, the role it had
    on the task, the block, the task and the event, the day, the points and the reason in
    words. The frozen result is read from these rows and never recomputed."""

    scheme = models.ForeignKey(
        Scheme, verbose_name=_("考核方案"), on_delete=models.CASCADE, related_name="frozen_items"
    )
    agency = models.ForeignKey(
        "accounts.Agency", verbose_name=_("单位"), on_delete=models.PROTECT, related_name="assessment_items"
    )
    agency_name = models.CharField(_("单位名称"), max_length=100)
    role = models.CharField(_("角色"), max_length=12, choices=ItemRole.choices)
    block = models.CharField(_("计分项"), max_length=24, choices=Block.choices)
    # The task and event as references; their words are kept beside them so a deleted
    # task cannot change the year's result.
    task = models.ForeignKey(
        "tasks.Task", verbose_name=_("任务"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    task_label = models.CharField(_("任务"), max_length=200, blank=True)
    event_kind = models.CharField(_("事项类型"), max_length=12, choices=EventKind.choices)
    event_id = models.PositiveBigIntegerField(_("事项编号"), null=True, blank=True)
    day = models.DateField(_("日期"))
    cycle_start = models.DateField(_("所属周期"))
    cycle_label = models.CharField(_("周期"), max_length=40)
    points = models.DecimalField(_("分值"), max_digits=7, decimal_places=2)
    weighted_points = models.DecimalField(_("计入得分"), max_digits=7, decimal_places=2)
    reason = models.TextField(_("计分理由"))

    class Meta:
        verbose_name = _("考核结果明细")
        verbose_name_plural = _("考核结果明细")
        ordering = ["scheme", "agency", "day", "id"]
        indexes = [
            # The drill-down and the ranking of a frozen year: a scheme's items per agency.
            models.Index(fields=["scheme", "agency", "day"], name="frozenitem_scheme_agency_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(role__in=ItemRole.values), name="frozenitem_role_valid"),
            models.CheckConstraint(condition=Q(block__in=Block.values), name="frozenitem_block_valid"),
            models.CheckConstraint(condition=~Q(reason=""), name="frozenitem_says_why"),
        ]

    def __str__(self):
        return f"{self.agency_name} {self.weighted_points} {self.reason[:20]}"


class FrozenStanding(models.Model):
    """One agency's place in a frozen year's ranking, stored with the items so the ranking
    of a frozen year (agencies with no item included) is read, never recomputed."""

    scheme = models.ForeignKey(
        Scheme, verbose_name=_("考核方案"), on_delete=models.CASCADE, related_name="frozen_standings"
    )
    agency = models.ForeignKey("accounts.Agency", verbose_name=_("单位"), on_delete=models.PROTECT, related_name="+")
    agency_name = models.CharField(_("单位名称"), max_length=100)
    rank = models.PositiveIntegerField(_("名次"))
    points = models.DecimalField(_("总分"), max_digits=8, decimal_places=2)
    lead_points = models.DecimalField(_("牵头任务得分"), max_digits=8, decimal_places=2)
    co_points = models.DecimalField(_("配合任务得分"), max_digits=8, decimal_places=2)
    evaluation_points = models.DecimalField(_("领导评价得分"), max_digits=8, decimal_places=2)

    class Meta:
        verbose_name = _("考核排名")
        verbose_name_plural = _("考核排名")
        ordering = ["scheme", "rank", "agency_name"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "agency"], name="frozenstanding_agency_once"),
            models.CheckConstraint(condition=Q(rank__gte=1), name="frozenstanding_rank_positive"),
        ]

    def __str__(self):
        return f"{self.rank}. {self.agency_name} {self.points}"
