"""Celery jobs of the plan import: parse an uploaded file into its parse document.

Most files parse in well under a second (`parse_plan_import`). A scan read by OCR, or a
legacy .doc/.wps converted by LibreOffice first, takes minutes (`read_plan_import`): its
own job with its own time limit, so a long read neither trips the short limit nor lets a
stuck ordinary parse hold a worker for ten minutes. Both move the same progress bar."""

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
from imports.parsing import ParseError, needs_ocr, parse_bytes

logger = logging.getLogger(__name__)

# Seconds a parse may run before it is stopped and recorded as failed; a slow read (OCR,
# conversion) has its own limit.
PARSE_TIME_LIMIT = settings.PLAN_PARSE_TIME_LIMIT
SLOW_READ_TIME_LIMIT = settings.PLAN_OCR_TIME_LIMIT
# A row left 解析中 this long without a progress write belongs to a worker that died; a
# redelivered job (acks_late) may take it over.
STALE_CLAIM_AFTER = datetime.timedelta(seconds=PARSE_TIME_LIMIT * 2 + 30)
SLOW_READ_STALE_CLAIM_AFTER = datetime.timedelta(seconds=SLOW_READ_TIME_LIMIT * 2 + 30)
# Files converted before they are read: legacy Word and WPS text.
CONVERTED_EXTENSIONS = (".doc", ".wps")
# Progress is written at most this often (seconds), and only when it moved.
PROGRESS_EVERY = 0.5


def is_slow_read(data: bytes, name: str) -> bool:
    """A file whose reading takes minutes: a scan (OCR) or a legacy document (conversion)."""
    return name.lower().endswith(CONVERTED_EXTENSIONS) or needs_ocr(data)


def _claim(import_id: int, stale_after: datetime.timedelta) -> bool:
    """queued -> parsing with one conditional UPDATE: a second run finds nothing to claim."""
    now = timezone.now()
    stale = Q(status=ImportStatus.PARSING, updated_at__lt=now - stale_after)
    return bool(
        PlanImport.objects.filter(pk=import_id)
        .filter(Q(status=ImportStatus.QUEUED) | stale)
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
    return _parse(
        import_id,
        time_limit=PARSE_TIME_LIMIT,
        stale_after=STALE_CLAIM_AFTER,
        timeout=_("解析超时（超过%(seconds)d秒），请检查文件内容，或拆分后重新上传。"),
    )


@shared_task(acks_late=True, soft_time_limit=SLOW_READ_TIME_LIMIT + 30, time_limit=SLOW_READ_TIME_LIMIT + 60)
def read_plan_import(import_id: int) -> str:
    """The same for a scan or a legacy document: OCR or conversion first, page by page on
    the same progress bar, within PLAN_OCR_TIME_LIMIT."""
    return _parse(
        import_id,
        time_limit=SLOW_READ_TIME_LIMIT,
        stale_after=SLOW_READ_STALE_CLAIM_AFTER,
        timeout=_("文字识别或格式转换超时（超过%(seconds)d秒）：请上传带文字层的 PDF 或 .docx，或拆分后重新上传。"),
    )


def _parse(import_id: int, *, time_limit: int, stale_after: datetime.timedelta, timeout: str) -> str:
    if not _claim(import_id, stale_after):
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
            ocr_time_limit=SLOW_READ_TIME_LIMIT,
        )
    except ParseError as exc:
        _finish(import_id, status=ImportStatus.FAILED, error=str(exc))
        return "failed"
    except SoftTimeLimitExceeded:
        _finish(import_id, status=ImportStatus.FAILED, error=timeout % {"seconds": time_limit})
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
