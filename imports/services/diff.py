"""What a new version of an imported plan would change, task by task."""

from __future__ import annotations

import dataclasses
import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.matching import AgencyMatcher
from imports.services.common import MILESTONE_TEXT_MAX, SKIP_AGENCY, group_ids, is_create
from imports.services.document import _date_or_none, parse_target, task_key
from indicators.models import Reading
from tasks.choices import OwnerRole
from tasks.models import Milestone, ProgressUpdate, Task
from workplans.models import Plan, Section

# What a new version can change, keyed by a name the importer acts on; the label is for people.
FIELD_LABELS = {
    "title": gettext_lazy("标题"),
    "year": gettext_lazy("年度"),
    "doc_number": gettext_lazy("文号"),
    "issued_on": gettext_lazy("印发日期"),
    "issuer": gettext_lazy("印发单位"),
    "heading": gettext_lazy("任务摘要"),
    "text": gettext_lazy("任务全文"),
    "owners": gettext_lazy("责任单位"),
    "milestones": gettext_lazy("时间节点"),
    "indicators": gettext_lazy("量化指标"),
}


# What an admin may have set by hand on a task (Task.hand_set) and a new version keeps.
HAND_SET_LABELS = {
    "owners": gettext_lazy("责任单位"),
    "responsible_users": gettext_lazy("责任人"),
    "due_on": gettext_lazy("完成时限"),
}
# The fields whose long texts the preview marks word by word.
TEXT_FIELDS = ("heading", "text")


@dataclass
class FieldChange:
    field: str  # a key of FIELD_LABELS
    old: str
    new: str
    # True when the task's value was set by hand and the new version leaves it as it is.
    kept: bool = False
    # Item by item (an indicator's target old → new, one added or dropped).
    details: list[str] = dataclasses.field(default_factory=list)

    @property
    def is_text(self) -> bool:
        return self.field in TEXT_FIELDS

    @property
    def label(self) -> str:
        return str(FIELD_LABELS[self.field])


@dataclass
class TaskChange:
    task: Task
    index: int
    changes: list[FieldChange]

    @property
    def applied(self) -> set[str]:
        """The fields the new version writes (a kept hand-set value is not written)."""
        return {c.field for c in self.changes if not c.kept}


@dataclass
class HandSet:
    """A matched task's values set by hand, and whether the new version keeps them."""

    task: Task
    index: int
    fields: list[str]
    kept: bool

    @property
    def labels(self) -> list[str]:
        return [str(HAND_SET_LABELS[f]) for f in self.fields if f in HAND_SET_LABELS]


@dataclass
class PlanDiff:
    plan: Plan
    plan_changes: list[FieldChange] = dataclasses.field(default_factory=list)
    added: list[int] = dataclasses.field(default_factory=list)  # indexes into the document's tasks
    removed: list[Task] = dataclasses.field(default_factory=list)  # each with .has_reports
    changed: list[TaskChange] = dataclasses.field(default_factory=list)
    unchanged: list[tuple[Task, int]] = dataclasses.field(default_factory=list)
    hand_set: list[HandSet] = dataclasses.field(default_factory=list)
    keep_hand_set: bool = True

    @property
    def is_empty(self) -> bool:
        return not (self.plan_changes or self.added or self.removed or self.changed)

    @property
    def kept_removed(self) -> list[Task]:
        """Tasks gone from the new version that carry reported data, or were carried over
        from last year, and so stay."""
        return [t for t in self.removed if t.has_reports]  # type: ignore[attr-defined]


def _section_paths(sections) -> dict[int, tuple[str, ...]]:
    by_id = {s.pk: s for s in sections}
    paths: dict[int, tuple[str, ...]] = {}

    def path_of(section):
        if section.pk not in paths:
            parent = by_id.get(section.parent_id)
            paths[section.pk] = (path_of(parent) if parent else ()) + (section.label,)
        return paths[section.pk]

    for section in sections:
        path_of(section)
    return paths


