"""督办单: issuing (by the ladder or by hand), numbering, and the steps people take on them.
The one place a notice is written: the ladder (escalation.ladder), the pages and the API
all call these.

Issuing takes the year's counter row under a lock (escalation.models.NoticeCounter) before
it looks at what is already issued, so two ladders at once, or a ladder and a supervisor,
take turns: the second sees the first's notices and causes, and numbers run without gaps.
"""

import dataclasses
import datetime
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.choices import EventType
from audit.services import build, record_many
from escalation import facts as fact_text
from escalation import policy
from escalation.choices import RANK, Action, InstructionState, Level, NoticeState, UrgeState
from escalation.machine import INSTRUCTIONS, NOTICES, URGES
from escalation.models import Instruction, Notice, NoticeCounter, RuleCause, Step, Urge
from escalation.signals import batch_stepped
from supervision.progress import EvidenceInput, report_progress
from tasks.choices import OwnerRole
from tasks.models import Task


@dataclasses.dataclass
class Draft:
    """A notice about to be written: everything but its number."""

    task: Task  # with plan and task_owners loaded
    level: str
    origin: str
    requirements: str
    reply_due_on: datetime.date
    facts: str
    facts_data: dict
    causes: list[str] = dataclasses.field(default_factory=list)
    # The (level, key) causes recorded with it (RuleCause): its own level's and lower ones.
    keys: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    wants_evidence: bool = False
    wants_plan: bool = False


def default_requirements(level: str) -> str:
    return str(policy.DEFAULT_REQUIREMENTS[Level(level)])


def wants_by_default(level: str) -> tuple[bool, bool]:
    """(evidence, plan): yellow asks for evidence, red for evidence and a corrective plan."""
    return RANK[Level(level)] >= RANK[Level.YELLOW], Level(level) == Level.RED


def lock_counter(year: int) -> NoticeCounter:
    series = policy.series()
    NoticeCounter.objects.bulk_create([NoticeCounter(series=series, year=year)], ignore_conflicts=True)
    return NoticeCounter.objects.select_for_update().get(series=series, year=year)


def _owners(task: Task) -> tuple[int | None, list[int]]:
    lead, co = None, []
    for owner in task.task_owners.all():
        if owner.role == OwnerRole.LEAD:
            lead = owner.agency_id
        else:
            co.append(owner.agency_id)
    return lead, sorted(co)


def write(drafts: list[Draft], today: datetime.date, counter: NoticeCounter, *, user=None) -> list[Notice]:
    """Write `drafts` as notices, inside the caller's transaction, which took `counter`
    (lock_counter) before it looked at what is already issued (see `issue_by_hand` and
    escalation.ladder): numbered in turn, their causes recorded, lower open notices of
    their tasks superseded, each step in the thread and the audit trail; their recipients
    are told once it commits (batch_stepped)."""
    if not drafts:
        return []
    now = timezone.now()
    notices, copies = [], []
    for draft in drafts:
        lead, co = _owners(draft.task)
        if lead is None:
            continue
        counter.last += 1
        notice = Notice(
            series=counter.series,
            year=counter.year,
            seq=counter.last,
            number=policy.number_text(counter.series, counter.year, counter.last),
            level=draft.level,
            task=draft.task,
            agency_id=lead,
            origin=draft.origin,
            causes=list(draft.causes),
            facts=draft.facts,
            facts_data=draft.facts_data,
            requirements=draft.requirements,
            wants_evidence=draft.wants_evidence,
            wants_plan=draft.wants_plan,
            reply_due_on=draft.reply_due_on,
            issued_by=user,
            issued_on=today,
            issued_at=now,
        )
        notices.append(notice)
        copies.append(co)
    counter.save(update_fields=["last"])
    Notice.objects.bulk_create(notices)
    through = Notice.copied_to.through
    through.objects.bulk_create(
        [
            through(notice_id=notice.pk, agency_id=agency)
            for notice, co in zip(notices, copies, strict=True)
            for agency in co
        ]
    )
    by_task = {draft.task.pk: draft for draft in drafts}
    RuleCause.objects.bulk_create(
        [
            RuleCause(task_id=notice.task_id, level=level, key=key, notice=notice)
            for notice in notices
            for level, key in by_task[notice.task_id].keys
        ]
    )
    steps = Step.objects.bulk_create(
        [
            Step(
                task_id=notice.task_id,
                notice=notice,
                action=Action.ISSUE,
                state_before="",
                state_after=NoticeState.ISSUED,
                actor=user,
                comment=notice.number,
                created_at=now,
            )
            for notice in notices
        ]
    )
    events = [
        build(
            EventType.TRANSITION,
            user=user,
            obj=notice,
            detail={
                "action": Action.ISSUE,
                "before": {},
                "after": {"state": notice.state, "level": notice.level, "number": notice.number},
                "origin": notice.origin,
                "causes": notice.causes,
            },
        )
        for notice in notices
    ]
    events += _supersede_lower(notices, user, now)
    record_many(events)
    transaction.on_commit(lambda: batch_stepped.send(sender=Step, steps=steps))
    return notices


