"""The supervision ledger (督办台账): one row per task of the requester's scope under title rows
and a colour legend, grouped by section, with a sheet of the tasks' 督办单, as an .xlsx that
prints on A3 landscape, one page wide, its header repeated, in 宋体 of at least 9 points.
Options (Export.options, checked by ledger_options): one sheet per lead agency, and a
column per month of the year with that month's progress."""

import copy
import dataclasses
import datetime
import math
import tempfile
import unicodedata
from collections.abc import Callable

from django.db.models import Case, F, QuerySet, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.utils.indexed_list import IndexedList
from openpyxl.worksheet.page import PageMargins

from accounts.models import Agency
from core.spreadsheets import Cells, clean_text
from dashboards.exports.base import (
    CHUNK_ROWS,
    Built,
    ExportRefused,
    download_name,
    indicators_queryset,
    latest_note,
    met_label,
    owners_text,
    scope_of,
    section_paths,
    value_text,
)
from dashboards.exports.notices import NoticeLine, TaskNotices, export_notices, per_task
from dashboards.models import Export
from dashboards.services import scoped_tasks
from indicators.models import Indicator
from indicators.services import attained, target_text
from supervision.choices import ReportState
from supervision.models import PeriodReport
from tasks.choices import FINISHED, OwnerRole, TaskStatus
from tasks.models import Milestone, ProgressUpdate, Task, TaskOwner
from tasks.risk import Risk, task_risk


@dataclasses.dataclass(frozen=True)
class Column:
    key: str
    title: str
    width: float  # in Excel's character units
    narrow: float  # when the monthly columns take their share of the page


# The ledger's columns, in print order. The widths add up to what an A3 landscape page holds
# at 100 % (PRINTABLE_UNITS), so fit-to-width does not shrink the 10-point text below 9.
LEDGER_COLUMNS = [
    Column("serial", gettext_lazy("序号"), 5, 4),
    Column("task", gettext_lazy("任务"), 23, 16),
    Column("lead", gettext_lazy("牵头单位"), 10, 8),
    Column("co", gettext_lazy("配合单位"), 12, 8),
    Column("responsible", gettext_lazy("责任人"), 8, 6),
    Column("milestones", gettext_lazy("时间节点"), 18, 12),
    Column("progress", gettext_lazy("本期进展"), 24, 14),
    Column("problems", gettext_lazy("存在问题"), 15, 10),
    Column("next_steps", gettext_lazy("下步计划"), 15, 10),
    Column("status", gettext_lazy("状态"), 10, 8),
    Column("percent", gettext_lazy("进度%"), 6, 5),
    Column("baseline_due", gettext_lazy("原定时限"), 11, 10.5),
    Column("due", gettext_lazy("现时限"), 11, 10.5),
    Column("indicators", gettext_lazy("指标"), 18, 12),
    # The task's 督办单 (escalation) in one cell: how many, the most severe still open, the latest.
    Column("notices", gettext_lazy("督办情况"), 12, 8),
]
# The columns above add up to 198 units: 100 % in Excel with 宋体, and still 90 % where
# LibreOffice stands in DejaVu Sans (a digit 0.64 em, not 宋体's 0.5) for the missing font.
# Printable width of A3 landscape (420 mm less two 0.4-inch margins: 1511 px at 96 dpi) in
# Excel's width units of 10-point 宋体 (a digit, half an em: 7 px), 5 px of padding a column
# aside. This many units print at 100 %; wider, fit-to-width shrinks the page.
PRINTABLE_UNITS = 205
# The least share fit-to-width may print at: 10-point text no smaller than 9 points.
MIN_PRINT_SCALE = 0.9
MONTH_WIDTH = 9
MONTH_MIN_WIDTH = 6
# A month's note is a glance, not the report: the report itself is in 本期进展.
MONTH_NOTE_CHARS = 40

# The 督办单 sheet: every notice on the ledger's tasks, oldest first.
NOTICE_COLUMNS = [
    (gettext_lazy("督办单编号"), 20),
    (gettext_lazy("督办等级"), 10),
    (gettext_lazy("计划"), 30),
    (gettext_lazy("任务"), 40),
    (gettext_lazy("主送单位"), 16),
    (gettext_lazy("下发日期"), 12),
    (gettext_lazy("反馈时限"), 12),
    (gettext_lazy("状态"), 8),
    (gettext_lazy("反馈时间"), 17),
    (gettext_lazy("逾期情况"), 14),
]

