"""Writing a progress report: the one service behind the task page's form and the API.

A report brings status and percent (the lead agency), a note, evidence files, milestones
done and indicator readings together; it is checked against the task's version (no lost
updates) and the task's rules (transitions, who may change what), and written in one
transaction with its files, or not at all."""

import dataclasses
import datetime
import decimal
import hashlib
from collections.abc import Iterable, Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from indicators.models import Indicator, Reading
from indicators.services import attained, check_reading, with_latest_reading
from supervision.choices import CloseOutState
from supervision.deadlines import Deadline, deadline
from supervision.evidence import EvidenceKind
from supervision.machine import CLOSE_OUTS
from supervision.models import CloseOut
from tasks.choices import TaskStatus, can_transition
from tasks.models import Attachment, Milestone, ProgressUpdate, Task
from tasks.quotas import check_report_quotas
from tasks.services import record_milestones_done, task_access

# A finished task is a finished task: 已完成 is recorded at this percent (the database
# refuses anything else, task_done_is_100_percent).
DONE_PERCENT = 100


@dataclasses.dataclass(frozen=True)
class ReadingInput:
    indicator_id: int
    value: decimal.Decimal  # already checked by indicators.services.check_reading
    as_of: datetime.date
    note: str = ""


@dataclasses.dataclass(frozen=True)
class ReadingEntry:
    """A reading as a person or a system sent it: nothing checked yet."""

    indicator_id: int
    value: object
    as_of: object
    note: str = ""


@dataclasses.dataclass(frozen=True)
class EvidenceInput:
    uploaded: UploadedFile
    kind: EvidenceKind  # from supervision.evidence.check_evidence_files


class StaleVersion(Exception):
    """Someone else saved the task after the version this report was based on."""

    def __init__(self, task: Task, updates_since: Sequence[ProgressUpdate]):
        super().__init__(_("任务已被他人更新。"))
        self.task = task
        self.updates_since = list(updates_since)


def report_progress(
    task_id: int,
    user,
    *,
    based_on_version: int,
    status: str | None = None,
    percent: int | None = None,
    note: str = "",
    evidence: Iterable[EvidenceInput] = (),
    milestone_ids: Iterable[int] = (),
    readings: Iterable[ReadingInput] = (),
    submission_key: str = "",
    explanation: str = "",
    quota_counted: bool = False,
) -> ProgressUpdate:
    """Record one progress report and everything that came with it, in one transaction. The
    task page's form and the API both call this, so both follow the same rules.

    `status`/`percent` None means "not changing them" (a co-owner's note): the update then
    carries the task's state as it is when saved, so it can never undo someone else's
    change and never conflicts. When they are given and the task moved on since
    `based_on_version`, StaleVersion is raised (with what changed) unless they equal the
    task's current state, in which case nothing would be lost. QuotaExceeded (429) when
    the reporter or their agency used up a quota (tasks.quotas). Status and percent agree:
    a report that marks the task 已完成 is at 100 %, whatever percent came with it; 未开始
    is at 0 % (a higher percent is refused: the work has started); a percent lower than
    the task's needs a note saying why (_check_report). The database holds the first two
    as well (task_done_is_100_percent, task_not_started_is_0_percent).

    Completing a task is a request: the report that first marks it 已完成 files its
    close-out (销号) for the supervision office, with `explanation` saying why any indicator
    of the task is missed (required when one is, after this report's readings).

    `quota_counted`: the caller asked check_report_quotas once for a batch the person sent
    as one action (an imported fill-in sheet), inside the same transaction; its rows carry
    no files and are not counted again one by one.
    """
    evidence, milestone_ids, readings = list(evidence), list(milestone_ids), list(readings)
    if status == TaskStatus.DONE:
        percent = DONE_PERCENT
    written: list = []  # files put in storage, removed again if the transaction fails
    try:
        with transaction.atomic():
            task = (
                Task.objects.select_for_update(of=("self",))
                .select_related("plan")
                .prefetch_related("task_owners")
                .get(pk=task_id)
            )
            access = task_access(user, task)
            if submission_key:
                # Checked under the task's lock: a form posted twice gets its first update back.
                done = task.progress_updates.filter(submission_key=submission_key, author=user).first()
                if done is not None:
                    return done
            changing_state = status is not None or percent is not None
            if not access.can_report or ((changing_state or milestone_ids) and not access.can_change_status):
                raise PermissionDenied(_("您无权修改此任务的状态或进度。"))
            # Counted under the reporter's agency's lock, before anything is checked or
            # written: a flood is turned away cheaply, and two reports at once count in turn.
            if not (quota_counted and not evidence):
                check_report_quotas(user, evidence_bytes=sum(item.uploaded.size or 0 for item in evidence))
            new_status = task.status if status is None else status
            new_percent = task.percent if percent is None else percent
            moved_on = based_on_version != task.version
            if changing_state and moved_on and (new_status, new_percent) != (task.status, task.percent):
                raise StaleVersion(task, updates_since(task, based_on_version))
            _check_report(task, new_status, new_percent, note, evidence, milestone_ids, readings)
            update = ProgressUpdate(
                task=task,
                author=user,
                status=new_status,
                percent=new_percent,
                note=note.strip(),
                based_on_version=based_on_version,
                submission_key=submission_key,
            )
            update.save()
            _save_evidence(update, user, evidence, written)
            record_milestones_done(update, milestone_ids)
            _save_readings(update, user, readings)
            # Marking the task 已完成 files its close-out, unless one is pending already (a
            # task left 已完成 with none, from before the loop, gets one this way too).
            if status == TaskStatus.DONE and not task.close_outs.filter(state=CloseOutState.PENDING).exists():
                _file_close_out(task, update, user, explanation)
    except BaseException:
        for storage, name in written:
            storage.delete(name)
        raise
    return update


