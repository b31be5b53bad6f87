"""The supervision ledger (督办台账): one row per task of the requester's scope, with the
figures of its 督办单, and a sheet listing those notices, as an .xlsx that prints on A4
landscape with its header repeated."""

import datetime
import tempfile
from collections.abc import Callable

from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from core.spreadsheets import Cells
from dashboards.exports.base import (
    CHUNK_ROWS,
    Built,
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
from tasks.choices import TaskStatus
from tasks.models import Milestone, Task, TaskOwner
from tasks.risk import task_risk

LEDGER_COLUMNS = [
    (gettext_lazy("计划"), 24),
    (gettext_lazy("部分"), 20),
    (gettext_lazy("序号"), 6),
    (gettext_lazy("任务"), 40),
    (gettext_lazy("牵头单位"), 16),
    (gettext_lazy("配合单位"), 22),
    (gettext_lazy("责任人"), 12),
    (gettext_lazy("状态"), 8),
    (gettext_lazy("完成百分比"), 10),
    (gettext_lazy("风险"), 22),
    # The three dates of a task: as imported (基线), as approved delays moved it, and done.
    (gettext_lazy("原定时限"), 12),
    (gettext_lazy("现时限"), 12),
    (gettext_lazy("实际完成"), 12),
    (gettext_lazy("是否逾期"), 8),
    (gettext_lazy("最近更新"), 17),
    (gettext_lazy("最新进展说明"), 50),
    (gettext_lazy("时间节点"), 44),
    (gettext_lazy("量化指标"), 44),
    # The task's 督办单 (escalation): how many, the most severe still open, the latest.
    (gettext_lazy("督办单数"), 8),
    (gettext_lazy("最高等级（未办结）"), 12),
    (gettext_lazy("最近督办单"), 30),
]

# The 督办单 sheet: every notice on the ledger's tasks, oldest first.
NOTICE_COLUMNS = [
    (gettext_lazy("督办单编号"), 20),
    (gettext_lazy("督办等级"), 10),
    (gettext_lazy("计划"), 24),
    (gettext_lazy("任务"), 40),
    (gettext_lazy("主送单位"), 16),
    (gettext_lazy("下发日期"), 12),
    (gettext_lazy("反馈时限"), 12),
    (gettext_lazy("状态"), 8),
    (gettext_lazy("反馈时间"), 17),
    (gettext_lazy("逾期情况"), 14),
]


def ledger_tasks(scope: set[int] | None, year: int, plan_id: int | None) -> QuerySet[Task]:
    """The ledger's tasks in plan order (plan, section, order), without their related rows."""
    return scoped_tasks(scope, year, plan_id).order_by(
        "plan__year", "plan__title", "plan_id", F("section__order").asc(nulls_first=True), "section_id", "order", "id"
    )


def _ledger_chunk(ids: list[int]) -> list[Task]:
    """One chunk of tasks with everything a row shows, in five queries whatever the chunk's
    size. The related rows are read as plain values and grouped here: Django's prefetch
    builds a queryset per task, which costs more than the queries themselves at this size."""
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
            "last_progress_at",
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
    for task in tasks:
        task.owner_rows = owners.get(task.pk, [])
        task.responsible_names = responsible.get(task.pk, [])
        task.milestone_lines = milestones.get(task.pk, [])
        task.indicator_list = indicators.get(task.pk, [])
    return tasks


def _indicator_line(indicator: Indicator) -> str:
    met = attained(indicator.comparator, indicator.target, indicator.latest_value)
    if indicator.latest_value is None:
        return _("%(name)s %(target)s —（未填报）") % {"name": indicator.name, "target": target_text(indicator)}
    reading = _("%(value)s（%(day)s，%(met)s）") % {
        "value": value_text(indicator),
        "day": f"{indicator.latest_as_of:%Y-%m-%d}",
        "met": met_label(met),
    }
    return f"{indicator.name} {target_text(indicator)} {reading}"


def _risk_text(task: Task, today: datetime.date) -> str:
    mark, reason = task_risk(task, today)
    return _("%(mark)s（%(reason)s）") % {"mark": mark.label, "reason": reason} if reason else str(mark.label)


def ledger_row(task: Task, sections: dict[int, str], today: datetime.date, notices: TaskNotices | None = None) -> list:
    """The ledger's values for one task, in LEDGER_COLUMNS order (strings, ints, dates);
    `notices`: the task's notice figures (dashboards.exports.notices.per_task), none if absent."""
    notices = notices or TaskNotices()
    lead, co = owners_text(task.owner_rows)
    last = None
    if task.last_progress_at:
        last = timezone.localtime(task.last_progress_at).replace(tzinfo=None, microsecond=0)
    return [
        task.plan.title,
        sections.get(task.section_id, ""),
        task.number,
        task.heading,
        lead,
        co,
        _("、").join(task.responsible_names),
        str(TaskStatus(task.status).label),
        task.percent,
        _risk_text(task, today),
        task.baseline_due_on or task.due_on,
        task.due_on,
        task.completed_on,
        _("是") if task.is_overdue(today) else _("否"),
        last,
        task.latest_note or "",
        "\n".join(task.milestone_lines),
        "\n".join(_indicator_line(i) for i in task.indicator_list),
        notices.count,
        notices.highest_open_label,
        notices.latest_text,
    ]


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


def _sheet(book: Workbook, title: str, columns, rows: int) -> tuple:
    """A sheet of `columns` (title, width) and `rows` rows to come, set up to print on A4
    landscape with its header repeated, the header written; with its Cells."""
    sheet = book.create_sheet(title)
    cells = Cells(sheet)
    for index, (_title, width) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    last_column = get_column_letter(len(columns))
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{last_column}{rows + 1}"
    sheet.print_title_rows = "1:1"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = 9  # A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.append([cells.header(title) for title, _width in columns])
    return sheet, cells


def build_ledger(export: Export, progress: Callable[[int, int], None]) -> Built:

    scope, scope_short, described = scope_of(export)
    today = timezone.localdate()
    started = timezone.localtime()
    rows = list(ledger_tasks(scope, export.year, export.plan_id).values_list("id", "plan_id"))
    total = len(rows)
    progress(0, total)
    sections = section_paths({plan_id for _id, plan_id in rows})
    # Every notice on the ledger's tasks, in one query, for their rows and their own sheet.
    notices = export_notices(scoped_tasks(scope, export.year, export.plan_id))
    by_task = per_task(notices)

    book = Workbook(write_only=True)
    sheet, cells = _sheet(book, _("督办台账"), LEDGER_COLUMNS, total)

    done = 0
    for start in range(0, total, CHUNK_ROWS):
        ids = [task_id for task_id, _plan in rows[start : start + CHUNK_ROWS]]
        by_id = {task.pk: task for task in _ledger_chunk(ids)}
        for task_id in ids:
            task = by_id.get(task_id)
            if task is None:  # deleted since the list was read
                continue
            sheet.append([cells.value(v) for v in ledger_row(task, sections, today, by_task.get(task_id))])
            done += 1
        progress(done, total)

    notice_sheet, notice_cells = _sheet(book, _("督办单"), NOTICE_COLUMNS, len(notices))
    for line in notices:
        notice_sheet.append([notice_cells.value(v) for v in notice_row(line, today)])

    notes = book.create_sheet(_("说明"))
    notes.column_dimensions["A"].width = 14
    notes.column_dimensions["B"].width = 70
    user = export.requested_by
    requester = user.full_name or user.username
    if user.agency_id:
        requester = _("%(user)s（%(agency)s）") % {"user": requester, "agency": user.agency.name}
    explained = [
        (_("导出时间"), f"{started:%Y-%m-%d %H:%M}"),
        (_("申请人"), requester),
        (_("范围"), described),
        (_("年度"), _("%(year)d年") % {"year": export.year}),
        (_("任务数"), done),
        (_("督办单数"), len(notices)),
        (_("说明"), _("每行一项任务；牵头或配合单位在范围内的任务均列出。风险按平台统一口径计算（截至导出当日）。")),
        (
            _("督办单"),
            _(
                "“督办单数”为该任务累计下发的督办单（不含已撤销的）；“最高等级（未办结）”为已发出、已签收、"
                "已反馈而尚未办结的督办单中等级最高者。“督办单”工作表列出上述任务的全部督办单，"
                "逾期情况截至导出当日。"
            ),
        ),
    ]
    for label, value in explained:
        notes.append([cells.header(label), cells.value(value)])

    handle = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the caller, who streams and closes it
    book.save(handle)
    if export.plan_id:
        stem = _("%(plan)s督办台账") % {"plan": export.plan.title}
    else:
        stem = _("%(year)d年督办台账") % {"year": export.year}
    return Built(handle, download_name(stem, scope_short, today, "xlsx"), done, scope)
