"""The Excel fill-in sheet (填报表) as a file: writing one agency's sheet for a cycle, and
reading a filled one back into rows. No database here: the caller brings the tasks and
takes the rows (workbench.sheet_services decides what they mean).

The sheet's structure is locked (sheet and workbook protection); only the five input
columns of the task rows are editable, with list and whole-number validation. A hidden
sheet carries a signature (django.core.signing) over the agency, the plan, the cycle and
each task's report and task versions as they were when the sheet was made: a forged or
edited sheet, or one of another agency or cycle, is known for what it is, and the version
check uses the signed versions, not cells a user could retype."""

import dataclasses
import datetime
import io
import zipfile

import openpyxl
from django.core import signing
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from core.spreadsheets import FORMULA_LEADS, clean_text
from core.uploads import MB, FileRefused, check_size
from core.uploads.errors import KindMismatch
from core.uploads.office import check_package, refuse_compound_file
from core.uploads.sniff import sniff
from tasks.choices import TaskStatus

# A sheet of a few hundred tasks is tens of kilobytes; anything near this is not one.
MAX_BYTES = 5 * MB
# Rows read below the header at most: no agency leads this many tasks in one plan.
MAX_ROWS = 2000
SIGNING_SALT = "workbench.fill_sheet"
FORMAT = 1  # the layout's version, signed with the rest

SHEET_TITLE_KEY = "fill"  # the sheet's title is translated; the meta sheet names it
META_TITLE = "meta"
TITLE_ROW, INFO_ROW, NOTE_ROW, HEADER_ROW = 1, 2, 3, 4
FIRST_ROW = HEADER_ROW + 1
# 序号, 任务编号, 任务 | 状态, 完成百分比, 本期进展, 存在问题, 下步计划 | hidden: 任务ID, 版本
COLUMNS = ("seq", "number", "heading", "status", "percent", "progress", "problems", "next_steps", "task_id", "version")
INPUT_COLUMNS = ("status", "percent", "progress", "problems", "next_steps")
WIDTHS = (6, 10, 42, 10, 11, 42, 30, 30, 10, 10)
TEXT_FIELDS = ("progress", "problems", "next_steps")
# The statuses a unit may choose: 已销号 is the supervision office's decision, never typed.
CHOOSABLE = [status for status in TaskStatus if status != TaskStatus.CLOSED]
# SimSun is 宋体's family name: Office and WPS show it as 宋体.
FONT_NAME = "SimSun"
BODY_PT, TITLE_PT = 11, 14


# The column titles; a sheet made in another language than the one it is read back in is
# recognised by either form.
HEADER_IDS = {
    "seq": gettext_noop("序号"),
    "number": gettext_noop("任务编号"),
    "heading": gettext_noop("任务"),
    "status": gettext_noop("状态"),
    "percent": gettext_noop("完成百分比"),
    "progress": gettext_noop("本期进展"),
    "problems": gettext_noop("存在问题"),
    "next_steps": gettext_noop("下步计划"),
    "task_id": gettext_noop("任务ID"),
    "version": gettext_noop("版本"),
}


def headers() -> dict[str, str]:
    return {key: _(label) for key, label in HEADER_IDS.items()}


@dataclasses.dataclass(frozen=True)
class SheetHead:
    plan_id: int
    plan_title: str
    agency_id: int
    agency_name: str
    period_start: datetime.date
    period_label: str
    due_on: datetime.date


@dataclasses.dataclass(frozen=True)
class SheetLine:
    """One task as the sheet shows it, prefilled with this cycle's report (or the task)."""

    task_id: int
    number: str
    heading: str
    status: str
    percent: int
    progress: str
    problems: str
    next_steps: str
    report_version: int  # 0: nobody has started this cycle's report
    task_version: int


@dataclasses.dataclass
class ReadSheet:
    agency_id: int
    plan_id: int
    period_start: datetime.date
    versions: dict[int, tuple[int, int]]  # task id → (report version, task version), as signed
    rows: list[dict]  # see _row