MAX_CONFLICT_UPDATES = 20


def updates_since(task: Task, version: int) -> list[ProgressUpdate]:
    """The updates saved on top of `version`, oldest first: each one moved the version by one."""
    count = min(max(task.version - version, 0), MAX_CONFLICT_UPDATES)
    if not count:
        return []
    latest = task.progress_updates.select_related("author").order_by("-id")[:count]
    return list(reversed(latest))


def missed_indicators(task: Task, *, today: datetime.date | None = None) -> list[Indicator]:
    """The task's indicators whose latest current reading misses the target, or that have
    none (indicators.services.attained)."""
    return missed_among(with_latest_reading(Indicator.objects.filter(task=task), today))


def missed_among(indicators: Iterable[Indicator]) -> list[Indicator]:
    """Those of `indicators` (with_latest_reading's) whose latest reading misses the
    target or that have none: `missed_indicators` for many tasks' indicators at once."""
    return [i for i in indicators if attained(i.comparator, i.target, i.latest_value) is not True]  # type: ignore[attr-defined]


def _file_close_out(task: Task, update: ProgressUpdate, user, explanation: str) -> CloseOut:
    explanation = (explanation or "").strip()
    if not explanation and missed_indicators(task):
        raise ValidationError({"explanation": [_("任务的量化指标尚未达到目标值（或未填报），申请销号时请填写说明。")]})
    close_out = CloseOut(
        task=task,
        summary=update.note,
        explanation=explanation,
        progress_update=update,
        submitted_by=user,
        submitted_at=update.created_at,
        decision_due_on=deadline(Deadline.REVIEW, timezone.localdate(update.created_at)),
    )
    close_out.save()
    CLOSE_OUTS.record_creation(close_out, user)
    return close_out


def _check_report(task, status, percent, note, evidence, milestone_ids, readings):
    errors = {}
    if not can_transition(task.status, status):
        errors["status"] = _("任务状态不能从“%(old)s”改为“%(new)s”。") % {
            "old": TaskStatus(task.status).label,
            "new": TaskStatus(status).label,
        }
    if status == TaskStatus.DONE and task.status != TaskStatus.DONE and not note.strip():
        errors["note"] = _("标记为已完成时，请填写完成情况说明。")
    elif percent < task.percent and not note.strip():
        # Progress is not taken back silently: a lower figure says why (a recount, an
        # inspection that found the work unfinished).
        errors["note"] = _("进度从 %(old)d%% 降为 %(new)d%%，请在进展说明中写明原因。") % {
            "old": task.percent,
            "new": percent,
        }
    if status == TaskStatus.NOT_STARTED and percent != 0:
        errors["percent"] = _("状态为“未开始”时进度应为 0；已开始的工作请把状态改为“进行中”。")
    if (status, percent) == (task.status, task.percent) and not (note.strip() or evidence or milestone_ids or readings):
        errors["__all__"] = _("没有需要保存的内容：请修改状态或进度，或填写进展说明、上传材料、填报指标。")
    if milestone_ids:
        open_ids = set(
            Milestone.objects.filter(task=task, pk__in=milestone_ids, done_on__isnull=True).values_list("pk", flat=True)
        )
        if open_ids != set(milestone_ids):
            errors["milestones"] = _("所选时间节点不属于此任务或已完成。")
    if readings:
        own = set(task.indicators.filter(pk__in=[r.indicator_id for r in readings]).values_list("pk", flat=True))
        if own != {r.indicator_id for r in readings}:
            errors["readings"] = _("所填指标不属于此任务。")
    if errors:
        raise ValidationError(errors)


def _save_evidence(update: ProgressUpdate, user, evidence: list[EvidenceInput], written: list) -> None:
    for item in evidence:
        uploaded, kind = item.uploaded, item.kind
        name = uploaded.name or kind.key
        digest = hashlib.sha256()
        uploaded.seek(0)
        for chunk in uploaded.chunks():
            digest.update(chunk)
        uploaded.seek(0)
        attachment = Attachment(
            progress_update=update,
            task_id=update.task_id,
            original_name=name[-255:],
            kind=kind.key,
            content_type=kind.content_type,
            size=uploaded.size or 0,
            sha256=digest.hexdigest(),
            uploaded_by=user,
            created_at=update.created_at,
        )
        attachment.file.save(name, uploaded, save=False)
        written.append((attachment.file.storage, attachment.file.name))
        attachment.save()


def _save_readings(update: ProgressUpdate, user, readings: list[ReadingInput]) -> None:
    for item in readings:
        Reading(
            plan_id=update.task.plan_id,
            indicator_id=item.indicator_id,
            value=item.value,
            as_of=item.as_of,
            note=item.note,
            reporter=user,
            progress_update=update,
            created_at=update.created_at,
        ).save()


def check_readings(
    indicators: dict[int, Indicator], entries: Iterable[ReadingEntry], *, today: datetime.date
) -> tuple[list[ReadingInput], list[dict[str, list[str]]]]:
    """Each entry checked against its indicator of the task (indicators.services.check_reading):
    the readings to record, and for each entry its errors by field ("indicator", "value",
    "as_of"; empty when the entry is fine). The form shows the errors by its fields, the API
    by the entry's place in its list."""
    readings, errors = [], []
    for entry in entries:
        indicator = indicators.get(entry.indicator_id)
        if indicator is None:
            errors.append({"indicator": [_("所填指标不属于此任务。")]})
            continue
        try:
            value, as_of = check_reading(indicator, entry.value, entry.as_of, today=today)
        except ValidationError as error:
            errors.append(error.message_dict)
            continue
        errors.append({})
        readings.append(ReadingInput(indicator.pk, value, as_of, entry.note))
    return readings, errors
