"""The Excel round trip (填报表): which tasks an agency's sheet holds, reading a filled sheet
back (stored as a SheetImport), the preview of every row against the reports as they stand,
and the confirmation, which turns each good row into a normal report through
supervision.reports.submit_report (permissions, versions, audit: the service's)."""

import dataclasses
import datetime
import hashlib

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Agency
from audit.choices import EventType
from audit.services import record
from core.roles import Role
from core.uploads import read_at_most
from supervision import permissions as can
from supervision.machine import StaleDecision
from supervision.models import PeriodReport
from supervision.progress import StaleVersion
from supervision.report_forms import TEXT_MAX_LENGTH
from supervision.reports import EDITABLE, needs_problems_and_plan, submit_report
from tasks.choices import FINISHED, OwnerRole, TaskStatus, can_transition
from tasks.models import Task, TaskOwner
from tasks.quotas import QuotaExceeded, check_report_quotas
from tasks.services import owes_reports_q
from workbench.models import SheetImport, SheetImportState
from workbench.sheets import MAX_BYTES, TEXT_FIELDS, SheetHead, SheetLine, SheetRefused, build_sheet, read_sheet
from workplans.choices import PlanStatus
from workplans.cycles import Cycle, current_cycle
from workplans.models import Plan

FIELDS = ("status", "percent", "progress", "problems", "next_steps")
FIELD_LABELS = {
    "status": gettext_lazy("状态"),
    "percent": gettext_lazy("完成百分比"),
    "progress": gettext_lazy("本期进展"),
    "problems": gettext_lazy("存在问题"),
    "next_steps": gettext_lazy("下步计划"),
}
EVIDENCE_NEEDED = gettext_lazy("需上传佐证材料，请在任务页面报送")


class Problem:
    """What can be wrong with a row; each kind is a tag on the preview."""

    UNKNOWN = "unknown"
    FOREIGN = "foreign"
    STALE = "stale"
    RANGE = "range"
    REQUIRED = "required"
    EVIDENCE = "evidence"
    LOCKED = "locked"

    LABELS = {
        UNKNOWN: gettext_lazy("未知任务"),
        FOREIGN: gettext_lazy("非本单位任务"),
        STALE: gettext_lazy("版本已变化"),
        RANGE: gettext_lazy("填写有误"),
        REQUIRED: gettext_lazy("缺少必填内容"),
        EVIDENCE: gettext_lazy("需上传佐证材料"),
        LOCKED: gettext_lazy("已提交审核"),
    }


class Outcome:
    APPLY = "apply"
    UNCHANGED = "unchanged"
    PROBLEM = "problem"


# --- The tasks of a sheet ------------------------------------------------------------------


def led_open_tasks(plan, agency_id: int):
    """Open tasks (not 已完成 or 已销号) that `agency_id` leads: the rows of its sheet."""
    lead = TaskOwner.objects.filter(task=OuterRef("pk"), agency_id=agency_id, role=OwnerRole.LEAD)
    return Task.objects.filter(Exists(lead), owes_reports_q(), plan=plan)


def sheet_plans(user, agency_id: int) -> list[Plan]:
    """The active plans `user` sees in which `agency_id` leads open tasks, each with
    `task_count`: one sheet each. One query."""
    lead = TaskOwner.objects.filter(agency_id=agency_id, role=OwnerRole.LEAD).exclude(task__status__in=FINISHED)
    lead = lead.filter(task__reporting_exempt=False)
    return list(
        Plan.objects.visible_to(user)
        .filter(status=PlanStatus.ACTIVE, pk__in=lead.values("task__plan_id"))
        .annotate(
            task_count=Count(
                "tasks",
                filter=Q(tasks__task_owners__agency_id=agency_id, tasks__task_owners__role=OwnerRole.LEAD)
                & ~Q(tasks__status__in=FINISHED)
                & Q(tasks__reporting_exempt=False),
            )
        )
        .order_by("-year", "title")
    )


