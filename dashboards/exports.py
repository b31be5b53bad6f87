"""Export files for leaders and admins: the supervision ledger (督办台账, .xlsx) and the monthly
bulletin (进展通报, .docx), each built by a job for one requester over their scope.

The flow: `request_export` checks the request and creates the Export row (nothing is written
when it is refused), then builds it after the commit, in the request when it is small
(EXPORT_INLINE_MAX_ROWS), else through the `build_export` job. `run_export` claims the row
(queued -> running, one conditional UPDATE: a job run twice builds once), builds the file in
chunks, writing `done_rows` after each so the status page's bar moves, stores the file and
marks the row done, or failed with a Chinese message.
"""

import copy
import dataclasses
import datetime
import decimal
import logging
import re
import tempfile
from collections.abc import Callable

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import Count, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.lookups import Exact
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.choices import Role
from dashboards.models import Export, ExportKind, ExportStatus
from dashboards.rollup import task_aggregates
from dashboards.services import scoped_tasks
from indicators.models import Indicator
from indicators.services import attained, target_text, with_latest_reading
from tasks.choices import OwnerRole, TaskStatus
from tasks.models import Milestone, ProgressUpdate, Task, TaskOwner
from tasks.risk import Risk, risk_annotation, task_risk
from tasks.services import scope_agency_ids
from workplans.choices import PlanStatus
from workplans.models import MAX_YEAR, MIN_YEAR, Plan, Section

logger = logging.getLogger(__name__)

EXPORT_ROLES = (Role.LEADER, Role.ADMIN)
# Tasks read (and rows written) per round; done_rows is written after each one.
CHUNK_ROWS = 500
# A row still 生成中 this long after it was requested belongs to a worker that died: a
# redelivered job (acks_late) may take it over. No export takes anywhere near this long.
STALE_CLAIM_AFTER = datetime.timedelta(minutes=30)

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
CONTENT_TYPES = {ExportKind.LEDGER: XLSX_TYPE, ExportKind.BULLETIN: DOCX_TYPE}

FAILED_UNEXPECTEDLY = "导出失败：生成文件时发生内部错误，已记录日志。请稍后重试，或联系系统管理员。"


class ExportRefused(Exception):
    """A request (or a build) that cannot go ahead; the message is Chinese, for the user."""


# --- Who, what, how many ----------------------------------------------------------------


def export_scope(user) -> set[int] | None:
    """The agencies whose tasks `user` may export (None: all), or ExportRefused."""
    if not user.is_authenticated or not user.is_active or user.role not in EXPORT_ROLES:
        raise ExportRefused(_("只有领导和管理员可以导出台账和通报。"))
    if user.role == Role.LEADER and not user.agency_id:
        raise ExportRefused(_("您的账号未关联单位，无法导出。请联系管理员。"))
    return scope_agency_ids(user)


def _parse_year(raw) -> int | None:
    text = str(raw if raw is not None else "").strip()
    if not text:
        return None
    if not re.fullmatch(r"\d{4}", text) or not MIN_YEAR <= int(text) <= MAX_YEAR:
        raise ExportRefused(_("年度应为 %(min)d–%(max)d 之间的四位数字。") % {"min": MIN_YEAR, "max": MAX_YEAR})
    return int(text)


def check_request(user, *, plan=None, year=None) -> tuple[set[int] | None, Plan | None, int]:
    """The scope, plan and year of an export request, or ExportRefused with a Chinese message.

    `plan` is a plan id (optional): it must be published and, for a leader, have tasks in
    the leader's scope. `year` defaults to the plan's year, else the current year; given
    with a plan, it must be the plan's year."""
    scope = export_scope(user)
    year = _parse_year(year)
    chosen = None
    plan_text = str(plan if plan is not None else "").strip()
    if plan_text:
        if not plan_text.isdigit():
            raise ExportRefused(_("所选计划不存在或不在您的权限范围内。"))
        chosen = Plan.objects.exclude(status=PlanStatus.DRAFT).filter(pk=int(plan_text)).first()
        if chosen is None or (scope is not None and not scoped_tasks(scope, chosen.year, chosen.pk).exists()):
            raise ExportRefused(_("所选计划不存在或不在您的权限范围内。"))
        if year is not None and year != chosen.year:
            message = _("所选计划属于%(plan_year)d年度，与所选年度（%(year)d年）不一致。")
            raise ExportRefused(message % {"plan_year": chosen.year, "year": year})
        year = chosen.year
    if year is None:
        year = timezone.localdate().year
    return scope, chosen, year


