"""The public progress page's records: a plan's publication settings (PublicSetting), the
public text the supervision office writes for a task (PublicNarrative, kept apart from
every internal note), and the snapshots the public page is served from (PublicSnapshot)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from publication.choices import DEFAULT_FIELDS, Schedule, SnapshotState
from tasks.models import Task
from workplans.models import Plan


def default_fields() -> list[str]:
    return list(DEFAULT_FIELDS)


class PublicSetting(models.Model):
    """Whether a plan is public, which task fields are, and how often it is republished.
    Off until an admin turns it on; `version` moves with every change, so a snapshot
    built under other settings is never published as if it matched these."""

    plan = models.OneToOneField(
        Plan, verbose_name=_("工作计划"), on_delete=models.CASCADE, related_name="public_setting"
    )
    enabled = models.BooleanField(_("对外公开"), default=False)
    # PublicField values; the builder reads nothing that is not listed there.
    fields = models.JSONField(_("公开内容"), default=default_fields, blank=True)
    schedule = models.CharField(_("更新方式"), max_length=8, choices=Schedule.choices, default=Schedule.MANUAL)
    version = models.PositiveIntegerField(_("版本"), default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("修改人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    class Meta:
        verbose_name = _("政务公开设置")
        verbose_name_plural = _("政务公开设置")
        constraints = [
            models.CheckConstraint(condition=Q(schedule__in=Schedule.values), name="public_setting_schedule_valid"),
            models.CheckConstraint(condition=Q(version__gte=1), name="public_setting_version_positive"),
        ]

    def __str__(self):
        return f"{self.plan} · {self.get_schedule_display()}"


class PublicNarrative(models.Model):
    """The sentence or two the public reads about a task (公开说明), written by the
    supervision office for the public: never copied from a report, a note or a notice."""

    task = models.OneToOneField(Task, verbose_name=_("任务"), on_delete=models.CASCADE, related_name="public_narrative")
    text = models.TextField(_("公开说明"), blank=True)
    version = models.PositiveIntegerField(_("版本"), default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("撰写人"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(_("撰写时间"), auto_now=True)

    class Meta:
        verbose_name = _("公开说明")
        verbose_name_plural = _("公开说明")
        constraints = [models.CheckConstraint(condition=Q(version__gte=1), name="public_narrative_version_positive")]

    def __str__(self):
        return f"{self.task} · {self.text[:20]}"


class PublicSnapshot(models.Model):
    """What the public sees of a plan at one moment: `data` is built only from the fields
    the settings allowed (publication.services.public_data) and is all the public page
    reads. A draft waits for review; publishing it replaces the plan's published one."""

    plan = models.ForeignKey(
        Plan, verbose_name=_("工作计划"), on_delete=models.CASCADE, related_name="public_snapshots"
    )
    state = models.CharField(_("状态"), max_length=12, choices=SnapshotState.choices, default=SnapshotState.DRAFT)
    data = models.JSONField(_("公开数据"))
    # The settings and the public texts it was built from: the schedule republishes without
    # a new review only while both are what a person last reviewed.
    settings_version = models.PositiveIntegerField(_("设置版本"))
    narratives_digest = models.CharField(_("公开说明摘要"), max_length=64, blank=True)
    # The day ("2026-05-06") or ISO week ("2026-W19") a scheduled build was for; empty by hand.
    period = models.CharField(_("定时周期"), max_length=12, blank=True)
    built_at = models.DateTimeField(_("生成时间"))
    built_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("生成人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发布人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    superseded_at = models.DateTimeField(_("替换时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("公开快照")
        verbose_name_plural = _("公开快照")
        ordering = ["-built_at", "-id"]
        indexes = [
            # The public page: the plan's published snapshot; the settings page: its latest.
            models.Index(fields=["plan", "state"], name="public_snapshot_plan_state_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["plan"], condition=Q(state=SnapshotState.PUBLISHED), name="public_snapshot_one_published"
            ),
            # The schedule builds once per plan and period, however often (or concurrently) it runs.
            models.UniqueConstraint(
                fields=["plan", "period"], condition=~Q(period=""), name="public_snapshot_once_per_period"
            ),
            models.CheckConstraint(condition=Q(state__in=SnapshotState.values), name="public_snapshot_state_valid"),
            models.CheckConstraint(
                condition=~Q(state=SnapshotState.PUBLISHED) | Q(published_at__isnull=False),
                name="public_snapshot_published_has_time",
            ),
        ]

    def __str__(self):
        return f"{self.plan} · {self.get_state_display()} · {self.built_at:%Y-%m-%d %H:%M}"
