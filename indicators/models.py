"""Quantitative targets of a plan and the readings reported against them."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.history import audit_history
from indicators.choices import Comparator
from indicators.units import with_unit
from tasks.models import Task
from workplans.models import Plan


class IndicatorQuerySet(models.QuerySet):
    def visible_to(self, user) -> "IndicatorQuerySet":
        """An indicator is seen with its task; one of the whole plan (no task) with its plan."""
        return self.filter(
            Q(task__in=Task.objects.visible_to(user).values("pk"))
            | Q(task__isnull=True, plan__in=Plan.objects.visible_to(user).values("pk"))
        )


class ReadingQuerySet(models.QuerySet):
    """Readings are history: added, never changed or removed (a correction is a new reading
    that supersedes the old one). Only the database's own cascades remove them, with their
    plan, indicator or task."""

    def visible_to(self, user) -> "ReadingQuerySet":
        """A reading is seen with its indicator."""
        return self.filter(indicator__in=Indicator.objects.visible_to(user).values("pk"))

    def current(self) -> "ReadingQuerySet":
        """Readings no correction has superseded: the ones latest values and attainment
        count (indicators.services.with_latest_reading)."""
        return self.filter(superseded_by__isnull=True)

    def update(self, **kwargs):
        # The one change allowed: the link to a progress update that is itself being
        # removed with its task (on_delete=SET_NULL, which Django runs as an update).
        if set(kwargs) == {"progress_update"} and kwargs["progress_update"] is None:
            return super().update(**kwargs)
        raise ValidationError(Reading.change_refused())

    def delete(self):
        raise ValidationError(Reading.delete_refused())


class Indicator(models.Model):
    plan = models.ForeignKey(
        "workplans.Plan", verbose_name=_("工作计划"), on_delete=models.CASCADE, related_name="indicators"
    )
    task = models.ForeignKey(
        "tasks.Task",
        verbose_name=_("任务"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="indicators",
    )
    name = models.CharField(_("指标名称"), max_length=200)
    comparator = models.CharField(_("比较方式"), max_length=2, choices=Comparator.choices, default=Comparator.AT_LEAST)
    target = models.DecimalField(_("目标值"), max_digits=14, decimal_places=4)
    # The target as the plan was imported (基线): an approved change request moves target,
    # never this.
    baseline_target = models.DecimalField(
        _("原定目标值"), max_digits=14, decimal_places=4, null=True, blank=True, editable=False
    )
    unit = models.CharField(_("单位"), max_length=20, blank=True)
    due_on = models.DateField(_("目标日期"), null=True, blank=True)
    baseline = models.DecimalField(_("基线值"), max_digits=14, decimal_places=4, null=True, blank=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    objects = IndicatorQuerySet.as_manager()
    history = audit_history(verbose_name=_("指标变更记录"))

    class Meta:
        verbose_name = _("量化指标")
        verbose_name_plural = _("量化指标")
        ordering = ["plan", "task", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["id", "plan"], name="indicator_id_plan_key"),
            models.CheckConstraint(condition=Q(comparator__in=Comparator.values), name="indicator_comparator_valid"),
        ]

    def __str__(self):
        return f"{self.name} {self.comparator} {with_unit(self.target, self.unit)}"

    def save(self, *args, **kwargs):
        if self.plan_id is None and self.task_id is not None:
            self.plan_id = self.task.plan_id
        if self.baseline_target is None:
            self.baseline_target = self.target
        super().save(*args, **kwargs)


class Reading(models.Model):
    """A value of an indicator as of a date. The plan is repeated here so the database
    itself can refuse a reading filed under a plan its indicator does not belong to."""

    plan = models.ForeignKey(
        "workplans.Plan", verbose_name=_("工作计划"), on_delete=models.CASCADE, related_name="readings"
    )
    indicator = models.ForeignKey(Indicator, verbose_name=_("指标"), on_delete=models.CASCADE, related_name="readings")
    value = models.DecimalField(_("数值"), max_digits=14, decimal_places=4)
    as_of = models.DateField(_("统计日期"))
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("填报人"), on_delete=models.PROTECT, related_name="readings"
    )
    note = models.CharField(_("备注"), max_length=500, blank=True)
    progress_update = models.ForeignKey(
        "tasks.ProgressUpdate",
        verbose_name=_("随附的进展记录"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="readings",
    )
    created_at = models.DateTimeField(_("填报时间"), default=timezone.now)
    # A correction: the reading it replaces, and why. The old one stays, shown struck
    # through; latest values and attainment count only readings nothing supersedes.
    supersedes = models.OneToOneField(
        "self",
        verbose_name=_("更正的指标值"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="superseded_by",
    )
    correction_reason = models.CharField(_("更正原因"), max_length=500, blank=True)

    objects = ReadingQuerySet.as_manager()
    history = audit_history(verbose_name=_("指标值变更记录"))

    class Meta:
        verbose_name = _("指标值")
        verbose_name_plural = _("指标值")
        ordering = ["indicator", "-as_of", "-id"]
        get_latest_by = ["as_of", "id"]
        indexes = [
            # Latest reading of an indicator (with_latest_reading's ORDER BY as_of DESC, id
            # DESC LIMIT 1, read off the index without a sort), and its trend (backwards).
            models.Index(fields=["indicator", "-as_of", "-id"], name="reading_indicator_latest_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(supersedes__isnull=True, correction_reason="")
                | (Q(supersedes__isnull=False) & ~Q(correction_reason="")),
                name="reading_correction_has_reason",
            ),
        ]

    def __str__(self):
        return f"{self.indicator.name} = {self.value.normalize():f} ({self.as_of:%Y-%m-%d})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError(self.change_refused())
        if self.plan_id is None and self.indicator_id is not None:
            self.plan_id = self.indicator.plan_id
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(self.delete_refused())

    @staticmethod
    def change_refused() -> str:
        return _("指标值只能新增，不能修改；填错了请“更正”，原值会保留。")

    @staticmethod
    def delete_refused() -> str:
        return _("指标值只能新增，不能删除；填错了请“更正”，原值会保留。")