def request_export(user, kind: str, *, plan=None, year=None) -> Export:
    """Check and record one export request, and have it built once the row is committed:
    right away in this process when it is small, else by the `build_export` job. An
    identical request still queued or running is returned instead of a second one.
    Raises ExportRefused (and writes nothing) when the request is not allowed."""
    if kind not in ExportKind.values:
        raise ExportRefused(_("不支持的导出类型。"))
    scope, chosen, year = check_request(user, plan=plan, year=year)
    # The same request posted twice (a double click) while the first is still on its way: one export.
    pending = Export.objects.filter(
        requested_by=user,
        kind=kind,
        plan=chosen,
        year=year,
        status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING],
        created_at__gte=timezone.now() - STALE_CLAIM_AFTER,
    ).first()
    if pending is not None:
        return pending
    rows = scoped_tasks(scope, year, chosen.pk if chosen else None).count()
    export = Export.objects.create(kind=kind, requested_by=user, plan=chosen, year=year, total_rows=rows)
    transaction.on_commit(lambda: _start(export.pk, inline=rows <= settings.EXPORT_INLINE_MAX_ROWS))
    return export


def _start(export_id: int, *, inline: bool) -> None:
    from config.celery import QUEUE_UNAVAILABLE, enqueue
    from dashboards.jobs import build_export

    if inline:
        # Small: built before the redirect, so the status page already has the link.
        build_export.apply(args=[export_id])
    elif not enqueue(build_export, export_id):
        # The broker is down: the status page says to try again instead of 排队中 for ever.
        Export.objects.filter(pk=export_id, status=ExportStatus.QUEUED).update(
            status=ExportStatus.FAILED, error=f"导出失败：{QUEUE_UNAVAILABLE}", finished_at=timezone.now()
        )


def may_see(user, export: Export) -> bool:
    """Only the requester (still a leader or admin) or an admin sees an export or its file."""
    if not user.is_authenticated or user.role not in EXPORT_ROLES:
        return False
    return user.role == Role.ADMIN or export.requested_by_id == user.pk


# --- Running the job --------------------------------------------------------------------


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


@dataclasses.dataclass
class Built:
    """A finished file, still in a temporary file, and the name it is downloaded as."""

    file: object  # an open binary file, positioned anywhere
    filename: str
    rows: int