def _load_plan_state(plan: Plan):
    """The plan's sections and tasks with owners, milestones and indicators, in 5 queries."""
    sections = list(Section.objects.filter(plan=plan).order_by("order", "id"))
    tasks = list(
        Task.objects.filter(plan=plan)
        .annotate(
            has_progress=Exists(ProgressUpdate.objects.filter(task=OuterRef("pk"))),
            has_readings=Exists(Reading.objects.filter(indicator__task=OuterRef("pk"))),
            has_done_milestone=Exists(Milestone.objects.filter(task=OuterRef("pk"), done_on__isnull=False)),
        )
        .prefetch_related("task_owners__agency", "milestones", "indicators")
        .order_by("order", "id")
    )
    for task in tasks:
        # A task carried over from last year (the rollover's 上年结转) is not in this
        # year's document: it stays, as a task with reported data does.
        task.is_carried = task.carried_from_id is not None  # type: ignore[attr-defined]
        task.has_reports = (  # type: ignore[attr-defined]
            task.has_progress or task.has_readings or task.has_done_milestone or task.is_carried  # type: ignore[attr-defined]
        )
    return sections, tasks


def _owners_of(task: Task) -> list[int]:
    owners = sorted(task.task_owners.all(), key=lambda o: (o.role != OwnerRole.LEAD, o.order, o.pk))
    return [o.agency_id for o in owners]


def _milestones_of(task: Task) -> list[tuple[str, str]]:
    return [(m.due_on.isoformat(), m.text) for m in sorted(task.milestones.all(), key=lambda m: (m.order, m.pk))]


def _indicator_tuple(name, comparator, target: Decimal, unit, due) -> tuple:
    return (name, comparator, f"{target.normalize():f}", unit, due or "")


def _indicators_of(task: Task) -> list[tuple]:
    return [
        _indicator_tuple(i.name, i.comparator, i.target, i.unit, i.due_on.isoformat() if i.due_on else "")
        for i in sorted(task.indicators.all(), key=lambda i: (i.order, i.pk))
    ]


def _doc_milestones(task: dict, year_end: datetime.date) -> list[tuple[str, str]]:
    return [
        ((_date_or_none(m["due"]) or year_end).isoformat(), m["text"][:MILESTONE_TEXT_MAX]) for m in task["milestones"]
    ]


def _doc_indicators(task: dict) -> list[tuple]:
    return [
        _indicator_tuple(i["name"], i["comparator"], parse_target(i["target"]), i["unit"], i["due"] or "")
        for i in task["indicators"]
    ]


def _owner_ids(task: dict, mapping: dict) -> list:
    """The task's owners as agency ids (or CREATE_AGENCY markers), first is the lead,
    each agency once (two names of one agency in one item count once)."""
    out: list = []
    for name in task["owners"]:
        value = mapping.get(name)
        if value == SKIP_AGENCY:
            continue
        group = group_ids(value)
        if group is not None:
            out += [agency_id for agency_id in group if agency_id not in out]
            continue
        try:
            marker = int(value) if value not in (None, "") and not is_create(value) else ("create", name)
        except (TypeError, ValueError):
            marker = ("create", name)  # not a usable choice (yet): shown as the name itself
        if marker not in out:
            out.append(marker)
    return out


def _describe_owner_ids(ids, matcher: AgencyMatcher) -> str:
    labels = []
    for value in ids:
        if isinstance(value, tuple):
            labels.append(_("%(name)s（新建）") % {"name": value[1]})
        else:
            agency = matcher.by_id.get(value)
            labels.append(agency.name if agency else str(value))
    return _("、").join(labels) or _("（无）")


def _indicator_details(old: list[tuple], new: list[tuple]) -> list[str]:
    """Every indicator the new version changes, by name: its target old → new, added, dropped."""
    old_by_name = {n: (c, t, u) for n, c, t, u, _d in old}
    new_by_name = {n: (c, t, u) for n, c, t, u, _d in new}
    details = []
    for name, (comparator, target, unit) in new_by_name.items():
        before = old_by_name.get(name)
        if before is None:
            details.append(_("新增“%(name)s”%(c)s%(t)s%(u)s") % {"name": name, "c": comparator, "t": target, "u": unit})
        elif before != (comparator, target, unit):
            details.append(
                _("“%(name)s”：%(old)s → %(new)s")
                % {"name": name, "old": "".join(before), "new": f"{comparator}{target}{unit}"}
            )
    for name in old_by_name.keys() - new_by_name.keys():
        details.append(_("删去“%(name)s”") % {"name": name})
    return details