def sheet_agencies(user):
    """The agencies a supervisor may make sheets for: those leading open tasks of active
    plans the supervisor sees."""
    visible = Task.objects.visible_to(user).filter(owes_reports_q())
    lead_ids = TaskOwner.objects.filter(task__in=visible.values("pk"), role=OwnerRole.LEAD).values("agency_id")
    return Agency.objects.filter(pk__in=lead_ids).order_by("order", "name")


def may_make_sheet(user, plan: Plan, agency_id: int) -> bool:
    """Staff make their own agency's sheet; the supervision office any agency's that leads
    a task of the plan it sees."""
    if user.role == Role.STAFF:
        return user.agency_id == agency_id
    if user.role == Role.SUPERVISOR:
        lead = TaskOwner.objects.filter(task=OuterRef("pk"), agency_id=agency_id, role=OwnerRole.LEAD)
        return Task.objects.visible_to(user).filter(plan=plan).filter(Exists(lead)).exists()
    return False


def _current(task: Task, report: PeriodReport | None) -> dict:
    """The figures and text on record for this cycle: the report's, or the task's."""
    if report is None:
        return {"status": task.status, "percent": task.percent, "progress": "", "problems": "", "next_steps": ""}
    return {
        "status": report.status or task.status,
        "percent": task.percent if report.percent is None else report.percent,
        "progress": report.progress,
        "problems": report.problems,
        "next_steps": report.next_steps,
    }


def _reports(task_ids, cycle: Cycle) -> dict[int, PeriodReport]:
    return {r.task_id: r for r in PeriodReport.objects.filter(task_id__in=task_ids, period_start=cycle.start)}


def make_sheet(plan: Plan, agency: Agency, *, today: datetime.date) -> tuple[bytes, int, Cycle]:
    """The .xlsx of `agency`'s sheet for `plan`'s current cycle, prefilled with this
    cycle's drafts and reports. Three queries."""
    cycle = current_cycle(plan, today)
    tasks = list(led_open_tasks(plan, agency.pk).order_by("order", "id"))
    reports = _reports([t.pk for t in tasks], cycle)
    lines = []
    for task in tasks:
        report = reports.get(task.pk)
        now = _current(task, report)
        lines.append(
            SheetLine(
                task_id=task.pk,
                number=task.number,
                heading=task.heading,
                report_version=report.version if report is not None else 0,
                task_version=task.version,
                **now,
            )
        )
    head = SheetHead(plan.pk, plan.title, agency.pk, agency.name, cycle.start, cycle.label, cycle.due_on)
    return build_sheet(head, lines), len(lines), cycle


def record_download(plan: Plan, agency: Agency, cycle: Cycle, rows: int, filename: str) -> None:
    """The 导出 event of a sheet handed out."""
    record(
        EventType.EXPORT,
        obj=plan,
        detail={"kind": "fill_sheet", "agency": agency.pk, "cycle": cycle.start.isoformat(), "rows": rows},
        object_repr=filename,
    )


# --- Reading a filled sheet ----------------------------------------------------------------