def run_export(export_id: int) -> str:
    """Build one requested export; returns "done", "failed" or "skipped" (not claimable:
    already built, being built, or gone). Never raises for a failed build: the row says
    失败 with a Chinese message, and an unexpected error's trace goes to the log."""
    if not _claim(export_id):
        return "skipped"
    try:
        export = Export.objects.select_related("requested_by__agency", "plan").get(pk=export_id)
        with translation.override(settings.LANGUAGE_CODE):
            if export.kind == ExportKind.LEDGER:
                built = build_ledger(export, _progress_writer(export_id))
            else:
                built = build_bulletin(export, _progress_writer(export_id))
    except ExportRefused as refused:
        _fail(export_id, f"导出失败：{refused}")
        return "failed"
    except Exception:
        logger.exception("export %s: the build failed", export_id)
        _fail(export_id, FAILED_UNEXPECTEDLY)
        return "failed"
    try:
        with built.file:
            built.file.seek(0)
            stored_as = f"{export.kind}-{export.year}.{'xlsx' if export.kind == ExportKind.LEDGER else 'docx'}"
            name = export.file.storage.save(export.file.field.generate_filename(export, stored_as), File(built.file))
    except Exception:
        logger.exception("export %s: cannot store the file", export_id)
        _fail(export_id, "导出失败：无法保存生成的文件，请稍后重试，或联系系统管理员。")
        return "failed"
    finished = Export.objects.filter(pk=export_id, status=ExportStatus.RUNNING).update(
        status=ExportStatus.DONE,
        file=name,
        filename=built.filename[:200],
        done_rows=built.rows,
        total_rows=built.rows,
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


# --- Shared pieces ----------------------------------------------------------------------


def _scope_of(export: Export) -> tuple[set[int] | None, str, str]:
    """The requester's scope as it is now, a short name for the file name, and a description."""
    user = export.requested_by
    try:
        scope = export_scope(user)
    except ExportRefused:
        raise ExportRefused(_("申请人已无导出权限。")) from None
    if scope is None:
        short, described = "全部单位", "全部单位"
    else:
        agency = user.agency
        short = agency.short_name or agency.name
        described = f"{agency.name}及下属单位" if len(scope) > 1 else agency.name
    if export.plan_id:
        described = f"{described}；计划：{export.plan.title}"
    else:
        described = f"{described}；{export.year}年度全部已发布计划"
    return scope, short, described


_UNSAFE_IN_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


def download_name(stem: str, scope_short: str, day: datetime.date, extension: str) -> str:
    """ "2026年督办台账-医政医管处-20261124.xlsx", without characters a file name cannot hold."""
    name = f"{stem}-{scope_short}-{day:%Y%m%d}"
    name = _UNSAFE_IN_NAME.sub("_", name).strip(" .")[:150]
    return f"{name}.{extension}"


# Characters XML 1.0 (and so xlsx and docx) cannot hold: control characters but tab, LF, CR.
_NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
EXCEL_CELL_MAX = 32767


def clean_text(value, limit: int = EXCEL_CELL_MAX) -> str:
    text = _NOT_IN_XML.sub("", "" if value is None else str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _plain(value) -> str:
    if value is None:
        return ""
    return f"{decimal.Decimal(value).normalize():f}"


def _unit(indicator: Indicator) -> str:
    return indicator.unit or ""


def _value_text(indicator: Indicator) -> str:
    return "—" if indicator.latest_value is None else f"{_plain(indicator.latest_value)}{_unit(indicator)}"


def _met_label(met: bool | None) -> str:
    return "未填报" if met is None else ("达标" if met else "未达标")


def _indicators_queryset() -> QuerySet[Indicator]:
    return with_latest_reading(Indicator.objects.order_by("order", "id"))


def _latest_note() -> Subquery:
    """The latest non-empty progress note of each task, in the task's own query."""
    notes = ProgressUpdate.objects.filter(task=OuterRef("pk")).exclude(note="").order_by("-created_at", "-id")
    return Subquery(notes.values("note")[:1])


def _owners(rows) -> tuple[str, str]:
    """The lead and the co-owners, "、"-joined, from (role, agency name) pairs."""
    lead, co = [], []
    for role, name in rows:
        (lead if role == OwnerRole.LEAD else co).append(name)
    return "、".join(lead), "、".join(co)


def _section_paths(plan_ids) -> dict[int, str]:
    """Every section of the plans as "一 提升服务能力" (nested: "第一部分 … / 一 …"), one query."""
    rows = {s.pk: s for s in Section.objects.filter(plan_id__in=plan_ids).only("id", "parent_id", "label", "title")}
    paths: dict[int, str] = {}

    def path(section_id: int, depth: int = 0) -> str:
        if section_id in paths:
            return paths[section_id]
        section = rows[section_id]
        own = f"{section.label} {section.title}".strip()
        parent = section.parent_id
        text = f"{path(parent, depth + 1)} / {own}" if parent in rows and depth < 20 else own
        paths[section_id] = text
        return text

    for section_id in rows:
        path(section_id)
    return paths


# --- The ledger (.xlsx) -----------------------------------------------------------------

LEDGER_COLUMNS = [
    ("计划", 24),
    ("部分", 20),
    ("序号", 6),
    ("任务", 40),
    ("牵头单位", 16),
    ("配合单位", 22),
    ("责任人", 12),
    ("状态", 8),
    ("完成百分比", 10),
    ("风险", 22),
    ("完成时限", 12),
    ("是否逾期", 8),
    ("最近更新", 17),
    ("最新进展说明", 50),
    ("时间节点", 44),
    ("量化指标", 44),
]
# What a spreadsheet may read as the start of a formula (or of a DDE payload).
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r", "\n")


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
            "status",
            "percent",
            "last_progress_at",
            "plan__title",
            "plan__year",
        )
        .annotate(latest_note=_latest_note())
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
        milestones.setdefault(task_id, []).append(f"{due_on:%Y-%m-%d} {text}（{'已完成' if done_on else '未完成'}）")
    indicators: dict[int, list[Indicator]] = {}
    for item in _indicators_queryset().filter(task_id__in=ids):
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
        return f"{indicator.name} {target_text(indicator)} —（未填报）"
    reading = f"{_value_text(indicator)}（{indicator.latest_as_of:%Y-%m-%d}，{_met_label(met)}）"
    return f"{indicator.name} {target_text(indicator)} {reading}"


def _risk_text(task: Task, today: datetime.date) -> str:
    mark, reason = task_risk(task, today)
    return f"{mark.label}（{reason}）" if reason else str(mark.label)


def ledger_row(task: Task, sections: dict[int, str], today: datetime.date) -> list:
    """The ledger's values for one task, in LEDGER_COLUMNS order (strings, ints, dates)."""
    lead, co = _owners(task.owner_rows)
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
        "、".join(task.responsible_names),
        str(TaskStatus(task.status).label),
        task.percent,
        _risk_text(task, today),
        task.due_on,
        "是" if task.is_overdue(today) else "否",
        last,
        task.latest_note or "",
        "\n".join(task.milestone_lines),
        "\n".join(_indicator_line(i) for i in task.indicator_list),
    ]


