"""The rules of the public progress page (政务公开), written once for the pages and the job:
the settings and who changes them, the public narratives, building a snapshot from the
allowed fields only, publishing it (one published per plan), and the schedule.

Who does what: the system admin turns a plan's publication on, picks its fields and
schedule, and publishes (审核发布) — the bureau's publishing decision, kept with the
platform's operator and apart from the authors; the supervision office (督查室), which
knows each task's progress, writes the public narratives and may build and preview a
draft to read them as the public will. Nothing here reads a report, note, notice, urge,
instruction, attachment, score or responsible person: `public_data` is the only reader
of task data, and it reads the fields PublicField names."""

import datetime
import hashlib
import json
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.choices import EventType
from audit.services import record
from core.roles import Role
from publication.choices import PublicField, Schedule, SnapshotState
from publication.models import PublicNarrative, PublicSetting, PublicSnapshot
from tasks.choices import OwnerRole
from tasks.models import Task, TaskOwner
from tasks.risk import task_risk
from workplans.choices import PlanStatus
from workplans.models import Plan, Section

NARRATIVE_MAX_CHARS = 1000
# The shape of PublicSnapshot.data; a page cached under another shape is not reused.
DATA_FORMAT = 1


class StaleEdit(ValidationError):
    """Someone saved the same settings or narrative after the version this edit started from."""

    def __init__(self):
        super().__init__(_("内容已被他人修改，请刷新页面后重试。"))


# --- Who may ------------------------------------------------------------------------------


def may_configure(user) -> bool:
    return user.is_authenticated and user.role == Role.ADMIN


def may_publish(user) -> bool:
    return user.is_authenticated and user.role == Role.ADMIN


def may_write_narratives(user) -> bool:
    return user.is_authenticated and user.role == Role.SUPERVISOR


def may_build(user) -> bool:
    return user.is_authenticated and user.role in (Role.ADMIN, Role.SUPERVISOR)


# --- Settings -----------------------------------------------------------------------------


def setting_of(plan: Plan) -> PublicSetting:
    """The plan's settings, or the defaults (off) unsaved: reading never writes."""
    try:
        return plan.public_setting
    except PublicSetting.DoesNotExist:
        return PublicSetting(plan=plan)


def _clean_fields(fields) -> list[str]:
    chosen = set(fields or ())
    unknown = chosen - set(PublicField.values)
    if unknown:
        raise ValidationError({"fields": [_("公开内容中有无效的选项。")]})
    # In PublicField's order, so the same choice is always stored the same way.
    return [value for value in PublicField.values if value in chosen]


def _snapshot_state_change(snapshot: PublicSnapshot, user, new_state: str, action: str, **detail) -> None:
    old_state = snapshot.state
    snapshot.state = new_state
    if new_state == SnapshotState.SUPERSEDED:
        snapshot.superseded_at = timezone.now()
    record(
        EventType.TRANSITION,
        user=user,
        obj=snapshot,
        detail={"action": action, "from": old_state, "to": new_state, **detail},
    )


def _withdraw(plan_id: int, user, action: str) -> PublicSnapshot | None:
    """The plan's published snapshot, replaced (superseded), if there is one."""
    current = PublicSnapshot.objects.select_for_update().filter(plan_id=plan_id, state=SnapshotState.PUBLISHED).first()
    if current is not None:
        _snapshot_state_change(current, user, SnapshotState.SUPERSEDED, action)
        current.save(update_fields=["state", "superseded_at"])
    return current