# Row heights (points) of 10-point text: a line with its leading, the cell's padding, and
# the most a row may be (Excel's limit; longer text is still all in the cell).
LINE_POINTS = 13.5
ROW_PADDING_POINTS = 3
MAX_ROW_POINTS = 409
TITLE_ROW_POINTS = 26
# The width units a cell's margins take from its text.
CELL_PADDING_UNITS = 1.5

# Rows above the header: title, agency scope, as-of date, legend.
TITLE_ROWS = 4
HEADER_ROW = TITLE_ROWS + 1

FONT_NAME = "宋体"
GB2312 = 134  # the font's character set, so Excel picks a Chinese face when 宋体 is missing
BODY_POINTS = 10
TITLE_POINTS = 16
FOOTER_POINTS = 9

# The fill of the 状态 cell for each mark of tasks.risk (the one risk rule).
RISK_FILLS = {Risk.RED: "F4A6A6", Risk.AMBER: "FFE08A", Risk.GREEN: "C6E9C4", Risk.DONE: "D9D9D9"}
CHANGED_DUE_COLOR = "C00000"

# A report's text counts once it left its author: waiting for sign-off or review, or accepted.
SUBMITTED_STATES = (ReportState.PENDING_SIGNOFF, ReportState.PENDING_REVIEW, ReportState.ACCEPTED)

LEDGER_OPTION_KEYS = ("per_agency", "monthly")


@dataclasses.dataclass(frozen=True)
class LedgerOptions:
    per_agency: bool = False  # one sheet per lead agency instead of one for all
    monthly: bool = False  # a column per month of the year up to the as-of month

    def as_json(self) -> dict:
        return {"per_agency": self.per_agency, "monthly": self.monthly}


def ledger_options(raw) -> LedgerOptions:
    """The ledger's options from Export.options, or ExportRefused (Chinese) when they are
    not {"per_agency": bool, "monthly": bool} (either may be left out)."""
    if raw in (None, ""):
        return LedgerOptions()
    if not isinstance(raw, dict) or set(raw) - set(LEDGER_OPTION_KEYS):
        raise ExportRefused(_("台账导出选项无效：只能选择“按牵头单位分表”和“逐月进展列”。"))
    if any(not isinstance(raw.get(key, False), bool) for key in LEDGER_OPTION_KEYS):
        raise ExportRefused(_("台账导出选项无效：“按牵头单位分表”和“逐月进展列”只能选是或否。"))
    return LedgerOptions(**{key: raw.get(key, False) for key in LEDGER_OPTION_KEYS})


def ledger_tasks(scope: set[int] | None, year: int, plan_id: int | None) -> QuerySet[Task]:
    """The ledger's tasks in plan order (plan, section, order), without their related rows."""
    return scoped_tasks(scope, year, plan_id).order_by(
        "plan__year", "plan__title", "plan_id", F("section__order").asc(nulls_first=True), "section_id", "order", "id"
    )


@dataclasses.dataclass
class ReportText:
    """What 本期进展 / 存在问题 / 下步计划 print for a task."""

    progress: str = ""
    problems: str = ""
    next_steps: str = ""