class _Cells:
    """Makes the write-only cells of the ledger: text is always text (never a formula),
    dates get a date format, every cell wraps.

    Each kind of cell takes a copy of a prototype's style array: assigning the style
    objects one by one on 80,000 cells costs more than writing them."""

    def __init__(self, sheet):
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

        self.sheet = sheet
        self.cell_class = WriteOnlyCell
        wrap = Alignment(wrap_text=True, vertical="top")
        thin = Side(style="thin", color="B7C0CC")

        def prototype(**styles):
            cell = WriteOnlyCell(sheet)
            for name, value in styles.items():
                setattr(cell, name, value)
            return cell._style

        self.text_style = prototype(alignment=wrap)
        self.quoted_style = prototype(alignment=wrap, quotePrefix=True)
        self.date_style = prototype(alignment=wrap, number_format="yyyy-mm-dd")
        self.datetime_style = prototype(alignment=wrap, number_format="yyyy-mm-dd hh:mm")
        self.header_style = prototype(
            font=Font(bold=True),
            fill=PatternFill("solid", fgColor="DDE4EE"),
            alignment=Alignment(wrap_text=True, vertical="center", horizontal="center"),
            border=Border(left=thin, right=thin, top=thin, bottom=thin),
        )

    def text(self, value, style=None) -> object:
        text = clean_text(value)
        cell = self.cell_class(self.sheet, value=text)
        # openpyxl reads a leading "=" as a formula: force the type back to a string. The
        # quote prefix also keeps Excel from re-reading it as one when the cell is edited.
        cell.data_type = "s"
        if style is None:
            style = self.quoted_style if text.startswith(FORMULA_LEADS) else self.text_style
        cell._style = copy.copy(style)
        return cell

    def value(self, value) -> object:
        if value is None:
            return self.text("")
        if isinstance(value, str):
            return self.text(value)
        cell = self.cell_class(self.sheet, value=value)
        if isinstance(value, datetime.datetime):
            cell._style = copy.copy(self.datetime_style)
        elif isinstance(value, datetime.date):
            cell._style = copy.copy(self.date_style)
        else:
            cell._style = copy.copy(self.text_style)
        return cell

    def header(self, value: str) -> object:
        return self.text(value, self.header_style)


