"""The audit trail of one task as people read it: who changed what, when, from where, before and after."""

import dataclasses
import datetime
import decimal
from collections import defaultdict
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import OuterRef, Subquery, Value
from django.db.models.functions import Concat
from django.utils import timezone
from django.utils.translation import gettext
from simple_history.models import HistoricalRecords

from accounts.models import Agency
from indicators.models import Indicator, Reading
from tasks.models import Milestone, Task, TaskOwner
from workplans.models import Section

# Records read per kind beyond the page asked for. Records whose diff turns out empty (only
# the version moved) are dropped, so the window needs room for them; and the oldest record
# of an object in the window may lack its predecessor (see _entries_of), which stays out of
# the page as long as fewer than this many records are dropped.
WINDOW_SLACK = 200

# Bookkeeping rather than content: ids, ordering, timestamps, the search fold, and the links
# to the parent (the plan, the task, the indicator) or to the progress update behind a change.
NOISE_FIELDS = frozenset(
    {
        "id",
        "version",
        "order",
        "created_at",
        "updated_at",
        "last_progress_at",
        "search_text",
        "plan",
        "task",
        "indicator",
        "done_by_update",
        "progress_update",
    }
)

# Records of one person from one address this close together are one action (see _same_action).
SAME_ACTION = datetime.timedelta(seconds=2)

HISTORY_FIELDS = (
    "history_id",
    "history_date",
    "history_type",
    "history_user_id",
    "history_change_reason",
    "ip_address",
)


@dataclasses.dataclass
class Change:
    field: str
    old: str
    new: str


@dataclasses.dataclass
class Entry:
    at: datetime.datetime
    user: str
    ip_address: str | None
    subject: str
    action: str
    changes: list[Change]
    reason: str


@dataclasses.dataclass
class _Names:
    users: dict[int, str]
    agencies: dict[int, str]

    def user(self, user_id: int | None) -> str:
        if user_id is None:
            return gettext("系统")
        return self.users.get(user_id, f"#{user_id}")

    def agency(self, agency_id: int) -> str:
        return self.agencies.get(agency_id, f"#{agency_id}")


@dataclasses.dataclass
class _Source:
    """One kind of historical record that belongs to the task."""

    queryset: models.QuerySet  # the task's records of this kind, with any labels annotated
    fields: list[models.Field]  # the tracked fields people read (the original model's fields)
    subject: Callable[[dict, _Names], str]
    extra: tuple[str, ...] = ()  # annotations to read along


def task_audit_trail(task, *, limit: int = 50, offset: int = 0) -> tuple[list[Entry], bool]:
    """Newest first; the bool says whether older entries exist beyond offset+limit.

    A fixed number of queries whatever the history's size: one per kind of record (task,
    owner, milestone, indicator, reading, responsible-user snapshot), one for user names and
    one for agency names. Each kind is read only as far back as offset + limit + WINDOW_SLACK
    records; an object whose previous record falls outside that window shows the fields of
    its oldest record in the window as they stood (action 修改, old values empty).
    """
    window = offset + limit + WINDOW_SLACK
    sources = _sources(task)
    rows_by_source = []
    truncated = False
    for source in sources:
        columns = [*HISTORY_FIELDS, "id", *(field.attname for field in source.fields), *source.extra]
        rows = list(source.queryset.order_by("-history_date", "-history_id").values(*columns)[:window])
        truncated |= len(rows) == window
        rows_by_source.append(rows)

    task_rows = rows_by_source[0]
    responsible = _responsible_users(task_rows)
    names = _names(sources, rows_by_source, responsible)

    keyed: list[tuple[tuple, Entry]] = []
    for rank, (source, rows) in enumerate(zip(sources, rows_by_source, strict=True)):
        keyed += _entries_of(source, rows, names, rank)
    keyed += _responsible_entries(task_rows, responsible, names, 0)
    keyed.sort(key=lambda pair: pair[0], reverse=True)
    entries = [entry for _, entry in keyed]
    page = entries[offset : offset + limit]
    # A full window means older records exist that were not read.
    return page, truncated or len(entries) > offset + limit


