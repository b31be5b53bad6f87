"""How long a built export is kept: EXPORT_RETENTION_DAYS after it was finished. Then the
beat job (`expire_exports`) marks the row 已过期 and deletes its file, each exactly once:
a row is claimed done -> expired by one conditional UPDATE (and audited in the same
transaction), and a file is deleted only for a row already expired, so a run that dies
between the two leaves the file for the next run to delete."""

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.choices import EventType
from audit.services import record
from dashboards.models import Export, ExportStatus

logger = logging.getLogger(__name__)


def retention() -> datetime.timedelta:
    return datetime.timedelta(days=settings.EXPORT_RETENTION_DAYS)


def expired_q(now: datetime.datetime) -> Q:
    """Finished exports past the retention (in SQL; is_expired is its Python form)."""
    return Q(status=ExportStatus.DONE, finished_at__lte=now - retention())


def is_expired(export: Export, now: datetime.datetime | None = None) -> bool:
    """Expired, or past the retention and not yet swept (beat may be late or down)."""
    if export.status == ExportStatus.EXPIRED:
        return True
    now = now or timezone.now()
    return (
        export.status == ExportStatus.DONE
        and export.finished_at is not None
        and (export.finished_at <= now - retention())
    )


def expire_exports(now: datetime.datetime | None = None) -> int:
    """Mark every finished export past the retention expired and delete the files of
    expired rows; returns how many rows this run expired. Safe to run twice."""
    now = now or timezone.now()
    expired = _mark_expired(now)
    _delete_files(now)
    return expired


def _mark_expired(now: datetime.datetime) -> int:
    expired = 0
    due = Export.objects.filter(expired_q(now)).order_by("pk")
    for export in due.only("pk", "kind", "year", "plan_id", "requested_by_id", "filename", "finished_at", "status"):
        with transaction.atomic():
            if not Export.objects.filter(pk=export.pk, status=ExportStatus.DONE).update(
                status=ExportStatus.EXPIRED, expired_at=now
            ):
                continue  # another run got there first
            export.status = ExportStatus.EXPIRED
            record(
                EventType.DELETE,
                obj=export,
                detail={
                    "reason": "retention",
                    "retention_days": settings.EXPORT_RETENTION_DAYS,
                    "kind": export.kind,
                    "year": export.year,
                    "requested_by": export.requested_by_id,
                    "file": export.filename,
                },
            )
        expired += 1
    return expired


def _delete_files(now: datetime.datetime) -> int:
    """Delete the stored file of every expired row that still names one."""
    deleted = 0
    for export in Export.objects.filter(status=ExportStatus.EXPIRED).exclude(file="").only("pk", "file"):
        name = export.file.name
        try:
            export.file.storage.delete(name)  # deleting a file already gone is not an error
        except OSError:
            logger.exception("export %s: cannot delete the expired file", export.pk)
            continue
        deleted += Export.objects.filter(pk=export.pk, file=name).update(file="")
    return deleted