def build_ledger(export: Export, progress: Callable[[int, int], None]) -> Built:
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    scope, scope_short, described = _scope_of(export)
    today = timezone.localdate()
    started = timezone.localtime()
    rows = list(ledger_tasks(scope, export.year, export.plan_id).values_list("id", "plan_id"))
    total = len(rows)
    progress(0, total)
    sections = _section_paths({plan_id for _id, plan_id in rows})

    book = Workbook(write_only=True)
    sheet = book.create_sheet("督办台账")
    cells = _Cells(sheet)
    for index, (_title, width) in enumerate(LEDGER_COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    last_column = get_column_letter(len(LEDGER_COLUMNS))
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{last_column}{total + 1}"
    sheet.print_title_rows = "1:1"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = 9  # A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.append([cells.header(title) for title, _width in LEDGER_COLUMNS])

    done = 0
    for start in range(0, total, CHUNK_ROWS):
        ids = [task_id for task_id, _plan in rows[start : start + CHUNK_ROWS]]
        by_id = {task.pk: task for task in _ledger_chunk(ids)}
        for task_id in ids:
            task = by_id.get(task_id)
            if task is None:  # deleted since the list was read
                continue
            sheet.append([cells.value(v) for v in ledger_row(task, sections, today)])
            done += 1
        progress(done, total)

    notes = book.create_sheet("说明")
    notes.column_dimensions["A"].width = 14
    notes.column_dimensions["B"].width = 70
    user = export.requested_by
    requester = user.full_name or user.username
    if user.agency_id:
        requester = f"{requester}（{user.agency.name}）"
    explained = [
        ("导出时间", f"{started:%Y-%m-%d %H:%M}"),
        ("申请人", requester),
        ("范围", described),
        ("年度", f"{export.year}年"),
        ("任务数", done),
        ("说明", "每行一项任务；牵头或配合单位在范围内的任务均列出。风险按平台统一口径计算（截至导出当日）。"),
    ]
    for label, value in explained:
        notes.append([cells.header(label), cells.value(value)])

    handle = tempfile.TemporaryFile()
    book.save(handle)
    stem = f"{export.plan.title}督办台账" if export.plan_id else f"{export.year}年督办台账"
    return Built(handle, download_name(stem, scope_short, today, "xlsx"), done)


# --- The bulletin (.docx) ---------------------------------------------------------------


def _one_place(value: decimal.Decimal) -> decimal.Decimal:
    return value.quantize(decimal.Decimal("0.1"), rounding=decimal.ROUND_HALF_UP)


def bulletin_figures(tasks: QuerySet[Task], indicators: list[Indicator], today: datetime.date) -> dict:
    """The overview of a bulletin, from the tasks in scope (one query) and their indicators.

    The definitions are the dashboard's and the rollup's (dashboards.rollup.task_aggregates),
    plus the red count."""
    row = tasks.aggregate(
        **task_aggregates(today), red=Count("pk", filter=Exact(risk_annotation(today), Risk.RED.value))
    )
    met = [attained(i.comparator, i.target, i.latest_value) for i in indicators]
    report_due = row["report_due"]
    mean = _one_place(decimal.Decimal(row["percent_sum"] or 0) / row["tasks"]) if row["tasks"] else decimal.Decimal(0)
    rate = _one_place(decimal.Decimal(100 * row["reported"]) / report_due) if report_due else None
    return {
        "tasks": row["tasks"],
        "by_status": [(str(label), row[value]) for value, label in TaskStatus.choices],
        "mean_percent": mean,
        "overdue": row["overdue"],
        "red": row["red"],
        "amber": row["at_risk"],
        "indicators": len(indicators),
        "indicators_met": sum(1 for m in met if m is True),
        "indicators_missed": sum(1 for m in met if m is False),
        "indicators_unreported": sum(1 for m in met if m is None),
        "reported": row["reported"],
        "report_due": report_due,
        "report_rate": rate,
    }


def bulletin_indicators(scope: set[int] | None, year: int, plan_id: int | None) -> list[Indicator]:
    """Indicators of the tasks in scope; for admins also the plan-wide ones (no task)."""
    tasks = scoped_tasks(scope, year, plan_id)
    condition = Q(task__in=tasks.values("pk"))
    if scope is None:
        plans = Plan.objects.filter(year=year).exclude(status=PlanStatus.DRAFT)
        if plan_id is not None:
            plans = plans.filter(pk=plan_id)
        condition |= Q(task__isnull=True, plan__in=plans.values("pk"))
    return list(
        _indicators_queryset()
        .filter(condition)
        .select_related("plan")
        .order_by(
            "plan__year", "plan__title", "plan_id", F("task__order").asc(nulls_last=True), "task_id", "order", "id"
        )
    )


def overdue_tasks(tasks: QuerySet[Task], today: datetime.date) -> QuerySet[Task]:
    return (
        tasks.filter(due_on__lt=today)
        .exclude(status=TaskStatus.DONE)
        .select_related("plan")
        .defer("text", "search_text")
        .annotate(latest_note=_latest_note())
        .prefetch_related(
            Prefetch("task_owners", queryset=TaskOwner.objects.select_related("agency").order_by("role", "order", "id"))
        )
        .order_by("due_on", "plan__title", "plan_id", "order", "id")
    )


def _cn_date(day: datetime.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _set_fonts(style_or_run, name: str, size_pt: float | None = None, bold: bool | None = None) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt

    font = style_or_run.font
    font.name = name
    if size_pt is not None:
        font.size = Pt(size_pt)
    if bold is not None:
        font.bold = bold
    rpr = style_or_run.element.get_or_add_rPr()
    fonts = rpr.get_or_add_rFonts()
    for attribute in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attribute), None)
    for attribute in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attribute), name)