def _sources(task) -> list[_Source]:
    # The task's own records come first: _responsible_users reads the m2m snapshots of them.
    section_label = Section.objects.filter(pk=OuterRef("section_id")).annotate(
        label_title=Concat("label", Value(" "), "title", output_field=models.CharField())
    )
    indicator_ids = Indicator.history.filter(task_id=task.pk).values("id")
    # The name the indicator last had, from its own history, so a deleted one still reads.
    indicator_name = Indicator.history.filter(id=OuterRef("indicator_id")).order_by("-history_date", "-history_id")
    return [
        _Source(
            Task.history.filter(id=task.pk).annotate(section_label=Subquery(section_label.values("label_title")[:1])),
            _fields(Task),
            lambda row, names: gettext("任务"),
            extra=("section_label",),
        ),
        _Source(
            TaskOwner.history.filter(task_id=task.pk),
            _fields(TaskOwner),
            lambda row, names: gettext("责任单位：%(agency)s") % {"agency": names.agency(row["agency_id"])},
        ),
        _Source(
            Milestone.history.filter(task_id=task.pk),
            _fields(Milestone),
            lambda row, names: gettext("时间节点：%(text)s") % {"text": row["text"]},
        ),
        _Source(
            Indicator.history.filter(task_id=task.pk),
            _fields(Indicator),
            lambda row, names: gettext("指标：%(name)s") % {"name": row["name"]},
        ),
        _Source(
            Reading.history.filter(indicator_id__in=indicator_ids).annotate(
                indicator_name=Subquery(indicator_name.values("name")[:1])
            ),
            _fields(Reading),
            lambda row, names: (
                gettext("指标值：%(name)s（%(date)s）")
                % {"name": row["indicator_name"] or "", "date": _display_date(row["as_of"])}
            ),
            extra=("indicator_name",),
        ),
    ]


def _fields(model) -> list[models.Field]:
    return [field for field in model.history.model.tracked_fields if field.name not in NOISE_FIELDS]


def _responsible_users(task_rows: list[dict]) -> dict[int, frozenset[int]]:
    """The set of 责任人 as each task record saw it, keyed by the record's history_id."""
    if not task_rows:
        return {}
    snapshot_model = HistoricalRecords.m2m_models[Task._meta.get_field("responsible_users")]
    found = defaultdict(set)
    history_ids = [row["history_id"] for row in task_rows]
    for history_id, user_id in snapshot_model.objects.filter(history_id__in=history_ids).values_list(
        "history_id", "user_id"
    ):
        found[history_id].add(user_id)
    return {history_id: frozenset(found[history_id]) for history_id in history_ids}


def _names(sources: list[_Source], rows_by_source: list[list[dict]], responsible: dict) -> _Names:
    User = get_user_model()
    user_ids, agency_ids = set(), set()
    for user_set in responsible.values():
        user_ids |= user_set
    for source, rows in zip(sources, rows_by_source, strict=True):
        user_fields = [f.attname for f in source.fields if f.is_relation and f.related_model is User]
        agency_fields = [f.attname for f in source.fields if f.is_relation and f.related_model is Agency]
        for row in rows:
            user_ids.add(row["history_user_id"])
            user_ids.update(row[name] for name in user_fields)
            agency_ids.update(row[name] for name in agency_fields)
    user_ids.discard(None)
    agency_ids.discard(None)
    users = {}
    if user_ids:
        for pk, full_name, username in User.objects.filter(pk__in=user_ids).values_list("pk", "full_name", "username"):
            users[pk] = full_name or username  # as User.display_name
    agencies = dict(Agency.objects.filter(pk__in=agency_ids).values_list("pk", "name")) if agency_ids else {}
    return _Names(users, agencies)


