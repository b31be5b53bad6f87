"""Celery jobs of the plan import: parse an uploaded file into its parse document."""

import datetime
import logging
import time

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from imports.choices import ImportStatus
from imports.models import PlanImport
from imports.parsing import ParseError, parse_bytes

logger = logging.getLogger(__name__)

# Seconds a parse may run before it is stopped and recorded as failed.
PARSE_TIME_LIMIT = settings.PLAN_PARSE_TIME_LIMIT
# A row left 解析中 this long without a progress write belongs to a worker that died; a
# redelivered job (acks_late) may take it over.
STALE_CLAIM_AFTER = datetime.timedelta(seconds=PARSE_TIME_LIMIT * 2 + 30)
# Progress is written at most this often (seconds), and only when it moved.
PROGRESS_EVERY = 0.5


def _claim(import_id: int) -> bool:
    """queued -> parsing with one conditional UPDATE: a second run finds nothing to claim."""
    now = timezone.now()
    return bool(
        PlanImport.objects.filter(pk=import_id)
        .filter(Q(status=ImportStatus.QUEUED) | Q(status=ImportStatus.PARSING, updated_at__lt=now - STALE_CLAIM_AFTER))
        .update(status=ImportStatus.PARSING, progress=0, error="", updated_at=now)
    )


def _finish(import_id: int, **fields) -> None:
    PlanImport.objects.filter(pk=import_id, status=ImportStatus.PARSING).update(updated_at=timezone.now(), **fields)


def _progress_writer(import_id: int):
    last = {"value": -1, "at": 0.0}

    def write(value: int) -> None:
        now = time.monotonic()
        if value <= last["value"] or (now - last["at"] < PROGRESS_EVERY and value < 100):
            return
        last["value"], last["at"] = value, now
        # Capped below 100: the row reaches 100 only together with the document.
        PlanImport.objects.filter(pk=import_id, status=ImportStatus.PARSING).update(
            progress=min(value, 99), updated_at=timezone.now()
        )

    return write


@shared_task(acks_late=True, soft_time_limit=PARSE_TIME_LIMIT, time_limit=PARSE_TIME_LIMIT + 30)
def parse_plan_import(import_id: int) -> str:
    """Parse an uploaded plan file; store the document (待确认) or a Chinese error (失败).

    Parse errors and time-outs are permanent (the same bytes fail the same way): recorded,
    not retried.
    """
    if not _claim(import_id):
        return "skipped"
    plan_import = PlanImport.objects.get(pk=import_id)
    try:
        with plan_import.file.open("rb") as handle:
            data = handle.read()
        document = parse_bytes(
            data,
            plan_import.original_name,
            progress=_progress_writer(import_id),
            max_bytes=settings.PLAN_UPLOAD_MAX_BYTES,
        )
    except ParseError as exc:
        _finish(import_id, status=ImportStatus.FAILED, error=str(exc))
        return "failed"
    except SoftTimeLimitExceeded:
        _finish(
            import_id,
            status=ImportStatus.FAILED,
            error=_("解析超时（超过%(seconds)d秒），请检查文件内容，或拆分后重新上传。")
            % {"seconds": PARSE_TIME_LIMIT},
        )
        return "failed"
    except OSError:
        logger.exception("plan import %s: cannot read the stored file", import_id)
        _finish(import_id, status=ImportStatus.FAILED, error=_("无法读取已上传的文件，请重新上传。"))
        return "failed"
    except Exception:
        # A parser bug must not leave the row 解析中 for ever; the trace goes to the log.
        logger.exception("plan import %s: the parser failed", import_id)
        _finish(
            import_id,
            status=ImportStatus.FAILED,
            error=_("解析文件时发生内部错误，已记录日志。请确认文件内容无误，或联系系统管理员。"),
        )
        return "failed"
    _finish(
        import_id, status=ImportStatus.PARSED, progress=100, document=document, edited_document=None, owner_mapping={}
    )
    return "parsed"