class SheetRefused(Exception):
    """The file is not a fill-in sheet that can be read; `message` says why, in Chinese."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --- Writing -------------------------------------------------------------------------------


def _font(size=BODY_PT, bold=False) -> Font:
    return Font(name=FONT_NAME, size=size, bold=bold)


def _put(cell, value, *, font=None, unlocked=False, wrap=True, fill=None, border=None, center=False):
    if isinstance(value, str):
        text = clean_text(value)
        cell.value = text
        # A leading "=" would be a formula: the cell stays text, and Excel keeps it so when
        # it is edited (the quote prefix).
        cell.data_type = "s"
        if text.startswith(FORMULA_LEADS):
            cell.quotePrefix = True
    else:
        cell.value = value
    cell.font = font or _font()
    cell.alignment = Alignment(wrap_text=wrap, vertical="top", horizontal="center" if center else None)
    cell.protection = Protection(locked=not unlocked)
    if fill is not None:
        cell.fill = fill
    if border is not None:
        cell.border = border


def signed_token(head: SheetHead, lines: list[SheetLine]) -> str:
    payload = {
        "f": FORMAT,
        "a": head.agency_id,
        "p": head.plan_id,
        "c": head.period_start.isoformat(),
        "r": [[line.task_id, line.report_version, line.task_version] for line in lines],
    }
    return signing.dumps(payload, salt=SIGNING_SALT, compress=True)


def build_sheet(head: SheetHead, lines: list[SheetLine]) -> bytes:
    """The .xlsx of one agency's sheet for one plan and cycle."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert isinstance(sheet, Worksheet)
    sheet.title = _("填报表")
    labels = headers()
    last_visible = get_column_letter(COLUMNS.index("next_steps") + 1)

    _put(sheet.cell(TITLE_ROW, 1), _("%(plan)s · 进展填报表") % {"plan": head.plan_title}, font=_font(TITLE_PT, True))
    info = _("填报单位：%(agency)s　　报送周期：%(cycle)s　　报送截止：%(due)s") % {
        "agency": head.agency_name,
        "cycle": head.period_label,
        "due": head.due_on.isoformat(),
    }
    _put(sheet.cell(INFO_ROW, 1), info)
    note = _(
        "填写说明：只填写白底单元格。状态从下拉列表中选择，完成百分比填 0 到 100 的整数，本期进展必填；"
        "任务进度滞后、临近时限或逾期报送时，存在问题和下步计划也必填。请勿增删行列、修改任务或移动行。"
        "填好后在系统“Excel 填报表”页面导入，核对预览后确认提交。"
    )
    _put(sheet.cell(NOTE_ROW, 1), note)
    for row in (TITLE_ROW, INFO_ROW, NOTE_ROW):
        sheet.merge_cells(f"A{row}:{last_visible}{row}")
    sheet.row_dimensions[TITLE_ROW].height = 24
    sheet.row_dimensions[NOTE_ROW].height = 48

    thin = Side(style="thin", color="808080")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    header_fill = PatternFill("solid", fgColor="DDE4EE")
    locked_fill = PatternFill("solid", fgColor="F2F2F2")
    for index, key in enumerate(COLUMNS, start=1):
        _put(sheet.cell(HEADER_ROW, index), labels[key], font=_font(bold=True), fill=header_fill, border=border)
        sheet.cell(HEADER_ROW, index).alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        sheet.column_dimensions[get_column_letter(index)].width = WIDTHS[index - 1]

    status_labels = {status.value: str(status.label) for status in TaskStatus}
    for offset, line in enumerate(lines):
        row = FIRST_ROW + offset
        values = {
            "seq": offset + 1,
            "number": line.number,
            "heading": line.heading,
            "status": status_labels.get(line.status, ""),
            "percent": line.percent,
            "progress": line.progress,
            "problems": line.problems,
            "next_steps": line.next_steps,
            "task_id": line.task_id,
            "version": f"{line.report_version}.{line.task_version}",
        }
        for index, key in enumerate(COLUMNS, start=1):
            editable = key in INPUT_COLUMNS
            _put(
                sheet.cell(row, index),
                values[key],
                unlocked=editable,
                fill=None if editable else locked_fill,
                border=border,
                center=key in ("seq", "status", "percent"),
            )

    for key in ("task_id", "version"):
        sheet.column_dimensions[get_column_letter(COLUMNS.index(key) + 1)].hidden = True
    if lines:
        _validations(sheet, FIRST_ROW, FIRST_ROW + len(lines) - 1)

    sheet.freeze_panes = f"{get_column_letter(COLUMNS.index('status') + 1)}{FIRST_ROW}"
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    sheet.print_area = f"A1:{last_visible}{max(FIRST_ROW, FIRST_ROW + len(lines) - 1)}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)

    # Only the unlocked cells take input: rows and columns keep their place (no inserting,
    # deleting or sorting), though a user may widen a column or a row to read.
    protection = sheet.protection
    protection.sheet = True
    protection.formatColumns = protection.formatRows = False
    protection.selectLockedCells = False

    meta = workbook.create_sheet(META_TITLE)
    meta.sheet_state = "veryHidden"
    _put(meta.cell(1, 1), "agency")
    _put(meta.cell(1, 2), head.agency_id)
    _put(meta.cell(2, 1), "plan")
    _put(meta.cell(2, 2), head.plan_id)
    _put(meta.cell(3, 1), "cycle")
    _put(meta.cell(3, 2), head.period_start.isoformat())
    _put(meta.cell(4, 1), "signature")
    _put(meta.cell(4, 2), signed_token(head, lines))
    _put(meta.cell(5, 1), SHEET_TITLE_KEY)
    _put(meta.cell(5, 2), sheet.title)
    meta.protection.sheet = True
    workbook.security = WorkbookProtection(lockStructure=True)

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _validations(sheet, first: int, last: int) -> None:
    status_col = get_column_letter(COLUMNS.index("status") + 1)
    percent_col = get_column_letter(COLUMNS.index("percent") + 1)
    choices = ",".join(str(status.label) for status in CHOOSABLE)
    status = DataValidation(
        type="list",
        formula1=f'"{choices}"',
        allow_blank=False,
        showErrorMessage=True,
        errorTitle=_("状态"),
        error=_("请从下拉列表中选择状态。"),
    )
    status.add(f"{status_col}{first}:{status_col}{last}")
    percent = DataValidation(
        type="whole",
        operator="between",
        formula1="0",
        formula2="100",
        allow_blank=False,
        showErrorMessage=True,
        errorTitle=_("完成百分比"),
        error=_("请填写 0 到 100 之间的整数。"),
    )
    percent.add(f"{percent_col}{first}:{percent_col}{last}")
    sheet.add_data_validation(status)
    sheet.add_data_validation(percent)