def receive(uploaded, user, *, today: datetime.date) -> SheetImport:
    """Read an uploaded sheet and keep its rows for the preview. SheetRefused (with the
    reason, in Chinese) for a file that cannot be read, is not a sheet of this system, is
    another agency's, or another cycle's: then nothing is stored."""
    data = read_at_most(uploaded, MAX_BYTES + 1)
    parsed = read_sheet(data)
    plan = Plan.objects.filter(pk=parsed.plan_id).first()
    if plan is None or plan.status != PlanStatus.ACTIVE:
        raise SheetRefused(_("这份填报表所属的工作计划已不在执行中，不能再导入。"))
    if user.role != Role.STAFF or parsed.agency_id != user.agency_id:
        agency = Agency.objects.filter(pk=parsed.agency_id).first()
        raise SheetRefused(
            _("这是“%(agency)s”的填报表，只能导入本单位的填报表。")
            % {"agency": agency.name if agency is not None else _("其他单位")}
        )
    cycle = current_cycle(plan, today)
    if parsed.period_start != cycle.start:
        raise SheetRefused(
            _("这是其他报送周期（%(then)s 开始）的填报表，本期为%(cycle)s，请重新下载本期填报表后填写。")
            % {"then": parsed.period_start.isoformat(), "cycle": cycle.label}
        )
    if not parsed.rows:
        raise SheetRefused(_("表格中没有填写任何任务。"))
    for row in parsed.rows:
        versions = parsed.versions.get(row["task_id"]) if row["task_id"] is not None else None
        row["in_sheet"] = versions is not None
        row["report_version"], row["task_version"] = versions or (None, None)
    sheet_import = SheetImport(
        plan=plan,
        agency_id=parsed.agency_id,
        uploaded_by=user,
        period_start=cycle.start,
        period_label=cycle.label,
        original_name=(uploaded.name or "")[-255:],
        sha256=hashlib.sha256(data).hexdigest(),
        rows=parsed.rows,
    )
    sheet_import.save()
    record(
        EventType.IMPORT,
        user=user,
        obj=sheet_import,
        detail={"kind": "fill_sheet", "plan": plan.pk, "rows": len(parsed.rows), "sha256": sheet_import.sha256},
    )
    return sheet_import


# --- The preview ---------------------------------------------------------------------------


@dataclasses.dataclass
class Change:
    label: str
    old: str
    new: str


@dataclasses.dataclass
class PreviewRow:
    line: int
    task: Task | None
    number: str
    heading: str
    values: dict
    changes: list[Change] = dataclasses.field(default_factory=list)
    problems: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # (Problem.*, message)
    report: PeriodReport | None = None

    @property
    def outcome(self) -> str:
        if self.problems:
            return Outcome.PROBLEM
        return Outcome.APPLY if self.changes else Outcome.UNCHANGED

    def problem(self, kind: str, message) -> None:
        self.problems.append((kind, str(message)))

    @property
    def problem_tags(self) -> list[str]:
        return sorted({str(Problem.LABELS[kind]) for kind, _message in self.problems})


def _shown(field: str, value) -> str:
    if field == "status":
        return str(TaskStatus(value).label) if value in TaskStatus.values else str(value or "")
    if field == "percent":
        return "" if value is None else f"{value}%"
    return value or ""


def preview(sheet_import: SheetImport, user, *, today: datetime.date) -> list[PreviewRow]:
    """Every row of the sheet against the task's report as it stands now: what would change
    (old → new per field) and what is wrong with it. Rows that change nothing are shown as
    unchanged and left alone. Four queries, whatever the number of rows."""
    plan = sheet_import.plan
    cycle = current_cycle(plan, today)
    ids = {row["task_id"] for row in sheet_import.rows if row["task_id"] is not None}
    tasks = {
        task.pk: task
        for task in Task.objects.filter(pk__in=ids, plan=plan).select_related("plan").prefetch_related("task_owners")
    }
    reports = _reports(list(tasks), cycle)
    late = today > cycle.due_on
    seen: set[int] = set()
    rows = []
    for row in sheet_import.rows:
        task = tasks.get(row["task_id"])
        report = reports.get(row["task_id"])
        values = {
            "status": row["status"],
            "percent": row["percent"],
            **{key: row[key] for key in TEXT_FIELDS},
        }
        shown = PreviewRow(
            line=row["line"],
            task=task,
            number=task.number if task is not None else row["number"],
            heading=task.heading if task is not None else row["heading"],
            values=values,
            report=report,
        )
        rows.append(shown)
        if task is None:
            shown.problem(
                Problem.UNKNOWN,
                _("第 %(line)d 行的任务（任务ID“%(ref)s”）不是本计划的任务，或已被删除。")
                % {"line": row["line"], "ref": row["task_ref"] or _("空")},
            )
            continue
        if task.pk in seen:
            shown.problem(Problem.UNKNOWN, _("该任务在表中出现了不止一次，只处理第一次出现的行。"))
            continue
        seen.add(task.pk)
        if can.lead_agency_id(task) != sheet_import.agency_id or not can.is_lead_staff(user, task):
            shown.problem(Problem.FOREIGN, _("该任务不由本单位牵头，或您无权报送，不能在本表中报送。"))
            continue
        now = _current(task, report)
        shown.changes = [
            Change(str(FIELD_LABELS[field]), _shown(field, now[field]), _shown(field, values[field]))
            for field in FIELDS
            if values[field] != now[field]
        ]
        if not shown.changes:
            continue
        _check(shown, row, task, report, late=late, today=today)
    return rows