class _Doc:
    """A python-docx document set up for printing: A4, CJK fonts, black headings, page numbers."""

    BODY_FONT = "宋体"
    HEADING_FONT = "黑体"

    def __init__(self):
        from docx import Document
        from docx.shared import Mm, RGBColor

        self.document = Document()
        section = self.document.sections[0]
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.top_margin = section.bottom_margin = Mm(25)
        section.left_margin = section.right_margin = Mm(22)
        styles = self.document.styles
        _set_fonts(styles["Normal"], self.BODY_FONT, 12)
        for name, size in (("Title", 20), ("Heading 1", 15), ("Heading 2", 13)):
            _set_fonts(styles[name], self.HEADING_FONT, size, bold=name != "Title")
            styles[name].font.color.rgb = RGBColor(0, 0, 0)
        _set_fonts(styles["Table Grid"], self.BODY_FONT, 10.5)
        self._page_numbers(section)

    def _page_numbers(self, section) -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn

        paragraph = section.footer.paragraphs[0]
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.add_run("第 ")
        field = OxmlElement("w:fldSimple")
        field.set(qn("w:instr"), "PAGE")
        run = OxmlElement("w:r")
        text = OxmlElement("w:t")
        text.text = "1"
        run.append(text)
        field.append(run)
        paragraph._p.append(field)
        paragraph.add_run(" 页")

    def paragraph(self, text: str = "", *, style=None, align=None, size=None, bold=None):
        from docx.shared import Pt

        paragraph = self.document.add_paragraph(style=style)
        if align is not None:
            paragraph.alignment = align
        if text:
            run = paragraph.add_run(clean_text(text))
            if size is not None:
                run.font.size = Pt(size)
            if bold is not None:
                run.bold = bold
        return paragraph

    def table(self, headers: list[str], widths_mm: list[float], rows, progress: Callable[[], None] | None = None):
        """A grid table of fixed column widths whose header row repeats on every printed page;
        `rows` are lists of text. The body rows are written as XML directly: python-docx's
        add_row and cell.text walk the whole table each time, slow past a few hundred rows."""
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn
        from docx.shared import Mm
        from lxml import etree

        table = self.document.add_table(rows=1, cols=len(headers))
        table.style = self.document.styles["Table Grid"]
        table.autofit = False
        twips = [str(Mm(width).twips) for width in widths_mm]
        for column, width in zip(table.columns, widths_mm, strict=True):
            column.width = Mm(width)
        header = table.rows[0]
        repeat = OxmlElement("w:tblHeader")
        repeat.set(qn("w:val"), "true")
        header._tr.get_or_add_trPr().append(repeat)
        for cell, title, width in zip(header.cells, headers, widths_mm, strict=True):
            cell.width = Mm(width)
            cell.paragraphs[0].add_run(title).bold = True

        tbl = table._tbl
        sub = etree.SubElement
        names = {name: qn(f"w:{name}") for name in ("tr", "tc", "tcPr", "tcW", "p", "r", "t", "br", "w", "type")}
        preserve = "{http://www.w3.org/XML/1998/namespace}space"
        for values in rows:
            tr = sub(tbl, names["tr"])
            for value, width in zip(values, twips, strict=True):
                tc = sub(tr, names["tc"])
                tc_width = sub(sub(tc, names["tcPr"]), names["tcW"])
                tc_width.set(names["w"], width)
                tc_width.set(names["type"], "dxa")
                run = sub(sub(tc, names["p"]), names["r"])
                for n, line in enumerate(clean_text(value).split("\n")):
                    if n:
                        sub(run, names["br"])
                    text = sub(run, names["t"])
                    text.text = line
                    text.set(preserve, "preserve")
            if progress is not None:
                progress()
        return table