# --- Reading -------------------------------------------------------------------------------


def _refused(reason: str) -> SheetRefused:
    return SheetRefused(_("文件无法读取：%(reason)s") % {"reason": reason})


def _not_ours() -> SheetRefused:
    return SheetRefused(
        _("这不是本系统导出的填报表，或表格的隐藏校验信息已被改动。请重新下载本期填报表，填写后再导入。")
    )


def check_file(data: bytes, *, max_bytes: int = MAX_BYTES) -> None:
    """The checks the plan import and the evidence rules make before a reader opens a file:
    size, what the bytes are, and the package (zip bombs, climbing paths, entity
    declarations, macros, active content) — SheetRefused with the reason."""
    try:
        check_size(data, max_bytes)
        kind = sniff(data)
        if kind == "ole":
            refuse_compound_file(data)
        if kind != "zip":
            raise FileRefused(_("不是 Excel 表格（.xlsx），请上传从本系统下载的填报表。"))
        check_package(data, "xlsx", _("Excel 表格"), ".xlsx")
    except KindMismatch:
        raise _refused(_("这是其他类型的 Office 文件，不是 Excel 表格（.xlsx）。")) from None
    except FileRefused as refused:
        reason = _("文件%(message)s") % {"message": refused.message} if refused.about_file else refused.message
        raise _refused(reason) from None