def _check(shown: PreviewRow, row: dict, task: Task, report: PeriodReport | None, *, late, today) -> None:
    """The problems of a row that changes something, as submit_report would find them, so
    that confirming applies what the preview promised."""
    values = shown.values
    if not row.get("in_sheet"):
        shown.problem(Problem.UNKNOWN, _("该任务不在下载时的填报表中，请重新下载填报表后填写。"))
        return
    if (row["report_version"], row["task_version"]) != (report.version if report else 0, task.version):
        shown.problem(
            Problem.STALE,
            _("填报表下载后，本期报送或任务进度已在系统中被修改，请重新下载填报表，核对后再填写。"),
        )
        return
    if report is not None and report.state not in EDITABLE:
        shown.problem(
            Problem.LOCKED,
            _("本期报送已提交（%(state)s），不能再修改。") % {"state": report.get_state_display()},
        )
        return
    status, percent = values["status"], values["percent"]
    if not status:
        if row["status_text"]:
            shown.problem(Problem.RANGE, _("状态“%(text)s”不在下拉列表中。") % {"text": row["status_text"]})
        else:
            shown.problem(Problem.RANGE, _("请选择状态。"))
    elif status == TaskStatus.CLOSED or not can_transition(task.status, status):
        shown.problem(
            Problem.RANGE,
            _("任务状态不能从“%(old)s”改为“%(new)s”。")
            % {"old": TaskStatus(task.status).label, "new": TaskStatus(status).label},
        )
    if percent is None or not 0 <= percent <= 100:
        shown.problem(
            Problem.RANGE,
            _("完成百分比应为 0 到 100 之间的整数（表中填的是“%(text)s”）。") % {"text": row["percent_text"]}
            if row["percent_text"]
            else _("请填写完成百分比。"),
        )
    elif status == TaskStatus.NOT_STARTED and percent != 0:
        shown.problem(Problem.RANGE, _("状态为“未开始”时进度应为 0；已开始的工作请把状态改为“进行中”。"))
    for field in TEXT_FIELDS:
        if len(values[field]) > TEXT_MAX_LENGTH:
            shown.problem(
                Problem.RANGE,
                _("%(field)s超过 %(n)d 字，请精简。") % {"field": FIELD_LABELS[field], "n": TEXT_MAX_LENGTH},
            )
    if status == TaskStatus.DONE and task.status != TaskStatus.DONE:
        # 已完成 files the close-out (销号), whose completion evidence a sheet cannot carry.
        shown.problem(Problem.EVIDENCE, EVIDENCE_NEEDED)
    if not values["progress"]:
        shown.problem(Problem.REQUIRED, _("请填写本期进展。"))
    if shown.problems:
        return
    if needs_problems_and_plan(task, status, percent, late=late, today=today):
        why = _("本期报送已逾期") if late else _("任务进度滞后或临近时限")
        for field in ("problems", "next_steps"):
            if not values[field]:
                shown.problem(
                    Problem.REQUIRED,
                    _("%(why)s，请填写%(field)s。") % {"why": why, "field": FIELD_LABELS[field]},
                )