def _ledger_chunk(ids: list[int], months: list[int] | None = None, year: int | None = None) -> list[Task]:
    """One chunk of tasks with everything a row shows, in six queries whatever the chunk's
    size (seven with the monthly columns: `months` of `year`). The related rows are read as
    plain values and grouped here: Django's prefetch builds a queryset per task, which
    costs more than the queries themselves at this size."""
    tasks = list(
        Task.objects.filter(pk__in=ids)
        .select_related("plan")
        .only(
            "id",
            "plan_id",
            "section_id",
            "number",
            "heading",
            "due_on",
            "baseline_due_on",
            "completed_on",
            "status",
            "percent",
            "plan__title",
            "plan__year",
        )
        .annotate(latest_note=latest_note())
    )
    owners: dict[int, list[tuple[str, str]]] = {}
    for task_id, role, name in (
        TaskOwner.objects.filter(task_id__in=ids).order_by("order", "id").values_list("task_id", "role", "agency__name")
    ):
        owners.setdefault(task_id, []).append((role, name))
    responsible: dict[int, list[str]] = {}
    for task_id, full_name, username in (
        Task.responsible_users.through.objects.filter(task_id__in=ids)
        .order_by("user__full_name", "user__username")
        .values_list("task_id", "user__full_name", "user__username")
    ):
        responsible.setdefault(task_id, []).append(full_name or username)
    milestones: dict[int, list[str]] = {}
    for task_id, due_on, text, done_on in (
        Milestone.objects.filter(task_id__in=ids)
        .order_by("due_on", "order", "id")
        .values_list("task_id", "due_on", "text", "done_on")
    ):
        milestones.setdefault(task_id, []).append(
            _("%(day)s %(text)s（%(state)s）")
            % {"day": f"{due_on:%Y-%m-%d}", "text": text, "state": _("已完成") if done_on else _("未完成")}
        )
    indicators: dict[int, list[Indicator]] = {}
    for item in indicators_queryset().filter(task_id__in=ids):
        indicators.setdefault(item.task_id, []).append(item)
    # Submitted reports, latest cycle first: the first is the current cycle's when it was
    # submitted (no report is started for a cycle to come), else the latest submitted one.
    reports: dict[int, ReportText] = {}
    month_notes: dict[int, dict[int, str]] = {}
    for task_id, period_end, progress, problems, next_steps in (
        PeriodReport.objects.filter(task_id__in=ids, state__in=SUBMITTED_STATES)
        .order_by("task_id", "-period_start")
        .values_list("task_id", "period_end", "progress", "problems", "next_steps")
    ):
        reports.setdefault(task_id, ReportText(progress, problems, next_steps))
        # A quarter's report is that quarter's last month's note.
        if months and period_end.year == year and progress:
            month_notes.setdefault(task_id, {}).setdefault(period_end.month, progress)
    if months:
        # A month without a report: the latest note of a progress update made in it.
        for task_id, created_at, note in (
            ProgressUpdate.objects.filter(task_id__in=ids, created_at__year=year)
            .exclude(note="")
            .order_by("task_id", "-created_at", "-id")
            .values_list("task_id", "created_at", "note")
        ):
            local = timezone.localtime(created_at)
            if local.year == year and local.month in months:
                month_notes.setdefault(task_id, {}).setdefault(local.month, note)
    for task in tasks:
        task.owner_rows = owners.get(task.pk, [])
        task.responsible_names = responsible.get(task.pk, [])
        task.milestone_lines = milestones.get(task.pk, [])
        task.indicator_list = indicators.get(task.pk, [])
        task.report_text = reports.get(task.pk) or ReportText(progress=task.latest_note or "")
        task.month_notes = month_notes.get(task.pk, {})
    return tasks


def _indicator_line(indicator: Indicator) -> str:
    """ "预约诊疗率 不低于 60% 62.5%（2026-12-03，达标）": the target and the value go through
    target_text and with_unit only, so a rate reads 8/10万."""
    met = attained(indicator.comparator, indicator.target, indicator.latest_value)
    if indicator.latest_value is None:
        return _("%(name)s %(target)s —（未填报）") % {"name": indicator.name, "target": target_text(indicator)}
    reading = _("%(value)s（%(day)s，%(met)s）") % {
        "value": value_text(indicator),
        "day": f"{indicator.latest_as_of:%Y-%m-%d}",
        "met": met_label(met),
    }
    return f"{indicator.name} {target_text(indicator)} {reading}"


def _status_text(task: Task, mark: Risk, reason: str) -> str:
    """The task's status, and why its mark is red or amber (or the day it was finished)."""
    label = str(TaskStatus(task.status).label)
    if task.status in FINISHED and task.completed_on:
        return f"{label}\n{task.completed_on:%Y-%m-%d}"
    return f"{label}\n{reason}" if reason else label


def _notices_text(notices: TaskNotices) -> str:
    if not notices.count and notices.latest is None:
        return ""
    lines = [_("%(count)d件") % {"count": notices.count}]
    if notices.highest_open:
        lines.append(_("未办结最高：%(level)s") % {"level": notices.highest_open_label})
    if notices.latest is not None:
        lines.append(notices.latest_text)
    return "\n".join(lines)