def read_sheet(data: bytes, *, max_bytes: int = MAX_BYTES) -> ReadSheet:
    """The rows of a filled sheet, with what its signature vouches for; SheetRefused when the
    file cannot be read, is not a fill-in sheet, or its signature does not hold."""
    check_file(data, max_bytes=max_bytes)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError, IndexError, AttributeError) as exc:
        raise _refused(_("文件已损坏或不是 .xlsx 格式（%(error)s）。") % {"error": type(exc).__name__}) from None
    try:
        return _read(workbook)
    except SheetRefused:
        raise
    except Exception as exc:  # openpyxl on a damaged part: whatever it raises, the file is unreadable
        raise _refused(_("表格内容已损坏（%(error)s）。") % {"error": type(exc).__name__}) from None
    finally:
        workbook.close()


def _read(workbook) -> ReadSheet:
    if META_TITLE not in workbook.sheetnames:
        raise _not_ours()
    meta = {row[0]: row[1] for row in workbook[META_TITLE].iter_rows(max_row=10, max_col=2, values_only=True) if row}
    try:
        payload = signing.loads(str(meta.get("signature") or ""), salt=SIGNING_SALT)
        versions = {int(task_id): (int(report), int(task)) for task_id, report, task in payload["r"]}
        agency_id, plan_id = int(payload["a"]), int(payload["p"])
        period_start = datetime.date.fromisoformat(payload["c"])
        if payload.get("f") != FORMAT:
            raise ValueError
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise _not_ours() from None
    title = meta.get(SHEET_TITLE_KEY)
    if title not in workbook.sheetnames:
        raise _not_ours()
    sheet = workbook[title]
    _check_header(sheet)
    rows = []
    for line, values in enumerate(
        sheet.iter_rows(min_row=FIRST_ROW, max_row=FIRST_ROW + MAX_ROWS, max_col=len(COLUMNS), values_only=True),
        start=FIRST_ROW,
    ):
        if line == FIRST_ROW + MAX_ROWS:
            raise SheetRefused(_("表格行数过多（超过 %(n)d 行），不是本系统导出的填报表。") % {"n": MAX_ROWS})
        cells = dict(zip(COLUMNS, (*values, *([None] * len(COLUMNS)))[: len(COLUMNS)], strict=True))
        if all(cells[key] in (None, "") for key in (*INPUT_COLUMNS, "task_id")):
            continue
        rows.append(_row(line, cells))
    return ReadSheet(agency_id, plan_id, period_start, versions, rows)


def _check_header(sheet) -> None:
    found = next(sheet.iter_rows(min_row=HEADER_ROW, max_row=HEADER_ROW, max_col=len(COLUMNS), values_only=True), ())
    found = [_text(value) for value in found]
    for index, (key, label) in enumerate(headers().items()):
        if index >= len(found) or found[index] not in (label, HEADER_IDS[key]):
            raise SheetRefused(
                _("表头与填报表模板不符：第 %(col)s 列应为“%(label)s”。请勿增删或移动列，重新下载填报表后填写。")
                % {"col": get_column_letter(index + 1), "label": label}
            )


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return clean_text(value).strip()


def _whole(value) -> int | None:
    """An integer cell (55, 55.0, "55", "55%"), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    text = _text(value).rstrip("%％").strip()
    if text.isascii() and text.lstrip("-").isdigit():
        return int(text)
    return None


def _row(line: int, cells: dict) -> dict:
    """One filled row: what was typed, with the status as its value ("" when the label is
    not one of the list's) and the percent as a whole number (None when it is not one)."""
    by_label = {str(status.label): status.value for status in TaskStatus}
    status_text = _text(cells["status"])
    percent_text = _text(cells["percent"])
    return {
        "line": line,
        "task_id": _whole(cells["task_id"]),
        "task_ref": _text(cells["task_id"])[:40],
        "number": _text(cells["number"])[:40],
        "heading": _text(cells["heading"])[:200],
        "status": by_label.get(status_text, ""),
        "status_text": status_text[:40],
        "percent": _whole(cells["percent"]),
        "percent_text": percent_text[:40],
        **{key: _text(cells[key]) for key in TEXT_FIELDS},
    }