def save_settings(plan_id: int, user, *, enabled: bool, fields, schedule: str, version: int) -> PublicSetting:
    """An admin's settings for a plan. Turning publication off withdraws the published page
    at once (nothing stays public of a plan that is off); changed fields or schedule leave
    the published page as it was reviewed until the next publication."""
    if not may_configure(user):
        raise PermissionDenied(_("只有系统管理员可以修改政务公开设置。"))
    fields = _clean_fields(fields)
    if schedule not in Schedule.values:
        raise ValidationError({"schedule": [_("请选择有效的更新方式。")]})
    if enabled and not fields:
        raise ValidationError({"fields": [_("对外公开时请至少选择一项公开内容。")]})
    with transaction.atomic():
        plan = Plan.objects.select_for_update().get(pk=plan_id)
        setting, _created = PublicSetting.objects.select_for_update().get_or_create(plan=plan)
        if setting.version != version:
            raise StaleEdit()
        before = {"enabled": setting.enabled, "fields": setting.fields, "schedule": setting.schedule}
        after = {"enabled": bool(enabled), "fields": fields, "schedule": schedule}
        if before == after:
            return setting
        if enabled and plan.status == PlanStatus.DRAFT:
            raise ValidationError({"enabled": [_("草稿计划尚未印发，不能对外公开。")]})
        setting.enabled, setting.fields, setting.schedule = after["enabled"], fields, schedule
        setting.version += 1
        setting.updated_by = user
        setting.save()
        record(
            EventType.UPDATE,
            user=user,
            obj=setting,
            detail={key: {"old": before[key], "new": after[key]} for key in after if before[key] != after[key]},
        )
        if not setting.enabled:
            _withdraw(plan.pk, user, "withdraw")
    return setting


# --- Narratives ---------------------------------------------------------------------------


def save_narrative(task_id: int, user, *, text: str, version: int) -> PublicNarrative:
    """The supervision office's public text for a task (empty: none shown)."""
    if not may_write_narratives(user):
        raise PermissionDenied(_("公开说明由督查室撰写。"))
    text = (text or "").strip()
    if len(text) > NARRATIVE_MAX_CHARS:
        raise ValidationError({"text": [_("公开说明不能超过 %(n)d 个字。") % {"n": NARRATIVE_MAX_CHARS}]})
    with transaction.atomic():
        task = Task.objects.select_for_update().get(pk=task_id)
        narrative, created = PublicNarrative.objects.select_for_update().get_or_create(
            task=task, defaults={"updated_by": user}
        )
        if narrative.version != version:
            raise StaleEdit()
        if not created and narrative.text == text:
            return narrative
        old = narrative.text
        narrative.text, narrative.updated_by = text, user
        narrative.version += 1
        narrative.save()
        record(
            EventType.CREATE if created else EventType.UPDATE,
            user=user,
            obj=narrative,
            detail={"task": task.pk, "text": {"old": old, "new": text}},
        )
    return narrative


def narratives_digest(plan_id: int, fields) -> str:
    """A fingerprint of the public texts a snapshot of the plan would carry ("" when the
    narratives are not public): the schedule compares it with the published one's."""
    if PublicField.NARRATIVE not in fields:
        return ""
    texts = list(
        PublicNarrative.objects.filter(task__plan_id=plan_id)
        .exclude(text="")
        .order_by("task_id")
        .values_list("task_id", "text")
    )
    return hashlib.sha256(json.dumps(texts, ensure_ascii=False).encode()).hexdigest()


# --- The public data ----------------------------------------------------------------------


def _section_titles(plan_id: int) -> dict[int, str]:
    """Each section's title with its parents' ("第二部分 深化改革 › 一 提升服务能力")."""
    sections = {s.pk: s for s in Section.objects.filter(plan_id=plan_id)}
    titles = {}
    for pk, section in sections.items():
        chain: list[str] = []
        current: Section | None = section
        seen: set[int] = set()
        while current is not None and current.pk not in seen:
            seen.add(current.pk)
            chain.append(f"{current.label} {current.title}".strip())
            current = sections.get(current.parent_id) if current.parent_id else None
        titles[pk] = " › ".join(reversed(chain))
    return titles


