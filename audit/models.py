"""The protected audit trail (等保 2.0 安全审计): one row per security-relevant event,
never changed, removed only by the retention purge once old enough."""

import json

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.choices import EventType, Outcome

# The database refuses to delete a row younger than this (see migration 0002), and the
# retention setting may not go below it.
MIN_RETENTION_DAYS = 180


class AuditTrailProtected(ValidationError):
    """Raised on any attempt to change or delete audit rows through the application."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AuditTrailProtected(_("审计记录不能修改。"))

    def delete(self):
        raise AuditTrailProtected(_("审计记录不能删除，只能在保存期满后由定期清理任务移除。"))

    def purge_older_than(self, cutoff) -> int:
        """The retention purge, the one path that removes rows: those before `cutoff`.
        (audit.jobs.purge_audit_events checks the cutoff is at least 180 days back, and the
        PostgreSQL trigger refuses anything younger anyway.)"""
        deleted, _per_model = models.QuerySet.delete(self.filter(occurred_at__lt=cutoff))
        return deleted


class AuditEvent(models.Model):
    occurred_at = models.DateTimeField(_("时间"), default=timezone.now)
    # A plain number, not a foreign key: deleting or renaming a user never touches the
    # trail, and the name and role are kept as they were at the time.
    user_id = models.BigIntegerField(_("用户 ID"), null=True, blank=True)
    username = models.CharField(_("登录名"), max_length=150, blank=True)
    user_role = models.CharField(_("当时角色"), max_length=32, blank=True)
    ip_address = models.GenericIPAddressField(_("客户端地址"), null=True, blank=True)
    request_id = models.CharField(_("请求编号"), max_length=64, blank=True)
    event_type = models.CharField(_("事件类型"), max_length=32, choices=EventType.choices)
    object_type = models.CharField(_("对象类型"), max_length=100, blank=True, help_text=_("app_label.model"))
    object_id = models.CharField(_("对象 ID"), max_length=64, blank=True)
    object_repr = models.CharField(_("对象"), max_length=200, blank=True)
    outcome = models.CharField(_("结果"), max_length=16, choices=Outcome.choices, default=Outcome.SUCCESS)
    # Changed fields as {"field": {"old": …, "new": …}} and other particulars; never
    # passwords, hashes, tokens or webhook secrets (audit.services redacts them).
    detail = models.JSONField(_("详情"), default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("审计事件")
        verbose_name_plural = _("审计事件")
        ordering = ["-occurred_at", "-id"]
        # No default permissions beyond view: nobody adds, changes or deletes through the admin.
        default_permissions = ("view",)
        indexes = [
            # The search page and the export: a time range, newest first; the purge: older than.
            models.Index(fields=["-occurred_at", "-id"], name="audit_time_idx"),
            # "What did this user do": one user id over a time range.
            models.Index(fields=["user_id", "-occurred_at"], name="audit_user_time_idx"),
            # "All failed logins / exports this week": one event type over a time range.
            models.Index(fields=["event_type", "-occurred_at"], name="audit_type_time_idx"),
            # "Everything that happened to task 42": one object's events.
            models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
            # "Everything one request did": the X-Request-ID an error page or a log line shows.
            models.Index(fields=["request_id"], condition=~Q(request_id=""), name="audit_request_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(event_type__in=EventType.values), name="audit_event_type_valid"),
            models.CheckConstraint(condition=Q(outcome__in=Outcome.values), name="audit_outcome_valid"),
        ]

    def __str__(self):
        when = timezone.localtime(self.occurred_at)
        return f"{when:%Y-%m-%d %H:%M:%S} {self.username} {self.get_event_type_display()}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AuditTrailProtected(_("审计记录不能修改。"))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditTrailProtected(_("审计记录不能删除，只能在保存期满后由定期清理任务移除。"))

    @property
    def detail_text(self) -> str:
        """The detail as one line of JSON, cut short for the search page."""
        text = json.dumps(self.detail, ensure_ascii=False, sort_keys=True)
        return text if len(text) <= 300 else text[:299] + "…"
