"""Each cycle's report from the lead unit (周期报送) and the co-owners' input to it: drafts,
submission (which writes the progress record through supervision.progress.report_progress),
sign-off by the unit's head and review by the supervision office. The states move only
through supervision.machine."""

import datetime
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.choices import EventType
from audit.services import record
from supervision import permissions as can
from supervision.choices import Action, InputState, ReportState
from supervision.deadlines import Deadline, co_owner_due, deadline
from supervision.machine import INPUTS, REPORTS, StaleDecision
from supervision.models import CoOwnerInput, PeriodReport, ReportRevision
from supervision.progress import EvidenceInput, ReadingInput, report_progress
from tasks.models import Task
from tasks.risk import Risk, plan_year_bounds, risk_of
from workplans.cycles import Cycle, current_cycle

EDITABLE = (ReportState.DRAFT, ReportState.UNIT_RETURNED, ReportState.RETURNED)


def _load_task(task_id: int, *, lock: bool = False) -> Task:
    tasks = Task.objects.select_related("plan").prefetch_related("task_owners")
    if lock:
        tasks = tasks.select_for_update(of=("self",))
    return tasks.get(pk=task_id)


def cycle_of(task: Task, today: datetime.date) -> Cycle:
    return current_cycle(task.plan, today)


def current_report(task: Task, today: datetime.date) -> PeriodReport | None:
    """This cycle's report of the task, if anyone started it."""
    return PeriodReport.objects.filter(task=task, period_start=cycle_of(task, today).start).first()


def _report_for_update(task: Task, user, today: datetime.date) -> PeriodReport:
    """This cycle's report, locked; created as a draft by its first writer."""
    cycle = cycle_of(task, today)
    report, _created = PeriodReport.objects.select_for_update().get_or_create(
        task=task,
        period_start=cycle.start,
        defaults={
            "period_end": cycle.end,
            "period_label": cycle.label,
            "due_on": cycle.due_on,
            "author": user,
        },
    )
    report.task = task
    return report


def _check_version(row: PeriodReport | CoOwnerInput, version: int | None) -> None:
    """StaleDecision when someone saved `row` after the version the form showed. A form
    with no version was opened before the row existed, and a row nobody has saved yet
    (version 1, just created) holds nothing to lose."""
    if version is not None and row.version > 1 and int(version) != row.version:
        raise StaleDecision(row)


def needs_problems_and_plan(task: Task, status: str, percent: int, *, late: bool, today: datetime.date) -> bool:
    """存在问题 and 下步计划 are required when the task is amber or red (tasks.risk, with the
    figures the report brings), or the report is late."""
    if late:
        return True
    year_start, year_end = plan_year_bounds(task.plan.year)
    risk = risk_of(
        status=status, percent=percent, due_on=task.due_on, year_start=year_start, year_end=year_end, today=today
    )
    return risk in (Risk.RED, Risk.AMBER)


def save_draft(
    task_id: int,
    user,
    *,
    version: int | None,
    progress: str = "",
    problems: str = "",
    next_steps: str = "",
    status: str = "",
    percent: int | None = None,
    today: datetime.date | None = None,
) -> PeriodReport:
    """Keep what the lead's staff wrote so far; nothing is sent and nothing is checked but
    who writes and that nobody else saved in between."""
    today = today or timezone.localdate()
    with transaction.atomic():
        task = _load_task(task_id)
        if not can.is_lead_staff(user, task):
            raise PermissionDenied(_("只有牵头单位的经办人可以填写本期报送。"))
        report = _report_for_update(task, user, today)
        _check_version(report, version)
        if report.state not in EDITABLE:
            raise ValidationError(_("本期报送已提交，正在审核中，不能修改。"))
        report.progress, report.problems, report.next_steps = progress.strip(), problems.strip(), next_steps.strip()
        report.status, report.percent = status or "", percent
        report.author = user
        report.version += 1
        report.save()
        record(EventType.UPDATE, user=user, obj=report, detail={"action": Action.SAVE_DRAFT, "version": report.version})
    return report