def _short(text: str, limit: int = MONTH_NOTE_CHARS) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def month_title(month: int) -> str:
    return _("%(month)d月进展") % {"month": month}


def ledger_row(
    task: Task, serial: int, today: datetime.date, notices: TaskNotices | None = None, months: list[int] = ()
) -> dict:
    """The ledger's values for one task by column key (strings, ints, dates); "risk" is its
    mark and "due_changed" whether an approved change moved the due date. `notices`: the
    task's notice figures (dashboards.exports.notices.per_task), none if absent."""
    lead, co = owners_text(task.owner_rows)
    mark, reason = task_risk(task, today)
    baseline = task.baseline_due_on or task.due_on
    values = {
        "serial": serial,
        "task": str(task),
        "lead": lead,
        "co": co,
        "responsible": _("、").join(task.responsible_names),
        "milestones": "\n".join(task.milestone_lines),
        "progress": task.report_text.progress,
        "problems": task.report_text.problems,
        "next_steps": task.report_text.next_steps,
        "status": _status_text(task, mark, reason),
        "percent": task.percent,
        "baseline_due": baseline,
        "due": task.due_on,
        "indicators": "\n".join(_indicator_line(i) for i in task.indicator_list),
        "notices": _notices_text(notices or TaskNotices()),
        "risk": mark,
        "due_changed": baseline != task.due_on,
    }
    for month in months:
        values[f"month{month}"] = _short(task.month_notes.get(month, ""))
    return values


def notice_row(line: NoticeLine, today: datetime.date) -> list:
    """The 督办单 sheet's values for one notice, in NOTICE_COLUMNS order."""
    return [
        line.number,
        line.level_label,
        line.plan_title,
        line.task_label,
        line.agency_name,
        line.issued_on,
        line.reply_due_on,
        line.state_label,
        line.answered_at_local(),
        line.lateness(today),
    ]


# --- The workbook ----------------------------------------------------------------------------


def _font(**extra) -> Font:
    return Font(name=FONT_NAME, charset=GB2312, sz=extra.pop("sz", BODY_POINTS), **extra)


def ledger_workbook() -> Workbook:
    """A write-only workbook whose default font (the Normal style, and so every cell and
    column Excel or LibreOffice sizes by it) is 10-point 宋体, not 11-point Calibri."""
    book = Workbook(write_only=True)
    default = _font()
    book._fonts = IndexedList([default])  # type: ignore[attr-defined]  # font 0 is every unstyled cell's
    normal = book._named_styles["Normal"]  # type: ignore[attr-defined]
    normal.font = default
    return book


def _style(sheet, **styles):
    """A StyleArray to copy onto cells (as core.spreadsheets.Cells does with its own)."""
    cell = WriteOnlyCell(sheet)
    for name, value in styles.items():
        setattr(cell, name, value)
    return cell._style  # type: ignore[attr-defined]