def public_data(plan: Plan, fields, today: datetime.date) -> dict:
    """What the public may see of `plan`, as JSON: the plan's title and, per section, each
    task's number and only the `fields` chosen. The one reader of task data for the public."""
    fields = set(_clean_fields(fields))
    titles = _section_titles(plan.pk)
    leads = Prefetch(
        "task_owners", queryset=TaskOwner.objects.filter(role=OwnerRole.LEAD).select_related("agency"), to_attr="leads"
    )
    tasks = list(Task.objects.filter(plan=plan).select_related("section").prefetch_related(leads))
    narratives = {}
    if PublicField.NARRATIVE in fields:
        narratives = dict(
            PublicNarrative.objects.filter(task__plan=plan).exclude(text="").values_list("task_id", "text")
        )
    groups: dict[int | None, dict] = {}
    order = sorted(
        tasks,
        key=lambda t: (t.section is not None, t.section.order if t.section else 0, t.section_id or 0, t.order, t.pk),
    )
    for task in order:
        task.plan = plan  # the risk rule reads the plan's year: no query per task
        title = titles.get(task.section_id, "") if task.section_id else ""
        group = groups.setdefault(task.section_id, {"title": title, "tasks": []})
        row: dict = {"number": task.number}
        if PublicField.HEADING in fields:
            row["heading"] = task.heading
        if PublicField.LEAD_AGENCY in fields:
            row["lead"] = task.leads[0].agency.name if task.leads else ""
        if PublicField.DUE_DATE in fields:
            row["due_on"] = task.due_on.isoformat()
        if PublicField.STATUS in fields:
            row["status"] = task.status
            row["colour"] = task_risk(task, today)[0].value
        if PublicField.PERCENT in fields:
            row["percent"] = task.percent
        if task.pk in narratives:
            row["narrative"] = narratives[task.pk]
        group["tasks"].append(row)
    return {
        "format": DATA_FORMAT,
        "plan": {"title": plan.title, "year": plan.year, "doc_number": plan.doc_number},
        "fields": sorted(fields, key=PublicField.values.index),
        "as_of": today.isoformat(),
        "sections": list(groups.values()),
    }


# --- Snapshots ----------------------------------------------------------------------------


def _new_snapshot(setting: PublicSetting, user, *, period: str = "", today=None) -> PublicSnapshot:
    today = today or timezone.localdate()
    return PublicSnapshot(
        plan_id=setting.plan_id,
        data=public_data(setting.plan, setting.fields, today),
        settings_version=setting.version,
        narratives_digest=narratives_digest(setting.plan_id, setting.fields),
        period=period,
        built_at=timezone.now(),
        built_by=user,
    )


def _locked_setting(plan_id: int) -> PublicSetting:
    setting = PublicSetting.objects.select_for_update().select_related("plan").filter(plan_id=plan_id).first()
    if setting is None or not setting.enabled:
        raise ValidationError(_("该计划尚未开启政务公开，请先由系统管理员开启。"))
    if setting.plan.status == PlanStatus.DRAFT:
        raise ValidationError(_("草稿计划尚未印发，不能对外公开。"))
    return setting


def build_snapshot(plan_id: int, user, today=None) -> PublicSnapshot:
    """A draft of what the public would see now, for review; earlier drafts are replaced."""
    if not may_build(user):
        raise PermissionDenied(_("您无权生成公开快照。"))
    with transaction.atomic():
        setting = _locked_setting(plan_id)
        for draft in PublicSnapshot.objects.select_for_update().filter(plan_id=plan_id, state=SnapshotState.DRAFT):
            _snapshot_state_change(draft, user, SnapshotState.SUPERSEDED, "replace_draft")
            draft.save(update_fields=["state", "superseded_at"])
        snapshot = _new_snapshot(setting, user, today=today)
        snapshot.save()
        record(EventType.CREATE, user=user, obj=snapshot, detail={"state": snapshot.state, "fields": setting.fields})
    return snapshot


