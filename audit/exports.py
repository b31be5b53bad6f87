"""The audit export: the filtered events as CSV (UTF-8 with BOM, for Excel) or .xlsx; a
cell that a spreadsheet would read as a formula is written as text."""

import csv
import io
import json
import tempfile

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook

from audit.choices import EventType, Outcome
from core.roles import role_label
from core.spreadsheets import Cells, csv_cell

HEADERS = [
    gettext_lazy("时间"),
    gettext_lazy("事件类型"),
    gettext_lazy("结果"),
    gettext_lazy("用户 ID"),
    gettext_lazy("登录名"),
    gettext_lazy("当时角色"),
    gettext_lazy("客户端地址"),
    gettext_lazy("请求编号"),
    gettext_lazy("对象类型"),
    gettext_lazy("对象 ID"),
    gettext_lazy("对象"),
    gettext_lazy("详情"),
]
CHUNK = 2000


def row_of(event) -> list[str]:
    return [
        timezone.localtime(event.occurred_at).isoformat(timespec="seconds"),
        str(EventType(event.event_type).label) if event.event_type in EventType.values else event.event_type,
        str(Outcome(event.outcome).label) if event.outcome in Outcome.values else event.outcome,
        "" if event.user_id is None else str(event.user_id),
        event.username,
        role_label(event.user_role),
        event.ip_address or "",
        event.request_id,
        event.object_type,
        event.object_id,
        event.object_repr,
        json.dumps(event.detail, ensure_ascii=False, sort_keys=True),
    ]


def csv_chunks(events):
    """The CSV in pieces (for a streaming response): the BOM and header first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADERS)
    yield "\ufeff" + buffer.getvalue()
    for event in events.iterator(chunk_size=CHUNK):
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([csv_cell(cell) for cell in row_of(event)])
        yield buffer.getvalue()


def xlsx_file(events):
    """The workbook in a temporary file (write-only mode: memory stays flat)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("审计事件"))
    cells = Cells(sheet)
    for column, width in zip("ABCDEFGHIJKL", [20, 12, 6, 8, 16, 10, 16, 34, 22, 10, 30, 80], strict=True):
        sheet.column_dimensions[column].width = width
    sheet.append([cells.header(h) for h in HEADERS])
    for event in events.iterator(chunk_size=CHUNK):
        sheet.append([cells.text(cell) for cell in row_of(event)])
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the caller, who streams and closes it
    workbook.save(handle)
    handle.seek(0)
    return handle