def _supersede_lower(notices: list[Notice], user, now) -> list:
    """Each new notice supersedes the open notices of lower rank on its task: the machine's
    SUPERSEDE step (escalation.machine.NOTICES), taken for the whole batch at once under
    row locks, with a thread step each; returns their audit events. Nobody is told: the
    new notice says it."""
    rank_of = {notice.task_id: RANK[Level(notice.level)] for notice in notices}
    new_of = {notice.task_id: notice for notice in notices}
    lower = (
        Notice.objects.select_for_update()
        .open()
        .filter(task_id__in=list(rank_of))
        .exclude(pk__in=[notice.pk for notice in notices])
    )
    superseded = [old for old in lower if RANK[Level(old.level)] < rank_of[old.task_id]]
    steps, events = [], []
    for old in superseded:
        new = new_of[old.task_id]
        comment = _("升级为%(number)s") % {"number": new.number}
        before = {"state": old.state, "version": old.version, "superseded_by": None}
        steps.append(
            Step(
                task_id=old.task_id,
                notice=old,
                action=Action.SUPERSEDE,
                state_before=old.state,
                state_after=NoticeState.SUPERSEDED,
                actor=user,
                comment=comment,
                created_at=now,
            )
        )
        old.state, old.version, old.superseded_by = NoticeState.SUPERSEDED, old.version + 1, new
        after = {"state": old.state, "version": old.version, "superseded_by": new.number}
        detail = {"action": Action.SUPERSEDE, "before": before, "after": after, "comment": comment}
        events.append(build(EventType.TRANSITION, user=user, obj=old, detail=detail))
    if superseded:
        Notice.objects.bulk_update(superseded, ["state", "version", "superseded_by"])
        Step.objects.bulk_create(steps)
    return events


def open_notices(task_id: int):
    return Notice.objects.open().filter(task_id=task_id)


def suggested_facts(task: Task, today: datetime.date | None = None) -> str:
    today = today or timezone.localdate()
    return fact_text.text(fact_text.figures(task, today))


# --- Steps on a notice ------------------------------------------------------------------


def _locked(notice_id: int) -> Notice:
    return NOTICES.lock(notice_id)


def acknowledge(notice_id: int, user, *, version: int) -> Notice:
    with transaction.atomic():
        notice = _locked(notice_id)
        NOTICES.apply(
            notice,
            Action.ACKNOWLEDGE,
            user,
            version=version,
            locked=True,
            changes={"acknowledged_by": user, "acknowledged_at": timezone.now()},
        )
    return notice


def answer(
    notice_id: int,
    user,
    *,
    version: int,
    text: str,
    plan: str = "",
    evidence: Iterable[EvidenceInput] = (),
    today: datetime.date | None = None,
) -> Notice:
    """The addressee's answer (反馈): text, a corrective plan and files where the notice
    asks for them. Files are kept on the task's record (a progress note carrying them)."""
    today = today or timezone.localdate()
    text, plan, evidence = (text or "").strip(), (plan or "").strip(), list(evidence)
    errors: dict[str, list[str]] = {}
    if not text:
        errors["text"] = [_("请填写办理情况。")]
    with transaction.atomic():
        notice = _locked(notice_id)
        # Who, when and which version first, then what the notice asks for.
        NOTICES.check(notice, user, Action.ANSWER, version=version)
        if notice.wants_plan and not plan:
            errors["plan"] = [_("该督办单要求报送整改计划。")]
        if notice.wants_evidence and not evidence:
            errors["files"] = [_("该督办单要求附佐证材料，请上传文件。")]
        if errors:
            raise ValidationError(errors)
        update = None
        if evidence:
            update = report_progress(
                notice.task_id,
                user,
                based_on_version=notice.task.version,
                note=_("督办单%(number)s反馈：%(text)s") % {"number": notice.number, "text": text},
                evidence=evidence,
            )
        now = timezone.now()
        changes = {
            "answer": text,
            "answer_plan": plan,
            "answer_update": update,
            "answered_by": user,
            "answered_at": now,
            "answered_late": today > notice.reply_due_on,
        }
        if notice.acknowledged_at is None:
            changes.update(acknowledged_by=user, acknowledged_at=now)
        NOTICES.apply(notice, Action.ANSWER, user, version=version, locked=True, comment=text, changes=changes)
    return notice


def decide(notice_id: int, user, action: str, *, version: int, comment: str = "") -> Notice:
    """The office's decision: close (办结), return the answer (退回), or cancel (撤销)."""
    if action not in (Action.CLOSE, Action.RETURN, Action.CANCEL):
        raise ValidationError(_("不支持的操作。"))
    comment = (comment or "").strip()
    with transaction.atomic():
        notice = _locked(notice_id)
        changes: dict = {}
        if action == Action.CLOSE:
            changes["closed_at"] = timezone.now()
        elif action == Action.CANCEL:
            changes["cancel_reason"] = comment
        NOTICES.apply(notice, action, user, version=version, locked=True, comment=comment, changes=changes)
    return notice


def close_for_task(task_id: int) -> int:
    """The task was closed out (销号): its open notices are closed, its open urges closed
    and its instructions settled, by the ladder (no user). Returns how many."""
    closed = 0
    reason = _("任务已销号")
    with transaction.atomic():
        for notice in Notice.objects.open().filter(task_id=task_id).only("pk"):
            NOTICES.apply(
                notice, Action.CLOSE, None, version=None, comment=reason, changes={"closed_at": timezone.now()}
            )
            closed += 1
        for urge in Urge.objects.filter(task_id=task_id, state=UrgeState.OPEN).only("pk"):
            URGES.apply(urge, Action.CLOSE, None, version=None, comment=reason)
            closed += 1
        pending = (InstructionState.OPEN, InstructionState.RESPONDED)
        for instruction in Instruction.objects.filter(task_id=task_id, state__in=pending).only("pk"):
            INSTRUCTIONS.apply(
                instruction,
                Action.SETTLE,
                None,
                version=None,
                comment=reason,
                changes={"settled_at": timezone.now()},
            )
            closed += 1
    return closed