def publish(snapshot_id: int, user) -> PublicSnapshot:
    """Publish a reviewed draft: it replaces the plan's published snapshot. Refused when the
    settings changed since it was built (it would not show what they now allow)."""
    if not may_publish(user):
        raise PermissionDenied(_("只有系统管理员可以发布公开内容。"))
    with transaction.atomic():
        plan_id = PublicSnapshot.objects.values_list("plan_id", flat=True).get(pk=snapshot_id)
        setting = _locked_setting(plan_id)
        snapshot = PublicSnapshot.objects.select_for_update().get(pk=snapshot_id)
        if snapshot.state != SnapshotState.DRAFT:
            raise ValidationError(_("该快照不是待审核状态，不能发布。"))
        if snapshot.settings_version != setting.version:
            raise ValidationError(_("生成快照后公开设置已修改，请重新生成并审核后再发布。"))
        replaced = _withdraw(plan_id, user, "replace")
        now = timezone.now()
        snapshot.reviewed_at = snapshot.published_at = now
        snapshot.reviewed_by = snapshot.published_by = user
        _snapshot_state_change(
            snapshot, user, SnapshotState.PUBLISHED, "publish", replaced=replaced.pk if replaced else None
        )
        snapshot.save()
    return snapshot


def published_snapshot(plan_id: int) -> PublicSnapshot | None:
    """The snapshot the public page serves for a plan, without its data (one query): none
    when the plan's publication is off."""
    return (
        PublicSnapshot.objects.filter(
            plan_id=plan_id, state=SnapshotState.PUBLISHED, plan__public_setting__enabled=True
        )
        .defer("data")
        .first()
    )


# --- The schedule -------------------------------------------------------------------------


def period_of(schedule: str, today: datetime.date) -> str:
    """The period a scheduled build belongs to: the day, or the ISO week."""
    if schedule == Schedule.DAILY:
        return today.isoformat()
    year, week, _day = today.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass(frozen=True)
class ScheduledRun:
    plan_id: int
    period: str
    outcome: str  # "published", "draft" (waiting for review), "done" (this period already built), "skipped"
    snapshot_id: int | None = None


def run_scheduled(plan_id: int, today: datetime.date) -> ScheduledRun:
    """The schedule's build for one plan and today's period, once per period.

    It publishes without a new review only when the settings and the public narratives are
    those of the snapshot now published (which a person reviewed, or which descends from
    one they did): then only the figures move — status, percent, due dates — and those come
    from the supervision loop's own reviewed reports. When a setting or a narrative changed
    since, it leaves a draft for review instead, and the page stays as it was."""
    with transaction.atomic():
        setting = PublicSetting.objects.select_for_update().select_related("plan").filter(plan_id=plan_id).first()
        if setting is None or not setting.enabled or setting.schedule == Schedule.MANUAL:
            return ScheduledRun(plan_id, "", "skipped")
        period = period_of(setting.schedule, today)
        if setting.plan.status == PlanStatus.DRAFT:
            return ScheduledRun(plan_id, period, "skipped")
        if PublicSnapshot.objects.filter(plan_id=plan_id, period=period).exists():
            return ScheduledRun(plan_id, period, "done")
        current = PublicSnapshot.objects.filter(plan_id=plan_id, state=SnapshotState.PUBLISHED).first()
        snapshot = _new_snapshot(setting, None, period=period, today=today)
        reviewed = (
            current is not None
            and current.settings_version == setting.version
            and current.narratives_digest == snapshot.narratives_digest
        )
        try:
            with transaction.atomic():
                if reviewed:
                    _withdraw(plan_id, None, "replace")
                    snapshot.state, snapshot.published_at = SnapshotState.PUBLISHED, timezone.now()
                snapshot.save()
        except IntegrityError:
            # Another run of the schedule built this period first.
            return ScheduledRun(plan_id, period, "done")
        record(
            EventType.CREATE,
            obj=snapshot,
            detail={
                "state": snapshot.state,
                "period": period,
                "by": "schedule",
                "replaced": current.pk if current is not None and reviewed else None,
            },
        )
        return ScheduledRun(plan_id, period, "published" if reviewed else "draft", snapshot.pk)


def scheduled_plan_ids() -> list[int]:
    return list(
        PublicSetting.objects.filter(enabled=True).exclude(schedule=Schedule.MANUAL).values_list("plan_id", flat=True)
    )