def submit_report(
    task_id: int,
    user,
    *,
    version: int | None,
    task_version: int,
    progress: str,
    problems: str = "",
    next_steps: str = "",
    status: str | None = None,
    percent: int | None = None,
    evidence: Iterable[EvidenceInput] = (),
    milestone_ids: Iterable[int] = (),
    readings: Iterable[ReadingInput] = (),
    explanation: str = "",
    submission_key: str = "",
    today: datetime.date | None = None,
    quota_counted: bool = False,
) -> PeriodReport:
    """Send this cycle's report: it writes the progress record (status, percent, files,
    milestones, readings: report_progress's rules) and goes to the unit's sign-off or
    straight to review, as the plan says. A resubmission after a return is the report's
    next revision. `version` is the report's version the form showed (None for a new one)."""
    today = today or timezone.localdate()
    progress, problems, next_steps = progress.strip(), problems.strip(), next_steps.strip()
    with transaction.atomic():
        task = _load_task(task_id)
        report = _report_for_update(task, user, today)
        _check_version(report, version)
        if not REPORTS.may(report, user, Action.SUBMIT):
            if report.state not in EDITABLE:
                raise ValidationError(_("本期报送已提交，正在审核中，不能重复提交。"))
            raise PermissionDenied(_("只有牵头单位的经办人可以提交本期报送。"))
        late = today > report.due_on
        new_status = status or task.status
        new_percent = task.percent if percent is None else percent
        errors = {}
        if not progress:
            errors["progress"] = [_("请填写本期进展。")]
        if needs_problems_and_plan(task, new_status, new_percent, late=late, today=today):
            why = _("本期报送已逾期") if late else _("任务进度滞后或临近时限")
            if not problems:
                errors["problems"] = [_("%(why)s，请填写存在问题。") % {"why": why}]
            if not next_steps:
                errors["next_steps"] = [_("%(why)s，请填写下步计划。") % {"why": why}]
        if errors:
            raise ValidationError(errors)
        update = report_progress(
            task.pk,
            user,
            based_on_version=task_version,
            status=status,
            percent=percent,
            note=progress,
            evidence=evidence,
            milestone_ids=milestone_ids,
            readings=readings,
            submission_key=submission_key,
            explanation=explanation,
            quota_counted=quota_counted,
        )
        number = report.revision + 1
        ReportRevision(
            report=report,
            task=task,
            number=number,
            progress=progress,
            problems=problems,
            next_steps=next_steps,
            status=update.status,
            percent=update.percent,
            progress_update=update,
            submitted_by=user,
            submitted_at=update.created_at,
            late=late,
        ).save()
        signoff = task.plan.requires_unit_signoff
        REPORTS.apply(
            report,
            Action.SUBMIT,
            user,
            version=None,
            locked=True,
            changes={
                "progress": progress,
                "problems": problems,
                "next_steps": next_steps,
                "status": update.status,
                "percent": update.percent,
                "revision": number,
                "author": user,
                "submitted_at": update.created_at,
                "late": report.late or (number == 1 and late),
                "decision_due_on": deadline(Deadline.SIGNOFF if signoff else Deadline.REVIEW, today),
            },
        )
    return report


def sign_off(
    report_id: int, user, *, version: int, approve: bool, comment: str = "", today: datetime.date | None = None
) -> PeriodReport:
    """The unit's head approves the report (on to review) or returns it with what to fix."""
    today = today or timezone.localdate()
    report = PeriodReport(pk=report_id)
    if approve:
        REPORTS.apply(
            report,
            Action.SIGN_OFF,
            user,
            version=version,
            comment=comment,
            changes={"decision_due_on": deadline(Deadline.REVIEW, today)},
        )
    else:
        REPORTS.apply(
            report,
            Action.UNIT_RETURN,
            user,
            version=version,
            comment=comment,
            changes={"requirements": (comment or "").strip(), "decision_due_on": None},
        )
    return report