class LedgerCells(Cells):
    """Cells (text never a formula, wrapped, dates formatted) in 宋体, with the ledger's own
    kinds: title, group row, risk fills, a changed due date."""

    def __init__(self, sheet):  # Cells' own prototypes are not made: their fonts have no name
        self.sheet = sheet
        top = Alignment(wrap_text=True, vertical="top")
        thin = Side(style="thin", color="8C96A3")
        box = Border(left=thin, right=thin, top=thin, bottom=thin)
        body = _font()
        self.text_style = _style(sheet, font=body, alignment=top, border=box)
        self.quoted_style = _style(sheet, font=body, alignment=top, border=box, quotePrefix=True)
        self.date_style = _style(sheet, font=body, alignment=top, border=box, number_format="yyyy-mm-dd")
        self.datetime_style = _style(sheet, font=body, alignment=top, border=box, number_format="yyyy-mm-dd hh:mm")
        self.center_style = _style(
            sheet, font=body, border=box, alignment=Alignment(wrap_text=True, vertical="top", horizontal="center")
        )
        self.changed_date_style = _style(
            sheet,
            font=_font(b=True, color=CHANGED_DUE_COLOR),
            alignment=top,
            border=box,
            number_format="yyyy-mm-dd",
        )
        self.header_style = _style(
            sheet,
            font=_font(b=True),
            fill=PatternFill("solid", fgColor="DDE4EE"),
            alignment=Alignment(wrap_text=True, vertical="center", horizontal="center"),
            border=box,
        )
        self.title_style = _style(sheet, font=_font(b=True, sz=TITLE_POINTS), alignment=Alignment(horizontal="center"))
        self.line_style = _style(sheet, font=body, alignment=Alignment(vertical="center"))
        self.group_style = _style(
            sheet,
            font=_font(b=True),
            fill=PatternFill("solid", fgColor="EEF1F5"),
            alignment=Alignment(wrap_text=True, vertical="center"),
            border=box,
        )
        self.risk_styles = {
            mark: _style(
                sheet,
                font=body,
                fill=PatternFill("solid", fgColor=color),
                alignment=Alignment(wrap_text=True, vertical="top", horizontal="center"),
                border=box,
            )
            for mark, color in RISK_FILLS.items()
        }

    def styled(self, value, style):
        """A cell of `value` in `style` (text still never a formula)."""
        if value is None or isinstance(value, str):
            text = clean_text(value)
            if text.startswith(("=", "+", "-", "@", "\t", "\r", "\n")):
                return self.text(text)  # the quoted style wins: it keeps the text a text
            return self.text(text, style)
        cell = WriteOnlyCell(self.sheet, value=value)
        cell._style = copy.copy(style)  # type: ignore[attr-defined]
        return cell


def _columns(months: list[int]) -> list[Column]:
    """The ledger's columns: with months, the others narrowed and the months sharing what
    is left of a page printed at MIN_PRINT_SCALE (twelve months: 7 units each)."""
    if not months:
        return list(LEDGER_COLUMNS)
    columns = [dataclasses.replace(c, width=c.narrow) for c in LEDGER_COLUMNS]
    room = PRINTABLE_UNITS / MIN_PRINT_SCALE - sum(c.width for c in columns)
    width = max(MONTH_MIN_WIDTH, min(MONTH_WIDTH, math.floor(room / len(months))))
    return columns + [Column(f"month{m}", month_title(m), width, width) for m in months]


def print_scale(columns: list[Column]) -> float:
    """The share fit-to-width prints the columns at (1: full size)."""
    return min(1.0, PRINTABLE_UNITS / sum(c.width for c in columns))


def set_up_printing(sheet, title_rows: str | None) -> None:
    """A3 landscape, one page wide and as many long as it takes, the header rows on every
    page, centred, page numbers in the footer."""
    if title_rows:
        sheet.print_title_rows = title_rows
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = 8  # A3 (9 is A4)
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.horizontalCentered = True
    sheet.page_margins = PageMargins(left=0.4, right=0.4, top=0.6, bottom=0.6, header=0.3, footer=0.3)
    footer = sheet.HeaderFooter.oddFooter.center
    footer.text = _("第 &P 页 共 &N 页")
    footer.font = f"{FONT_NAME},Regular"
    footer.size = FOOTER_POINTS


def _units(line: str) -> float:
    """How many of a column's width units `line` takes: a Chinese character is two digits wide."""
    return sum(2.0 if unicodedata.east_asian_width(ch) in "WF" else 1.1 for ch in line)


def line_count(value, width: float) -> int:
    """The lines `value` wraps to in a column `width` units wide."""
    if not isinstance(value, str | None):
        return 1  # a date or a number: never wrapped
    text = "" if value is None else str(value)
    usable = max(width - CELL_PADDING_UNITS, 1.0)
    return max(1, sum(max(1, math.ceil(_units(line) / usable)) for line in text.split("\n")))


def _height(values, widths) -> float:
    """The height in points of a row showing `values` in columns of `widths`, all of it."""
    lines = max(line_count(value, width) for value, width in zip(values, widths, strict=True))
    return min(lines * LINE_POINTS + ROW_PADDING_POINTS, MAX_ROW_POINTS)


