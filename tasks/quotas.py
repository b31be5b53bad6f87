"""Quotas on reporting, per user and per agency: evidence bytes a day and progress reports a
minute, counted from the stored rows (so every worker and both front doors see one count).

The report service (supervision.progress.report_progress) asks `check_report_quotas` once,
under a row lock on the reporter's agency, so two reports at once are counted one after
the other. A limit of 0 switches that limit off."""

import dataclasses
import datetime
import math

from django.conf import settings
from django.db.models import Sum
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Agency, User
from tasks.models import Attachment, ProgressUpdate

REPORT_WINDOW = datetime.timedelta(minutes=1)


class QuotaExceeded(Exception):
    """A quota is used up: `message` says which and what to do, `retry_after` in seconds."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.message, self.retry_after = message, max(1, int(retry_after))


@dataclasses.dataclass(frozen=True)
class Quotas:
    evidence_bytes_per_user_day: int
    evidence_bytes_per_agency_day: int
    reports_per_user_minute: int
    reports_per_agency_minute: int

    @classmethod
    def from_settings(cls) -> "Quotas":
        return cls(
            settings.EVIDENCE_BYTES_PER_USER_DAY,
            settings.EVIDENCE_BYTES_PER_AGENCY_DAY,
            settings.REPORTS_PER_USER_MINUTE,
            settings.REPORTS_PER_AGENCY_MINUTE,
        )


def check_report_quotas(user, *, evidence_bytes: int, now: datetime.datetime | None = None) -> None:
    """QuotaExceeded when one more report by `user`, carrying `evidence_bytes` of files,
    would go over a limit. Call inside the report's transaction: the reporter's agency row
    (or the user's, without an agency) is locked until it commits."""
    now = now or timezone.now()
    quotas = Quotas.from_settings()
    if user.agency_id is not None:
        Agency.objects.select_for_update().filter(pk=user.agency_id).first()
    else:
        User.objects.select_for_update().filter(pk=user.pk).first()
    reports = ProgressUpdate.objects.filter(created_at__gt=now - REPORT_WINDOW)
    _check_reports(reports.filter(author=user), quotas.reports_per_user_minute, now, _("您"))
    if user.agency_id is not None:
        _check_reports(
            reports.filter(author__agency_id=user.agency_id), quotas.reports_per_agency_minute, now, _("本单位")
        )
    if evidence_bytes:
        start_of_day = timezone.make_aware(datetime.datetime.combine(timezone.localdate(now), datetime.time.min))
        files = Attachment.objects.filter(created_at__gte=start_of_day)
        _check_bytes(files.filter(uploaded_by=user), quotas.evidence_bytes_per_user_day, evidence_bytes, now, _("您"))
        if user.agency_id is not None:
            _check_bytes(
                files.filter(uploaded_by__agency_id=user.agency_id),
                quotas.evidence_bytes_per_agency_day,
                evidence_bytes,
                now,
                _("本单位"),
            )


def _check_reports(reports, limit: int, now: datetime.datetime, who: str) -> None:
    if not limit:
        return
    times = list(reports.order_by("-created_at").values_list("created_at", flat=True)[:limit])
    if len(times) < limit:
        return
    # A place frees up when the oldest of the last `limit` reports leaves the window.
    wait = (times[-1] + REPORT_WINDOW - now).total_seconds()
    raise QuotaExceeded(
        _("%(who)s每分钟最多提交 %(limit)d 次进展填报，请 %(wait)d 秒后再试。")
        % {"who": who, "limit": limit, "wait": max(1, math.ceil(wait))},
        math.ceil(wait),
    )


def _check_bytes(files, limit: int, incoming: int, now: datetime.datetime, who: str) -> None:
    if not limit:
        return
    used = files.aggregate(total=Sum("size"))["total"] or 0
    if used + incoming <= limit:
        return
    tomorrow = timezone.localdate(now) + datetime.timedelta(days=1)
    midnight = timezone.make_aware(datetime.datetime.combine(tomorrow, datetime.time.min))
    raise QuotaExceeded(
        _(
            "%(who)s今天已上传佐证材料 %(used)s，每天上限 %(limit)s，本次的 %(size)s 放不下，"
            "本次填报未保存。请明天再上传，或先压缩、拆分文件；确有需要请联系系统管理员。"
        )
        % {
            "who": who,
            "used": filesizeformat(used),
            "limit": filesizeformat(limit),
            "size": filesizeformat(incoming),
        },
        math.ceil((midnight - now).total_seconds()),
    )