def review(
    report_id: int, user, *, version: int, accept: bool, requirements: str = "", today: datetime.date | None = None
) -> PeriodReport:
    """The supervision office accepts the report, or returns it with written requirements
    (退回并提出要求): the author sees them and resubmits a new revision."""
    report = PeriodReport(pk=report_id)
    if accept:
        REPORTS.apply(
            report,
            Action.ACCEPT,
            user,
            version=version,
            comment=requirements,
            changes={"accepted_at": timezone.now(), "decision_due_on": None, "requirements": ""},
        )
    else:
        REPORTS.apply(
            report,
            Action.RETURN,
            user,
            version=version,
            comment=requirements,
            changes={"requirements": (requirements or "").strip(), "decision_due_on": None},
        )
    return report


# --- Co-owners' input -------------------------------------------------------------------


def current_input(task: Task, agency_id: int, today: datetime.date) -> CoOwnerInput | None:
    return CoOwnerInput.objects.filter(task=task, agency_id=agency_id, period_start=cycle_of(task, today).start).first()


def _input_for_update(task: Task, agency_id: int, user, today: datetime.date) -> CoOwnerInput:
    cycle = cycle_of(task, today)
    co_input, _created = CoOwnerInput.objects.select_for_update().get_or_create(
        task=task,
        agency_id=agency_id,
        period_start=cycle.start,
        defaults={"period_label": cycle.label, "due_on": co_owner_due(cycle.due_on), "author": user},
    )
    co_input.task = task
    return co_input


def save_input_draft(
    task_id: int, user, *, version: int | None, text: str, today: datetime.date | None = None
) -> CoOwnerInput:
    today = today or timezone.localdate()
    with transaction.atomic():
        task = _load_task(task_id)
        agency_id = can.co_owner_agency_id(user, task)
        if agency_id is None:
            raise PermissionDenied(_("只有配合单位的经办人可以填写配合单位反馈。"))
        co_input = _input_for_update(task, agency_id, user, today)
        _check_version(co_input, version)
        if co_input.state != InputState.DRAFT:
            raise ValidationError(_("本期反馈已提交；如需补充，请直接再次提交。"))
        co_input.text, co_input.author = text.strip(), user
        co_input.version += 1
        co_input.save()
        record(EventType.UPDATE, user=user, obj=co_input, detail={"action": Action.SAVE_DRAFT})
    return co_input


def submit_input(
    task_id: int,
    user,
    *,
    version: int | None,
    text: str,
    evidence: Iterable[EvidenceInput] = (),
    readings: Iterable[ReadingInput] = (),
    submission_key: str = "",
    today: datetime.date | None = None,
) -> CoOwnerInput:
    """A co-owner agency's contribution for this cycle: its text, files and readings (one
    progress record, which changes neither status nor percent). Submitting again replaces
    the text and adds the new files and readings."""
    today = today or timezone.localdate()
    text = text.strip()
    with transaction.atomic():
        task = _load_task(task_id)
        agency_id = can.co_owner_agency_id(user, task)
        if agency_id is None:
            raise PermissionDenied(_("只有配合单位的经办人可以提交配合单位反馈。"))
        co_input = _input_for_update(task, agency_id, user, today)
        _check_version(co_input, version)
        if not text:
            raise ValidationError({"text": [_("请填写本单位配合工作情况。")]})
        update = report_progress(
            task.pk,
            user,
            based_on_version=task.version,
            note=text,
            evidence=evidence,
            readings=readings,
            submission_key=submission_key,
        )
        INPUTS.apply(
            co_input,
            Action.SUBMIT,
            user,
            version=None,
            locked=True,
            changes={
                "text": text,
                "author": user,
                "progress_update": update,
                "submitted_at": update.created_at,
                "late": co_input.late or today > co_input.due_on,
            },
        )
    return co_input