def _entries_of(source: _Source, rows: list[dict], names: _Names, rank: int) -> list[tuple[tuple, Entry]]:
    """Entries of one kind of record, each with its sort key, by diffing each object's
    consecutive records (rows arrive newest first)."""
    by_object = defaultdict(list)
    for row in rows:
        by_object[row["id"]].append(row)
    keyed = []
    for object_rows in by_object.values():
        previous = None
        for row in reversed(object_rows):
            kind = row["history_type"]
            if kind == "+":
                previous = None  # a creation stands alone, even on an id seen before
            if kind == "-":
                # A deletion lists what was deleted, as old values.
                changes = _changes(source.fields, row, None, names)
            else:
                # Without a previous record (the first one, or its predecessor lies beyond the
                # window) the record shows the fields as they stood.
                changes = _changes(source.fields, previous, row, names)
            if changes or kind != "~":
                key = (row["history_date"], rank, row["history_id"], 0)
                keyed.append((key, _entry(row, source.subject(row, names), kind, changes, names)))
            previous = row
    return keyed


def _responsible_entries(
    task_rows: list[dict], responsible: dict[int, frozenset[int]], names: _Names, rank: int
) -> list[tuple[tuple, Entry]]:
    """Entries for changes in the set of 责任人, from the task's records (newest first)."""
    label = str(Task._meta.get_field("responsible_users").verbose_name)
    keyed: list[tuple[tuple, Entry] | None] = []
    previous = None
    # The last entry while the next record may continue it: (its index, the set before it, its record).
    open_entry = None
    for row in reversed(task_rows):
        kind = row["history_type"]
        if kind == "+":
            previous = None
        if kind == "-":
            previous, open_entry = row, None
            continue
        before = responsible[previous["history_id"]] if previous else frozenset()
        after = responsible[row["history_id"]]
        if before != after:
            if open_entry is not None and open_entry[2] is previous and _same_action(previous, row):
                index, before, _ = open_entry
                keyed[index] = None
            change = Change(label, _user_list(before, names), _user_list(after, names))
            if change.old != change.new:
                keyed.append(
                    ((row["history_date"], rank, row["history_id"], 1), _entry(row, label, "~", [change], names))
                )
                open_entry = (len(keyed) - 1, before, row)
            else:
                open_entry = None  # removed and put back: nothing to show
        previous = row
    return [pair for pair in keyed if pair is not None]


def _same_action(earlier: dict, later: dict) -> bool:
    # ManyToManyField.set() removes, then adds, and simple-history records each half; the
    # halves (same person, same address, moments apart) read as one change of the set.
    return (
        earlier["history_user_id"] == later["history_user_id"]
        and earlier["ip_address"] == later["ip_address"]
        and later["history_date"] - earlier["history_date"] <= SAME_ACTION
    )


def _entry(row: dict, subject: str, kind: str, changes: list[Change], names: _Names) -> Entry:
    actions = {"+": gettext("新增"), "~": gettext("修改"), "-": gettext("删除")}
    return Entry(
        at=row["history_date"],
        user=names.user(row["history_user_id"]),
        ip_address=row["ip_address"],
        subject=subject,
        action=actions[kind],
        changes=changes,
        reason=row["history_change_reason"] or "",
    )


def _changes(fields: list[models.Field], old: dict | None, new: dict | None, names: _Names) -> list[Change]:
    changes = []
    for field in fields:
        # Displayed values are compared, so 3.0900 and 3.09 are the same and empty stays quiet.
        before = _display(field, old, names)
        after = _display(field, new, names)
        if before != after:
            changes.append(Change(str(field.verbose_name), before, after))
    return changes


def _display(field: models.Field, row: dict | None, names: _Names) -> str:
    if row is None:
        return ""
    value = row[field.attname]
    if value is None or value == "":
        return ""
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if field.is_relation:
        if field.related_model is get_user_model():
            return names.user(value)
        if field.related_model is Agency:
            return names.agency(value)
        label = row.get(f"{field.name}_label")
        return label.strip() if label else f"#{value}"
    if isinstance(value, bool):
        return gettext("是") if value else gettext("否")
    if isinstance(value, decimal.Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return _display_date(value)
    return str(value)


def _display_date(value: datetime.date | None) -> str:
    return value.strftime("%Y-%m-%d") if value else ""


def _user_list(user_ids: frozenset[int], names: _Names) -> str:
    return "、".join(sorted(names.user(user_id) for user_id in user_ids))
