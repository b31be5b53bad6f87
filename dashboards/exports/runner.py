"""Building a requested export: `run_export` claims the row (queued -> running, one
conditional UPDATE: a job run twice builds once), builds the file in chunks, writing
`done_rows` after each so the status page's bar moves, stores the file and marks the row
done, or failed with a message for the requester."""

import logging
from collections.abc import Callable

from django.conf import settings
from django.core.files import File
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.replica import reads_from_replica
from dashboards.exports.base import EXTENSIONS, STALE_CLAIM_AFTER, ExportRefused
from dashboards.exports.bulletin import build_bulletin
from dashboards.exports.ledger import build_ledger
from dashboards.models import Export, ExportKind, ExportStatus

logger = logging.getLogger(__name__)

BUILDERS = {ExportKind.LEDGER: build_ledger, ExportKind.BULLETIN: build_bulletin}


def failed_unexpectedly() -> str:
    return _("导出失败：生成文件时发生内部错误，已记录日志。请稍后重试，或联系系统管理员。")


def _claim(export_id: int) -> bool:
    """queued -> running with one conditional UPDATE: a second run finds nothing to claim."""
    stale = timezone.now() - STALE_CLAIM_AFTER
    return bool(
        Export.objects.filter(pk=export_id)
        .filter(Q(status=ExportStatus.QUEUED) | Q(status=ExportStatus.RUNNING, created_at__lt=stale))
        .update(status=ExportStatus.RUNNING, done_rows=0, error="", finished_at=None)
    )


def _fail(export_id: int, message: str) -> None:
    Export.objects.filter(pk=export_id, status=ExportStatus.RUNNING).update(
        status=ExportStatus.FAILED, error=message[:2000], finished_at=timezone.now()
    )


def run_export(export_id: int) -> str:
    """Build one requested export; returns "done", "failed" or "skipped" (not claimable:
    already built, being built, or gone). Never raises for a failed build: the row says
    失败 with a message for the requester, and an unexpected error's trace goes to the log."""
    if not _claim(export_id):
        return "skipped"
    try:
        export = Export.objects.select_related("requested_by__agency", "plan").get(pk=export_id)
        # The files are documents of the bureau: written in the site's language, whoever asks.
        # The rows come from the read replica when there is one (core.replica; the export row
        # itself and the progress written go to the primary): a province's ledger is the
        # heaviest read the platform makes.
        with translation.override(settings.LANGUAGE_CODE), reads_from_replica():
            built = BUILDERS[export.kind](export, _progress_writer(export_id))
    except ExportRefused as refused:
        _fail(export_id, _("导出失败：%(reason)s") % {"reason": refused})
        return "failed"
    except Exception:
        logger.exception("export %s: the build failed", export_id)
        _fail(export_id, failed_unexpectedly())
        return "failed"
    try:
        with built.file:
            built.file.seek(0)
            stored_as = f"{export.kind}-{export.year}.{EXTENSIONS[export.kind]}"
            name = export.file.storage.save(export.file.field.generate_filename(export, stored_as), File(built.file))
    except Exception:
        logger.exception("export %s: cannot store the file", export_id)
        _fail(export_id, _("导出失败：无法保存生成的文件，请稍后重试，或联系系统管理员。"))
        return "failed"
    finished = Export.objects.filter(pk=export_id, status=ExportStatus.RUNNING).update(
        status=ExportStatus.DONE,
        file=name,
        filename=built.filename[:200],
        done_rows=built.rows,
        total_rows=built.rows,
        scope_agencies=None if built.agencies is None else sorted(built.agencies),
        error="",
        finished_at=timezone.now(),
    )
    if not finished:  # taken over meanwhile (a stale claim): keep theirs, not ours
        export.file.storage.delete(name)
        return "skipped"
    return "done"


def _progress_writer(export_id: int) -> Callable[[int, int], None]:
    def write(done: int, total: int) -> None:
        Export.objects.filter(pk=export_id, status=ExportStatus.RUNNING).update(done_rows=done, total_rows=total)

    return write