def diff_plan(
    plan: Plan, doc: dict, mapping: dict, matcher: AgencyMatcher, *, state=None, keep_hand_set: bool = True
) -> PlanDiff:
    """What applying `doc` (normalised, checked) to `plan` would change. A task's owners set
    by hand (Task.hand_set) are kept unless `keep_hand_set` is False: the change is listed,
    marked kept."""
    sections, tasks = state or _load_plan_state(plan)
    paths = _section_paths(sections)
    year_end = datetime.date(doc["plan"]["year"], 12, 31)
    diff = PlanDiff(plan=plan, keep_hand_set=keep_hand_set)

    new_meta = doc["plan"]
    issuer = matcher.match(new_meta["issuer"]).agency if new_meta["issuer"] else None
    for name, old, new in (
        ("title", plan.title, new_meta["title"]),
        ("year", str(plan.year), str(new_meta["year"])),
        ("doc_number", plan.doc_number, new_meta["doc_number"] or ""),
        ("issued_on", plan.issued_on.isoformat() if plan.issued_on else "", new_meta["issued_on"] or ""),
    ):
        # A version that does not state a 文号 or date (a task spreadsheet) keeps the plan's.
        if new and old != new:
            diff.plan_changes.append(FieldChange(name, old or "—", new or "—"))
    if issuer is not None and issuer.pk != plan.issuer_id:
        diff.plan_changes.append(FieldChange("issuer", str(plan.issuer or "—"), issuer.name))

    existing: dict[tuple, list[Task]] = defaultdict(list)
    for task in tasks:
        existing[task_key(paths.get(task.section_id, ()), task.number, task.heading)].append(task)
    for index, new in enumerate(doc["tasks"]):
        key = task_key(new["section"], new["number"], new["heading"])
        if not existing.get(key):
            diff.added.append(index)
            continue
        task = existing[key].pop(0)
        changes = []
        if task.heading != new["heading"]:
            changes.append(FieldChange("heading", task.heading, new["heading"]))
        if task.text != new["text"]:
            changes.append(FieldChange("text", task.text, new["text"]))
        hand_set = [f for f in task.hand_set or [] if f in HAND_SET_LABELS]
        if hand_set:
            diff.hand_set.append(HandSet(task, index, hand_set, keep_hand_set))
        old_owners, new_owners = _owners_of(task), _owner_ids(new, mapping)
        if old_owners != new_owners:
            changes.append(
                FieldChange(
                    "owners",
                    _describe_owner_ids(old_owners, matcher),
                    _describe_owner_ids(new_owners, matcher),
                    kept=keep_hand_set and "owners" in hand_set,
                )
            )
        old_ms, new_ms = _milestones_of(task), _doc_milestones(new, year_end)
        if old_ms != new_ms:
            changes.append(
                FieldChange(
                    "milestones",
                    _("；").join(f"{d} {t}" for d, t in old_ms) or _("（无）"),
                    _("；").join(f"{d} {t}" for d, t in new_ms) or _("（无）"),
                )
            )
        old_ind, new_ind = _indicators_of(task), _doc_indicators(new)
        if old_ind != new_ind:
            changes.append(
                FieldChange(
                    "indicators",
                    _("；").join(f"{n}{c}{t}{u}" for n, c, t, u, _d in old_ind) or _("（无）"),
                    _("；").join(f"{n}{c}{t}{u}" for n, c, t, u, _d in new_ind) or _("（无）"),
                    details=_indicator_details(old_ind, new_ind),
                )
            )
        if changes:
            diff.changed.append(TaskChange(task, index, changes))
        else:
            diff.unchanged.append((task, index))
    diff.removed = [task for left in existing.values() for task in left]
    return diff