class LedgerSheet:
    """One ledger sheet: title rows, the legend, the header, then task rows under a group
    row for each section. Rows are appended as the chunks come; `close` sets the filter."""

    def __init__(self, book: Workbook, title: str, heading: str, scope_text: str, as_of: datetime.date, columns):
        self.sheet = book.create_sheet(title)
        self.cells = LedgerCells(self.sheet)
        self.columns = columns
        self.last = get_column_letter(len(columns))
        self.rows = 0  # rows written
        self.tasks = 0
        self.group = None
        for index, column in enumerate(columns, start=1):
            self.sheet.column_dimensions[get_column_letter(index)].width = column.width
        self.sheet.freeze_panes = f"C{HEADER_ROW + 1}"
        set_up_printing(self.sheet, f"{HEADER_ROW}:{HEADER_ROW}")
        self.page_width = sum(c.width for c in columns)
        self._merged(heading, self.cells.title_style, TITLE_ROW_POINTS)
        self._merged(scope_text, self.cells.line_style)
        as_of_text = _("%(year)d年%(month)d月%(day)d日") % {"year": as_of.year, "month": as_of.month, "day": as_of.day}
        self._merged(_("截至：%(day)s") % {"day": as_of_text}, self.cells.line_style)
        self._legend()
        titles = [str(c.title) for c in columns]
        self._append([self.cells.header(t) for t in titles], _height(titles, [c.width for c in columns]))

    def _append(self, cells, height: float) -> None:
        # Set, not left to the reader: LibreOffice keeps one line for a row read without a
        # height, and a fixed height makes the printed pages the same in every program.
        self.sheet.row_dimensions[self.rows + 1].height = height
        self.sheet.append(cells)
        self.rows += 1

    def _merged(self, text: str, style, height: float | None = None) -> None:
        row = self.rows + 1
        cells = [self.cells.styled(text, style)] + [self.cells.styled("", style) for _c in self.columns[1:]]
        self._append(cells, height or _height([text], [self.page_width]))
        self.sheet.merged_cells.add(f"A{row}:{self.last}{row}")

    def _legend(self) -> None:
        cells = self.cells
        row = self.rows + 1
        items = [
            cells.styled(_("图例"), cells.center_style),
            cells.styled(_("红：已逾期或标记滞后"), cells.risk_styles[Risk.RED]),
            cells.styled(_("黄：临近时限进度不足或落后时间进度"), cells.risk_styles[Risk.AMBER]),
            cells.styled(_("绿：正常推进"), cells.risk_styles[Risk.GREEN]),
            cells.styled(_("灰：已完成"), cells.risk_styles[Risk.DONE]),
        ]
        explained = _(
            "状态颜色按平台统一风险口径计算（截至上述日期）；现时限加粗标红表示经批准调整过时限；"
            "本期进展、存在问题、下步计划取本期已报送的周期报告，本期未报送的取最近一次已报送的报告，"
            "无报告的取最近一次进展说明。"
        )
        texts = [item.value for item in items] + [explained]
        widths = [c.width for c in self.columns[: len(items)]] + [sum(c.width for c in self.columns[len(items) :])]
        items.append(cells.styled(explained, cells.text_style))
        items += [cells.styled("", cells.text_style) for _c in self.columns[len(items) :]]
        self._append(items, _height(texts, widths))
        self.sheet.merged_cells.add(f"{get_column_letter(len(texts))}{row}:{self.last}{row}")

    def group_row(self, key, text: str) -> None:
        """A row naming the section (and plan) of the rows below, when it changes."""
        if key == self.group:
            return
        self.group = key
        if text:
            self._merged(text, self.cells.group_style)

    def task_row(self, values: dict) -> None:
        cells = self.cells
        row = []
        shown = [values[c.key] for c in self.columns]
        for column, value in zip(self.columns, shown, strict=True):
            if column.key == "status":
                row.append(cells.styled(value, cells.risk_styles[values["risk"]]))
            elif column.key == "due" and values["due_changed"]:
                row.append(cells.styled(value, cells.changed_date_style))
            elif column.key in ("serial", "percent"):
                row.append(cells.styled(value, cells.center_style))
            else:
                row.append(cells.value(value))
        self._append(row, _height(shown, [c.width for c in self.columns]))
        self.tasks += 1

    def close(self) -> None:
        self.sheet.auto_filter.ref = f"A{HEADER_ROW}:{self.last}{max(self.rows, HEADER_ROW + 1)}"