# --- Confirming ----------------------------------------------------------------------------


def _message(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    if isinstance(error, QuotaExceeded):
        return error.message
    return str(error)


def confirm(import_id: int, user, *, today: datetime.date | None = None) -> SheetImport:
    """Apply the good rows of a previewed import, each as this cycle's report submitted
    through supervision.reports.submit_report.

    One savepoint per row inside the import's transaction, not all-or-nothing: the rows are
    independent reports, the preview has just shown which ones go through, and a row that
    someone else changed in the meantime should not keep a unit's thirty other reports out.
    A row the service refuses is rolled back alone and listed with the service's reason.
    The import row is locked first and its state checked, so a second confirmation (a
    double click, another tab) does nothing. When a reporting quota runs out midway, the
    rest is left for a later confirmation, which finds the rows already applied unchanged."""
    today = today or timezone.localdate()
    with transaction.atomic():
        sheet_import = (
            SheetImport.objects.select_for_update(of=("self",))
            .select_related("plan", "agency")
            .get(pk=import_id, uploaded_by=user)
        )
        if sheet_import.state != SheetImportState.PREVIEWED:
            raise ValidationError(
                _("这次导入已经%(state)s，不会重复提交。") % {"state": sheet_import.get_state_display()}
            )
        if current_cycle(sheet_import.plan, today).start != sheet_import.period_start:
            raise ValidationError(_("报送周期已经变更，请重新下载本期填报表后填写。"))
        rows = preview(sheet_import, user, today=today)
        good = [row for row in rows if row.outcome == Outcome.APPLY]
        if not good:
            raise ValidationError(_("没有可以提交的行：请修改表中标出的问题后重新导入。"))
        by_line = {row["line"]: row for row in sheet_import.rows}
        results = sheet_import.results or {}
        applied, failed, stopped = list(results.get("applied", [])), [], ""
        # The sheet is one action of the person's: asked of the reporting quota once, here,
        # not once a row (a unit leading 60 tasks would otherwise confirm three times).
        try:
            check_report_quotas(user, evidence_bytes=0)
        except QuotaExceeded as error:
            stopped = _message(error)
            good = []
        for shown in good:
            row, task = by_line[shown.line], shown.task
            assert task is not None
            entry = {"line": shown.line, "task_id": task.pk, "label": task.label}
            try:
                with transaction.atomic():
                    submit_report(
                        task.pk,
                        user,
                        version=row["report_version"] or None,
                        task_version=row["task_version"],
                        today=today,
                        quota_counted=True,
                        **shown.values,
                    )
            except (ValidationError, PermissionDenied, StaleDecision, StaleVersion) as error:
                failed.append({**entry, "message": _message(error)})
                continue
            applied.append(entry)
        sheet_import.results = {"applied": applied, "failed": failed, "stopped": stopped}
        if not stopped:
            sheet_import.state = SheetImportState.CONFIRMED
            sheet_import.decided_at = timezone.now()
        sheet_import.save(update_fields=["results", "state", "decided_at"])
        record(
            EventType.UPDATE,
            user=user,
            obj=sheet_import,
            detail={"action": "confirm", "applied": len(applied), "failed": len(failed), "stopped": bool(stopped)},
        )
    return sheet_import


def discard(import_id: int, user) -> SheetImport:
    with transaction.atomic():
        sheet_import = SheetImport.objects.select_for_update().get(pk=import_id, uploaded_by=user)
        if sheet_import.state != SheetImportState.PREVIEWED:
            raise ValidationError(_("这次导入已经%(state)s。") % {"state": sheet_import.get_state_display()})
        sheet_import.state, sheet_import.decided_at = SheetImportState.DISCARDED, timezone.now()
        sheet_import.save(update_fields=["state", "decided_at"])
        record(EventType.UPDATE, user=user, obj=sheet_import, detail={"action": "discard"})
    return sheet_import