def build_bulletin(export: Export, progress: Callable[[int, int], None]) -> Built:
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    scope, scope_short, described = _scope_of(export)
    today = timezone.localdate()
    tasks = scoped_tasks(scope, export.year, export.plan_id)
    indicators = bulletin_indicators(scope, export.year, export.plan_id)
    figures = bulletin_figures(tasks, indicators, today)
    overdue = list(overdue_tasks(tasks, today))
    total = 1 + len(overdue) + len(indicators)
    state = {"done": 1}
    progress(1, total)

    def step() -> None:
        state["done"] += 1
        if state["done"] % CHUNK_ROWS == 0:
            progress(state["done"], total)

    doc = _Doc()
    title = f"{today.year}年{today.month}月工作要点推进情况通报"
    doc.paragraph(title, style="Title", align=WD_ALIGN_PARAGRAPH.CENTER)
    doc.paragraph(f"（{export.year}年度 · {described}）", align=WD_ALIGN_PARAGRAPH.CENTER, size=12)
    user = export.requested_by
    issuer = user.agency.name if user.agency_id else ""
    if not issuer and export.plan_id and export.plan.issuer_id:
        issuer = export.plan.issuer.name
    doc.paragraph(f"{issuer}　　{_cn_date(today)}".strip(), align=WD_ALIGN_PARAGRAPH.RIGHT)

    doc.paragraph("一、总体情况", style="Heading 1")
    doc.paragraph(_summary(figures, today))
    rate = f"{figures['report_rate']}%" if figures["report_rate"] is not None else "—"
    figure_rows = [
        ["任务总数", f"{figures['tasks']}项"],
        *[[label, f"{n}项"] for label, n in figures["by_status"]],
        ["平均完成进度", f"{figures['mean_percent']}%"],
        ["逾期未完成", f"{figures['overdue']}项"],
        ["风险（红）", f"{figures['red']}项"],
        ["预警（黄）", f"{figures['amber']}项"],
        ["量化指标", f"{figures['indicators']}项"],
        ["指标已达标", f"{figures['indicators_met']}项"],
        ["指标未达标", f"{figures['indicators_missed']}项"],
        ["指标未填报", f"{figures['indicators_unreported']}项"],
        ["本期应报送", f"{figures['report_due']}项"],
        ["本期已报送", f"{figures['reported']}项"],
        ["本期报送率", rate],
    ]
    doc.table(["项目", "数值"], [60, 40], figure_rows)

    doc.paragraph(f"二、逾期未完成任务（{len(overdue)}项）", style="Heading 1")
    if overdue:
        doc.table(
            ["序号", "任务", "牵头单位", "完成时限", "逾期天数", "进度", "最新进展"],
            [11, 45, 24, 21, 14, 12, 39],
            (
                [
                    str(n),
                    str(task),
                    _owners((o.role, o.agency.name) for o in task.task_owners.all())[0],
                    f"{task.due_on:%Y-%m-%d}",
                    str((today - task.due_on).days),
                    f"{task.percent}%",
                    clean_text(task.latest_note or "", 500),
                ]
                for n, task in enumerate(overdue, start=1)
            ),
            step,
        )
    else:
        doc.paragraph("截至目前，无逾期未完成任务。")

    doc.paragraph(f"三、量化指标完成情况（{len(indicators)}项）", style="Heading 1")
    if indicators:
        doc.table(
            ["指标", "目标", "最新值", "日期", "达标情况"],
            [62, 34, 30, 24, 16],
            (
                [
                    indicator.name,
                    target_text(indicator),
                    _value_text(indicator),
                    f"{indicator.latest_as_of:%Y-%m-%d}" if indicator.latest_as_of else "—",
                    _met_label(attained(indicator.comparator, indicator.target, indicator.latest_value)),
                ]
                for indicator in indicators
            ),
            step,
        )
    else:
        doc.paragraph("暂无量化指标。")
    progress(total, total)

    handle = tempfile.TemporaryFile()
    doc.document.save(handle)
    return Built(handle, download_name(title, scope_short, today, "docx"), figures["tasks"])


def _summary(figures: dict, today: datetime.date) -> str:
    statuses = "、".join(f"{label}{n}项" for label, n in figures["by_status"])
    text = (
        f"截至{_cn_date(today)}，纳入督办的工作任务共{figures['tasks']}项，其中{statuses}；"
        f"平均完成进度{figures['mean_percent']}%。逾期未完成{figures['overdue']}项，"
        f"风险（红）{figures['red']}项，预警（黄）{figures['amber']}项。"
        f"量化指标共{figures['indicators']}项，已达标{figures['indicators_met']}项，"
        f"未达标{figures['indicators_missed']}项，未填报{figures['indicators_unreported']}项。"
    )
    if figures["report_rate"] is not None:
        text += f"本期应报送{figures['report_due']}项，已报送{figures['reported']}项，报送率{figures['report_rate']}%。"
    return text