_FORBIDDEN_IN_SHEET_NAME = str.maketrans(dict.fromkeys("[]:*?/\\", "_"))
SHEET_NAME_MAX = 31


def sheet_name(name: str, taken: set[str]) -> str:
    """A sheet name Excel accepts: no []:*?/\\, not blank, not starting or ending with an
    apostrophe, at most 31 characters, unique (case-insensitively) among `taken`, which it
    joins."""
    base = clean_text(name).translate(_FORBIDDEN_IN_SHEET_NAME).replace("\n", " ").strip().strip("'").strip()
    base = base[:SHEET_NAME_MAX] or _("未命名")
    candidate, n = base, 1
    while candidate.lower() in taken or candidate.lower() == "history":
        n += 1
        suffix = f"({n})"
        candidate = base[: SHEET_NAME_MAX - len(suffix)] + suffix
    taken.add(candidate.lower())
    return candidate


def _notice_sheet(book: Workbook, notices: list[NoticeLine], today: datetime.date) -> None:
    sheet = book.create_sheet(_("督办单"))
    cells = LedgerCells(sheet)
    for index, (_title, width) in enumerate(NOTICE_COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    last = get_column_letter(len(NOTICE_COLUMNS))
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{last}{len(notices) + 1}"
    set_up_printing(sheet, "1:1")
    sheet.append([cells.header(str(title)) for title, _width in NOTICE_COLUMNS])
    for line in notices:
        sheet.append([cells.value(v) for v in notice_row(line, today)])


# A scope of more agencies than this is named by its first ones and a count.
SCOPE_NAMES_MAX = 6


def scope_names(scope: set[int] | None, first: int | None = None) -> str:
    """The title row's agency scope: 全部单位, or the agencies' names (`first`, the
    requester's own agency, before those under it)."""
    if scope is None:
        return str(_("全部单位"))
    agencies = Agency.objects.filter(pk__in=scope).annotate(own=Case(When(pk=first, then=0), default=1))
    names = list(agencies.order_by("own", "order", "name").values_list("name", flat=True)[: SCOPE_NAMES_MAX + 1])
    if len(names) > SCOPE_NAMES_MAX:
        return _("%(names)s等%(count)d个单位") % {"names": "、".join(names[:SCOPE_NAMES_MAX]), "count": len(scope)}
    return "、".join(names)


def _months(year: int, as_of: datetime.date) -> list[int]:
    """The months of `year` up to the as-of month (all twelve for a past year)."""
    if as_of.year < year:
        return []
    return list(range(1, 13 if as_of.year > year else as_of.month + 1))


def build_ledger(export: Export, progress: Callable[[int, int], None]) -> Built:
    options = ledger_options(export.options)
    scope, scope_short, described = scope_of(export)
    today = timezone.localdate()
    started = timezone.localtime()
    listed = ledger_tasks(scope, export.year, export.plan_id).values_list("id", "plan_id", "section_id", "plan__title")
    rows = [(task_id, plan_id, section_id) for task_id, plan_id, section_id, _title in listed]
    plan_titles = {plan_id: title for _id, plan_id, _section, title in listed}
    total = len(rows)
    progress(0, total)
    sections = section_paths(plan_titles)
    several_plans = len(plan_titles) > 1
    # Every notice on the ledger's tasks, in one query, for their rows and their own sheet.
    notices = export_notices(scoped_tasks(scope, export.year, export.plan_id))
    by_task = per_task(notices)
    months = _months(export.year, today) if options.monthly else []
    columns = _columns(months)

    if export.plan_id:
        heading = _("%(plan)s督办台账") % {"plan": export.plan.title}
    else:
        heading = _("%(year)d年度工作要点督办台账") % {"year": export.year}
    whole_scope = scope_names(scope, export.requested_by.agency_id)

    book = ledger_workbook()
    sheets: list[LedgerSheet] = []
    by_agency: dict[int | None, LedgerSheet] = {}
    leads: dict[int, list[int | None]] = {}
    if options.per_agency:
        # A task is on its lead agency's sheet (on each, for a joint lead); agencies in the tree's order.
        agencies: dict[int | None, tuple[str, str]] = {}
        for task_id, agency_id, name, short in (
            TaskOwner.objects.filter(task__in=scoped_tasks(scope, export.year, export.plan_id), role=OwnerRole.LEAD)
            .order_by("agency__order", "agency__name", "agency_id")
            .values_list("task_id", "agency_id", "agency__name", "agency__short_name")
        ):
            leads.setdefault(task_id, []).append(agency_id)
            agencies.setdefault(agency_id, (name, short or name))
        if any(task_id not in leads for task_id, _p, _s in rows):
            agencies[None] = (_("未明确牵头单位"), _("未明确牵头单位"))
        taken = {str(_("督办单")).lower(), str(_("说明")).lower()}
        for agency_id, (name, short) in agencies.items():
            scope_line = _("牵头单位：%(agency)s") % {"agency": name}
            sheet = LedgerSheet(book, sheet_name(short, taken), heading, scope_line, today, columns)
            by_agency[agency_id] = sheet
            sheets.append(sheet)
    else:
        scope_line = _("单位范围：%(scope)s") % {"scope": whole_scope}
        sheets.append(LedgerSheet(book, _("督办台账"), heading, scope_line, today, columns))

    done = 0
    for start in range(0, total, CHUNK_ROWS):
        chunk = rows[start : start + CHUNK_ROWS]
        ids = [task_id for task_id, _plan, _section in chunk]
        by_id = {task.pk: task for task in _ledger_chunk(ids, months, export.year)}
        for task_id, plan_id, section_id in chunk:
            task = by_id.get(task_id)
            if task is None:  # deleted since the list was read
                continue
            targets = [by_agency[a] for a in leads.get(task_id, [None])] if options.per_agency else sheets
            group = [plan_titles.get(plan_id, "")] if several_plans else []
            if section_id in sections:
                group.append(sections[section_id])
            for sheet in targets:
                sheet.group_row((plan_id, section_id), " / ".join(group))
                sheet.task_row(ledger_row(task, sheet.tasks + 1, today, by_task.get(task_id), months))
            done += 1
        progress(done, total)
    for sheet in sheets:
        sheet.close()

    _notice_sheet(book, notices, today)

    notes = book.create_sheet(_("说明"))
    notes_cells = LedgerCells(notes)
    notes.column_dimensions["A"].width = 14
    notes.column_dimensions["B"].width = 80
    set_up_printing(notes, None)
    user = export.requested_by
    requester = user.full_name or user.username
    if user.agency_id:
        requester = _("%(user)s（%(agency)s）") % {"user": requester, "agency": user.agency.name}
    chosen = [_("按牵头单位分表")] if options.per_agency else []
    chosen += [_("逐月进展列")] if options.monthly else []
    explained = [
        (_("导出时间"), f"{started:%Y-%m-%d %H:%M}"),
        (_("申请人"), requester),
        (_("范围"), described),
        (_("年度"), _("%(year)d年") % {"year": export.year}),
        (_("任务数"), done),
        (_("督办单数"), len(notices)),
        (_("选项"), _("、").join(str(c) for c in chosen) or _("无")),
        (_("说明"), _("每行一项任务；牵头或配合单位在范围内的任务均列出。风险按平台统一口径计算（截至导出当日）。")),
        (
            _("督办单"),
            _(
                "“督办情况”为该任务累计下发的督办单件数（不含已撤销的）、已发出、已签收、已反馈而尚未办结的"
                "督办单中的最高等级和最近一件。“督办单”工作表列出上述任务的全部督办单，逾期情况截至导出当日。"
            ),
        ),
    ]
    if options.monthly:
        explained.append(
            (
                _("逐月进展"),
                _(
                    "每月一列，取该月已报送的周期报告的本期进展（季度报告列在季度末月），"
                    "该月无报告的取该月最近一次进展说明，超过%(chars)d字的截断。"
                )
                % {"chars": MONTH_NOTE_CHARS},
            )
        )
    for label, value in explained:
        notes.append([notes_cells.header(label), notes_cells.value(value)])

    handle = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the caller, who streams and closes it
    book.save(handle)
    if export.plan_id:
        stem = _("%(plan)s督办台账") % {"plan": export.plan.title}
    else:
        stem = _("%(year)d年督办台账") % {"year": export.year}
    return Built(handle, download_name(stem, scope_short, today, "xlsx"), done, scope)
