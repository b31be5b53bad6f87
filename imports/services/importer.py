"""One transaction that writes a new plan or applies a new version to an existing one."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from accounts.choices import MatchMethod
from accounts.matching import AgencyMatcher
from accounts.models import Agency, AgencyAlias
from core.text import script_key
from imports.services.common import (
    CHANGE_REASON_NEW,
    CHANGE_REASON_UPDATE,
    MILESTONE_TEXT_MAX,
    SKIP_AGENCY,
    create_parent,
    group_ids,
    is_create,
)
from imports.services.diff import PlanDiff, _load_plan_state, _section_paths, diff_plan
from imports.services.document import (
    ImportRefused,
    _date_or_none,
    check_document,
    check_mapping,
    normalise_document,
    owner_names,
    parse_target,
)
from indicators.models import Indicator, Reading
from tasks.choices import OwnerRole
from tasks.models import Milestone, Task, TaskOwner
from workplans.choices import PlanStatus
from workplans.models import Plan, Section


@dataclass
class ImportResult:
    plan: Plan
    created: bool = False
    duplicate: bool = False
    message: str = ""
    diff: PlanDiff | None = None
    counts: dict = field(default_factory=dict)


def _duplicate_result(existing: Plan) -> ImportResult:
    return ImportResult(
        plan=existing,
        duplicate=True,
        message=_("该文件已于%(when)s导入为计划“%(title)s”（%(year)d年），未重复导入。")
        % {
            "when": f"{timezone.localtime(existing.created_at):%Y-%m-%d %H:%M}",
            "title": existing.title,
            "year": existing.year,
        },
    )


class _Writer:
    """Bulk writes with their audit records: one user, one address, one reason, one time."""

    def __init__(self, user, ip_address, reason):
        self.user = user if getattr(user, "pk", None) else None
        self.attrs = {"ip_address": ip_address}
        self.reason = reason
        self.now = timezone.now()

    def create(self, model, objs):
        if not objs:
            return []
        return bulk_create_with_history(
            objs,
            model,
            default_user=self.user,
            default_change_reason=self.reason,
            default_date=self.now,
            custom_historical_attrs=self.attrs,
        )

    def update(self, model, objs, fields):
        if objs:
            bulk_update_with_history(
                objs,
                model,
                fields,
                default_user=self.user,
                default_change_reason=self.reason,
                default_date=self.now,
                custom_historical_attrs=self.attrs,
            )

    def save(self, obj, **kwargs):
        obj._history_user = self.user
        obj._change_reason = self.reason
        obj.save(**kwargs)


def _resolve_agencies(
    doc, mapping, matcher: AgencyMatcher, writer: _Writer, learn_aliases: bool
) -> dict[str, list[int]]:
    """Owner name -> agency ids (one, or a group for a generic name), creating the agencies
    marked CREATE_AGENCY or "create:<parent>" (one per name after script folding; the other
    spellings become its aliases)."""
    resolved: dict[str, list[int]] = {}
    to_create: dict[tuple, list[str]] = {}
    for name in owner_names(doc):
        value = mapping.get(name)
        if value == SKIP_AGENCY:
            continue  # no one agency: the tasks keep their other owners
        group = group_ids(value)
        if group is not None:
            resolved[name] = group
        elif is_create(value):
            match = matcher.match(name)
            if match.method == MatchMethod.NAME and match.agency is not None:
                resolved[name] = [match.agency.pk]  # already there under exactly this name
            else:
                to_create.setdefault((script_key(name), create_parent(value)), []).append(name)
        else:
            resolved[name] = [int(value)]
    if to_create:
        # One agency per folded name: the first parent asked for wins.
        firsts: dict[str, tuple] = {}
        for key in to_create:
            firsts.setdefault(key[0], key)
        merged: dict[tuple, list] = {firsts[key[0]]: [] for key in to_create}
        for key, names in to_create.items():
            merged[firsts[key[0]]] += names
        new_agencies = writer.create(
            Agency, [Agency(name=names[0], parent_id=parent) for (_key, parent), names in merged.items()]
        )
        aliases = []
        for agency, names in zip(new_agencies, merged.values(), strict=True):
            for name in names:
                resolved[name] = [agency.pk]
            aliases += [AgencyAlias(agency_id=agency.pk, name=n) for n in names[1:] if not matcher.knows_exactly(n)]
        AgencyAlias.objects.bulk_create(aliases)
    if learn_aliases:
        # A name the matcher could not place, mapped by hand to an existing agency, becomes
        # that agency's alias, so the next plan that writes it the same way matches. (A
        # group is no one agency: nothing is learnt from it.)
        learned = [
            AgencyAlias(agency_id=resolved[name][0], name=name)
            for name in owner_names(doc)
            if name in resolved
            and group_ids(mapping.get(name)) is None
            and not is_create(mapping.get(name))
            and not matcher.match(name).matched
            and not matcher.knows_exactly(name)
        ]
        AgencyAlias.objects.bulk_create(learned, ignore_conflicts=True)
    return resolved


def owner_agency_ids(doc_task: dict, owner_ids: dict[str, list[int]]) -> list[int]:
    """The task's owner agencies in order, each once: the first is the lead. A generic name
    mapped to a group stands, in its place, for every agency of the group in the order
    picked (so 各区 written after the lead makes every district a co-owner)."""
    out: list[int] = []
    for name in doc_task["owners"]:
        for agency_id in owner_ids.get(name, ()):
            if agency_id not in out:
                out.append(agency_id)
    return out


def section_rows(doc) -> list[tuple[tuple[str, ...], str]]:
    """Every section path the document needs, parents first, in document order."""
    titles: dict[tuple[str, ...], str] = {}
    for section in doc["sections"]:
        path = tuple(section["path"])
        for depth in range(1, len(path)):
            titles.setdefault(path[:depth], "")
        if not titles.get(path):
            titles[path] = section["title"]
    for task in doc["tasks"]:
        path = tuple(task["section"])
        for depth in range(1, len(path) + 1):
            titles.setdefault(path[:depth], "")
    return list(titles.items())


def _write_sections(plan, doc, existing: dict[tuple, Section], writer: _Writer) -> dict[tuple, Section]:
    """Create the sections `existing` lacks (level by level, so parents have ids) and update
    titles and order of the others; returns path -> Section for every path of `doc`."""
    rows = section_rows(doc)
    by_path = dict(existing)
    changed = []
    for depth in range(1, max((len(p) for p, _t in rows), default=0) + 1):
        new_paths, new = [], []
        for order, (path, title) in enumerate(rows):
            if len(path) != depth:
                continue
            section = by_path.get(path)
            if section is None:
                new_paths.append(path)
                new.append(Section(plan=plan, parent=by_path.get(path[:-1]), label=path[-1], title=title, order=order))
            elif section.title != title or section.order != order:
                section.title, section.order = title, order
                changed.append(section)
        by_path.update(zip(new_paths, writer.create(Section, new), strict=True))
    writer.update(Section, changed, ["title", "order"])
    return by_path


def _task_children(task: Task, doc_task: dict, owner_ids: dict[str, list[int]], year_end):
    owners = [
        TaskOwner(task_id=task.pk, agency_id=agency_id, role=OwnerRole.LEAD if not n else OwnerRole.CO_OWNER, order=n)
        for n, agency_id in enumerate(owner_agency_ids(doc_task, owner_ids))
    ]
    # The dates and targets as imported are the baseline (基线) that approved changes
    # are measured against; bulk writes skip save(), so they are set here.
    milestones = [
        Milestone(
            task_id=task.pk,
            due_on=_date_or_none(m["due"]) or year_end,
            baseline_due_on=_date_or_none(m["due"]) or year_end,
            text=m["text"][:MILESTONE_TEXT_MAX],
            order=i,
        )
        for i, m in enumerate(doc_task["milestones"])
    ]
    indicators = [
        Indicator(
            plan_id=task.plan_id,
            task_id=task.pk,
            name=i["name"],
            comparator=i["comparator"],
            target=parse_target(i["target"]),
            baseline_target=parse_target(i["target"]),
            unit=i["unit"],
            due_on=_date_or_none(i["due"]),
            order=n,
        )
        for n, i in enumerate(doc_task["indicators"])
    ]
    return owners, milestones, indicators


def _new_task(plan, sections, doc_task, order, year_end, exempt: bool = False) -> Task:
    return Task(
        reporting_exempt=exempt,
        plan=plan,
        section=sections.get(tuple(doc_task["section"])),
        number=doc_task["number"] or "",
        heading=doc_task["heading"],
        text=doc_task["text"],
        search_text=Task.make_search_text(doc_task["heading"], doc_task["text"]),
        due_on=year_end,
        baseline_due_on=year_end,
        order=order,
    )


def _is_exempt(doc_task, owner_ids, ownerless_exempt: bool) -> bool:
    return ownerless_exempt and not owner_agency_ids(doc_task, owner_ids)


def _write_new_plan(plan: Plan, doc: dict, owner_ids, writer: _Writer, ownerless_exempt: bool = False) -> dict:
    year_end = plan.year_end
    sections = _write_sections(plan, doc, {}, writer)
    tasks = writer.create(
        Task,
        [
            _new_task(plan, sections, t, i, year_end, _is_exempt(t, owner_ids, ownerless_exempt))
            for i, t in enumerate(doc["tasks"])
        ],
    )
    owners, milestones, indicators = [], [], []
    for task, doc_task in zip(tasks, doc["tasks"], strict=True):
        o, m, i = _task_children(task, doc_task, owner_ids, year_end)
        owners += o
        milestones += m
        indicators += i
    writer.create(TaskOwner, owners)
    writer.create(Milestone, milestones)
    writer.create(Indicator, indicators)
    return {
        "sections": len(sections),
        "tasks": len(tasks),
        "owners": len(owners),
        "milestones": len(milestones),
        "indicators": len(indicators),
    }


def _new_due(task: Task, year_end, old_year_end, keep_hand_set: bool):
    """A matched task's due date in the new version: a date set by hand stays (unless the
    admin overwrites hand-set values: then the year end, as the document says); the old year
    end moves to the new one; any other date (an approved delay) stays."""
    if "due_on" in (task.hand_set or []):
        return task.due_on if keep_hand_set else year_end
    return year_end if task.due_on == old_year_end else task.due_on


def _apply_new_version(
    plan: Plan, doc: dict, owner_ids, diff: PlanDiff, state, writer: _Writer, old_year_end, ownerless_exempt=False
) -> dict:
    """Apply `diff` to `plan`: unchanged tasks are not touched at all; changed ones keep
    their row (and so their progress); removed ones go unless they carry reported data.
    Values set by hand (owners, 责任人, due date) stay unless `diff.keep_hand_set` is False."""
    keep = diff.keep_hand_set
    sections_list, _tasks = state
    paths = _section_paths(sections_list)
    existing_sections = {paths[s.pk]: s for s in sections_list}
    year_end = datetime.date(doc["plan"]["year"], 12, 31)
    sections = _write_sections(plan, doc, existing_sections, writer)
    counts = {
        "added": len(diff.added),
        "changed": len(diff.changed),
        "unchanged": len(diff.unchanged),
        "removed": 0,
        "kept": 0,
    }

    # Order and due dates move with the document for every matched task, without an audit
    # record for a pure renumbering of positions.
    moved = []
    for task, index in diff.unchanged:
        due = _new_due(task, year_end, old_year_end, keep)
        if task.order != index or task.due_on != due:
            task.order, task.due_on = index, due
            if task.baseline_due_on == old_year_end:
                task.baseline_due_on = year_end
            moved.append(task)
    if moved:
        Task.objects.bulk_update(moved, ["order", "due_on", "baseline_due_on"])

    changed_tasks = []
    drop_owners, drop_milestones, drop_indicators = [], [], []
    new_owners, new_milestones, new_indicators, updated_indicators = [], [], [], []
    reordered_milestones = []
    for change in diff.changed:
        task, doc_task = change.task, doc["tasks"][change.index]
        task.heading, task.text, task.order = doc_task["heading"], doc_task["text"], change.index
        task.search_text = Task.make_search_text(task.heading, task.text)
        task.due_on = _new_due(task, year_end, old_year_end, keep)
        if task.baseline_due_on == old_year_end:
            task.baseline_due_on = year_end
        changed_tasks.append(task)
        owners, milestones, indicators = _task_children(task, doc_task, owner_ids, year_end)
        fields = change.applied
        if "owners" in fields:
            drop_owners += [o.pk for o in task.task_owners.all()]
            new_owners += owners
            if ownerless_exempt and not owners:
                task.reporting_exempt = True
        if "milestones" in fields:
            # A milestone already marked done stays (with its date) when the new version
            # still has it; the others are replaced.
            kept = {(m.due_on, m.text): m for m in task.milestones.all()}
            for milestone in milestones:
                old = kept.pop((milestone.due_on, milestone.text), None)
                if old is None:
                    new_milestones.append(milestone)
                elif old.order != milestone.order:
                    old.order = milestone.order
                    reordered_milestones.append(old)
            drop_milestones += [m.pk for m in kept.values() if m.done_on is None]
        if "indicators" in fields:
            old_by_name = {i.name: i for i in task.indicators.all()}
            for indicator in indicators:
                previous = old_by_name.pop(indicator.name, None)
                if previous is None:
                    new_indicators.append(indicator)
                    continue
                compared = ("comparator", "target", "baseline_target", "unit", "due_on", "order")
                if any(getattr(previous, f) != getattr(indicator, f) for f in compared):
                    for f in compared:
                        setattr(previous, f, getattr(indicator, f))
                    updated_indicators.append(previous)
            drop_indicators += [i.pk for i in old_by_name.values()]

    writer.update(
        Task,
        changed_tasks,
        ["heading", "text", "search_text", "order", "due_on", "baseline_due_on", "reporting_exempt"],
    )
    if not keep:
        # Overwritten: the document's values now stand, and nothing is marked hand-set.
        overwritten = []
        for entry in diff.hand_set:
            if "responsible_users" in entry.task.hand_set:
                entry.task.responsible_users.clear()
            entry.task.hand_set = []
            overwritten.append(entry.task)
        writer.update(Task, overwritten, ["hand_set"])
    # Deleted through the ORM (not raw) so that simple-history records each deletion.
    if drop_owners:
        TaskOwner.objects.filter(pk__in=drop_owners).delete()
    if drop_milestones:
        Milestone.objects.filter(pk__in=drop_milestones).delete()
    if drop_indicators:
        # An indicator with readings is reported data: it stays.
        Indicator.objects.filter(pk__in=drop_indicators).exclude(
            Exists(Reading.objects.filter(indicator=OuterRef("pk")))
        ).delete()

    added = writer.create(
        Task,
        [
            _new_task(
                plan, sections, doc["tasks"][i], i, year_end, _is_exempt(doc["tasks"][i], owner_ids, ownerless_exempt)
            )
            for i in diff.added
        ],
    )
    for task, index in zip(added, diff.added, strict=True):
        owners, milestones, indicators = _task_children(task, doc["tasks"][index], owner_ids, year_end)
        new_owners += owners
        new_milestones += milestones
        new_indicators += indicators
    writer.create(TaskOwner, new_owners)
    writer.create(Milestone, new_milestones)
    writer.update(Milestone, reordered_milestones, ["order"])
    writer.update(Indicator, updated_indicators, ["comparator", "target", "baseline_target", "unit", "due_on", "order"])
    writer.create(Indicator, new_indicators)

    gone = [t.pk for t in diff.removed if not t.has_reports]  # type: ignore[attr-defined]
    if gone:
        Task.objects.filter(pk__in=gone).delete()
    counts["removed"], counts["kept"] = len(gone), len(diff.removed) - len(gone)

    # Sections the new version no longer has go too, unless a kept task still sits in one.
    wanted = {s.pk for s in sections.values()}
    occupied = set(Task.objects.filter(plan=plan, section__isnull=False).values_list("section_id", flat=True))
    by_id = {s.pk: s for s in sections_list}
    for section_id in list(occupied):
        parent = by_id.get(section_id)
        while parent is not None and parent.parent_id is not None:
            occupied.add(parent.parent_id)
            parent = by_id.get(parent.parent_id)
    stale = [s.pk for s in sections_list if s.pk not in wanted and s.pk not in occupied]
    if stale:
        Section.objects.filter(pk__in=stale).delete()
    return counts


def import_document(
    doc: dict,
    *,
    mapping: dict,
    created_by=None,
    source_file=None,
    sha256: str = "",
    plan: Plan | None = None,
    status: str | None = None,
    year: int | None = None,
    title: str | None = None,
    ip_address: str | None = None,
    matcher: AgencyMatcher | None = None,
    learn_aliases: bool = True,
    ownerless_exempt: bool = False,
    keep_hand_set: bool = True,
) -> ImportResult:
    """Write `doc` (the parse document, possibly edited) in one transaction.

    `mapping` is {owner name: agency id or "create"} and must cover every owner name.
    With `plan`, the document is applied to that plan as its new version (see
    `diff_plan`); without, a new plan is written, 草稿 unless `status` says otherwise.
    `ownerless_exempt` marks the tasks left without an owner 无需填报 (the admin's decision
    in the preview); `keep_hand_set` False lets the new version overwrite the owners,
    责任人 and due dates an admin set by hand.
    The same bytes (`sha256`) never make two plans: the existing plan comes back with a
    message. `source_file` is a stored file name or a Django File. Raises ImportRefused
    (nothing written) when the document or the mapping has problems.
    """
    if sha256 and (existing := Plan.objects.filter(source_sha256=sha256).first()) is not None:
        return _duplicate_result(existing)
    doc = normalise_document(doc, year=year, title=title)
    matcher = matcher or AgencyMatcher.load()
    mapping = {str(k): v for k, v in (mapping or {}).items()}
    problems = check_document(doc) + check_mapping(doc, mapping, matcher)
    if problems:
        raise ImportRefused(problems)

    writer = _Writer(created_by, ip_address, CHANGE_REASON_UPDATE if plan else CHANGE_REASON_NEW)
    meta = doc["plan"]
    stored_name = None
    try:
        with transaction.atomic():
            owner_ids = _resolve_agencies(doc, mapping, matcher, writer, learn_aliases)
            issuer = matcher.match(meta["issuer"]).agency if meta["issuer"] else None
            if plan is None:
                target = Plan(status=status or PlanStatus.DRAFT)
                diff = state = old_year_end = None
            else:
                target = Plan.objects.select_for_update().get(pk=plan.pk)
                state = _load_plan_state(target)
                diff = diff_plan(target, doc, mapping, matcher, state=state, keep_hand_set=keep_hand_set)
                old_year_end = target.year_end
                if status:
                    target.status = status
            target.title, target.year = meta["title"], meta["year"]
            # A new version that does not state them keeps the plan's 文号 and date.
            if meta["doc_number"] or plan is None:
                target.doc_number = meta["doc_number"] or ""
            if meta["issued_on"] or plan is None:
                target.issued_on = _date_or_none(meta["issued_on"])
            if issuer is not None or plan is None:
                target.issuer = issuer
            target.source_sha256 = sha256 or (target.source_sha256 if plan else "")
            if isinstance(source_file, str) and source_file:
                target.source_file.name = source_file
            elif source_file is not None:
                target.source_file.save(source_file.name.rsplit("/", 1)[-1], source_file, save=False)
                stored_name = target.source_file.name
            writer.save(target)
            if diff is None:
                counts = _write_new_plan(target, doc, owner_ids, writer, ownerless_exempt)
            else:
                counts = _apply_new_version(target, doc, owner_ids, diff, state, writer, old_year_end, ownerless_exempt)
    except IntegrityError:
        if stored_name:
            target.source_file.storage.delete(stored_name)
        # Two confirmations of the same bytes at once: the other one won.
        if sha256 and (existing := Plan.objects.filter(source_sha256=sha256).first()) is not None:
            return _duplicate_result(existing)
        raise
    except BaseException:
        if stored_name:
            target.source_file.storage.delete(stored_name)
        raise

    if plan is None:
        message = _(
            "已导入计划“%(title)s”：%(sections)d个部分、%(tasks)d项任务、"
            "%(milestones)d个时间节点、%(indicators)d个量化指标（状态：%(status)s）。"
        ) % {**counts, "title": target.title, "status": target.get_status_display()}
    else:
        values = {**counts, "title": target.title}
        if counts["kept"]:
            message = (
                _(
                    "已更新计划“%(title)s”：新增%(added)d项、修改%(changed)d项、未变%(unchanged)d项、删除%(removed)d项任务；"
                    "%(kept)d项已有进展的任务在新版本中已删去，予以保留，请在计划页面处理。"
                )
                % values
            )
        else:
            message = (
                _(
                    "已更新计划“%(title)s”：新增%(added)d项、修改%(changed)d项、未变%(unchanged)d项、删除%(removed)d项任务。"
                )
                % values
            )
    return ImportResult(plan=target, created=plan is None, message=message, diff=diff, counts=counts)
