"""Which reminders a day calls for, and to whom: the scan.

`scan(day)` looks at what is due on `day` (a calendar day in Asia/Shanghai) and writes one
`Delivery` row per reminder, recipient and channel. It never sends anything. The rows'
unique keys make it safe to run any number of times, concurrently too: a second run finds
its rows already there and inserts nothing.

Who hears about what:
- a task or milestone due in 7 and in 1 days, or overdue (daily for a week, then weekly):
  the task's 责任人, or, where none are named, the lead agency's staff;
- this cycle's report not yet in, 3 and 1 days before the plans' due day and on the day:
  everyone who owes a report for a task (the task's 责任人, or the staff of its lead and
  co-owner agencies), once for all their plans with that due day, with how many tasks
  and plans they owe;
- this cycle's co-owner input (配合单位反馈) not yet given, some working days before the
  co-owners' due day (supervision.deadlines.co_owner_due): the co-owner agency's staff,
  once per agency and due day, with how many tasks;
- the weekly digest: every leader, over the agencies they oversee (written by a job per
  leader, `write_digest`, which the scan queues).
Each user gets the inbox, plus email if they want it and have an address; an agency's
group robot speaks when one of the agency's recipients asked for that channel, and
@-mentions them.

On a day off (workdays.services: a weekend not worked, an official holiday) only what
cannot wait is written (`waits_for_a_working_day`), and the weekly digest comes on the
week's first working day from its weekday on.
"""

import dataclasses
import datetime
from collections import defaultdict
from collections.abc import Iterable, Iterator

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from core.roles import Role
from notifications.choices import ROBOT_CHANNELS, Channel, DeliveryState, Rule
from notifications.digest import leader_digest
from notifications.models import REMINDER_KEY, Delivery, Preference, Robot
from notifications.sql import adapt, id_set, insert_rows
from supervision.choices import InputState
from supervision.deadlines import co_owner_due
from supervision.models import CoOwnerInput
from tasks.choices import FINISHED, OwnerRole
from tasks.models import Milestone, Task, TaskOwner
from tasks.services import owed_this_cycle_q, owes_reports_q
from workdays.services import add_working_days, is_working_day
from workplans.choices import PlanStatus
from workplans.cycles import cycle_for
from workplans.models import Plan

# Co-owners are chased this many working days before their input is due, unless
# REMINDERS["co_owner_working_days_before"] says otherwise.
CO_OWNER_WORKING_DAYS_BEFORE = 2

# How far back the overdue rule looks: a task a year and a half late has been chased enough.
OVERDUE_HORIZON_DAYS = 550


def policy() -> dict:
    return settings.REMINDERS


@dataclasses.dataclass
class Occurrence:
    """One reminder to be given: its key without recipient and channel, and who gets it
    (user id → what that user's message says beyond the key, e.g. how many tasks they owe)."""

    rule: str
    object_id: int
    due_on: datetime.date
    day_offset: int
    task_id: int | None = None
    recipients: dict[int, dict] = dataclasses.field(default_factory=dict)
    urgent: bool = False

    @property
    def reminder(self) -> tuple:
        """The values of REMINDER_KEY for this reminder, in its order."""
        return tuple(getattr(self, field) for field in REMINDER_KEY)


# --- The calendar of each rule ----------------------------------------------------------


def is_overdue_reminder_day(days_late: int, rules: dict | None = None) -> bool:
    """Daily for the first `overdue_daily_days`, then every `overdue_then_every_days`."""
    rules = rules or policy()
    daily, every = rules["overdue_daily_days"], rules["overdue_then_every_days"]
    if days_late < 1:
        return False
    return days_late <= daily or (days_late - daily) % every == 0


def _watched_due_dates(day: datetime.date) -> dict[datetime.date, int]:
    """Due dates that call for a reminder on `day`, each with its day offset (negative:
    days before the due date; positive: days late)."""
    rules = policy()
    dates = {day + datetime.timedelta(days=n): -n for n in rules["due_days_before"] if n > 0}
    for late in range(1, OVERDUE_HORIZON_DAYS + 1):
        if is_overdue_reminder_day(late, rules):
            dates[day - datetime.timedelta(days=late)] = late
    return dates


def waits_for_a_working_day(occurrence: Occurrence) -> bool:
    """Whether a reminder is left out on a day off (it is not sent later either: the next
    working day has reminders of its own). Urgent ones still go: a deadline tomorrow or a
    report due today (`urgent`), and anything overdue, which is late whatever the day.
    Heads-up reminders (due in 7 days, a report due in 3 or 1) and the digest wait; the
    1-day reminder before a deadline is still sent, so no deadline passes unannounced.
    Security alerts do not come through the scan at all (notifications.alerts): they are
    sent at once, any day."""
    return not (occurrence.urgent or occurrence.rule in (Rule.TASK_OVERDUE, Rule.MILESTONE_OVERDUE))


def _is_urgent(rule: str, day_offset: int) -> bool:
    # Due tomorrow, or a report due today: these do not wait for quiet hours to end.
    if rule in (Rule.TASK_DUE, Rule.MILESTONE_DUE):
        return day_offset == -1
    return rule == Rule.REPORT_DUE and day_offset == 0


# --- Who owes what ----------------------------------------------------------------------


def _task_recipients(task_ids: Iterable[int], *, co_owners: bool) -> dict[int, set[int]]:
    """For each task, who is reminded: its 责任人, or the staff of its lead agency (and of
    its co-owners, when `co_owners`). Three queries, whatever the number of tasks."""
    task_ids = list(task_ids)
    responsible: dict[int, set[int]] = defaultdict(set)
    through = Task.responsible_users.through
    for task_id, user_id in through.objects.filter(task_id__in=id_set(task_ids), user__is_active=True).values_list(
        "task_id", "user_id"
    ):
        responsible[task_id].add(user_id)

    owners = TaskOwner.objects.filter(task_id__in=id_set(t for t in task_ids if t not in responsible))
    if not co_owners:
        owners = owners.filter(role=OwnerRole.LEAD)
    agencies_of: dict[int, set[int]] = defaultdict(set)
    for task_id, agency_id in owners.order_by().values_list("task_id", "agency_id"):
        agencies_of[task_id].add(agency_id)
    staff: dict[int, set[int]] = defaultdict(set)
    wanted = set().union(*agencies_of.values()) if agencies_of else set()
    for user_id, agency_id in User.objects.filter(agency_id__in=wanted, role=Role.STAFF, is_active=True).values_list(
        "id", "agency_id"
    ):
        staff[agency_id].add(user_id)

    result = {}
    for task_id in task_ids:
        if task_id in responsible:
            result[task_id] = responsible[task_id]
        else:
            result[task_id] = set().union(*(staff[a] for a in agencies_of.get(task_id, ())))
    return result


def _task_occurrences(day: datetime.date) -> list[Occurrence]:
    watched = _watched_due_dates(day)
    # The tasks units report on (tasks.services.owes_reports_q): one marked 无需填报
    # (reporting_exempt) is reminded of nothing, its milestones neither.
    open_tasks = Task.objects.filter(owes_reports_q())
    found: list[Occurrence] = []
    for task_id, due_on in open_tasks.filter(due_on__in=list(watched)).order_by().values_list("id", "due_on"):
        offset = watched[due_on]
        rule = Rule.TASK_DUE if offset < 0 else Rule.TASK_OVERDUE
        found.append(Occurrence(rule, task_id, due_on, offset, task_id=task_id, urgent=_is_urgent(rule, offset)))

    milestones = (
        Milestone.objects.filter(done_on__isnull=True, due_on__in=list(watched), task__in=open_tasks.values("pk"))
        .order_by()
        .values_list("id", "task_id", "due_on", "task__due_on")
    )
    for milestone_id, task_id, due_on, task_due_on in milestones:
        if due_on == task_due_on:
            continue  # the task's own reminder says it already
        offset = watched[due_on]
        rule = Rule.MILESTONE_DUE if offset < 0 else Rule.MILESTONE_OVERDUE
        found.append(Occurrence(rule, milestone_id, due_on, offset, task_id=task_id, urgent=_is_urgent(rule, offset)))

    recipients = _task_recipients({o.task_id for o in found}, co_owners=False)
    for occurrence in found:
        occurrence.recipients = {user_id: {} for user_id in recipients.get(occurrence.task_id, ())}
    return found


def _active_plans() -> list[tuple[int, str, int]]:
    """(id, reporting cycle, due day) of the active plans: read once per scan for the rules
    that follow the reporting cycles."""
    return list(Plan.objects.filter(status=PlanStatus.ACTIVE).values_list("id", "reporting_cycle", "report_due_day"))


def _report_occurrences(day: datetime.date, plans: list[tuple[int, str, int]]) -> list[Occurrence]:
    days_before = set(policy()["report_days_before"])
    due_plans: dict[int, datetime.date] = {}
    for plan_id, cycle_kind, due_day in plans:
        cycle = cycle_for(cycle_kind, due_day, day)
        if (cycle.due_on - day).days in days_before:
            due_plans[plan_id] = cycle.due_on
    if not due_plans:
        return []

    owed_tasks = Task.objects.filter(plan_id__in=due_plans).filter(owed_this_cycle_q(day)).order_by()
    owed = list(owed_tasks.values_list("id", "plan_id"))
    recipients = _task_recipients((task_id for task_id, _ in owed), co_owners=True)
    # One reminder per person and due date, however many plans and tasks: "you owe N
    # reports across M plans". It belongs to the person's agency, so the agency's group
    # robot says it once for all of them.
    owes: dict[tuple, dict[str, set[int]]] = defaultdict(lambda: {"tasks": set(), "plans": set()})
    for task_id, plan_id in owed:
        for user_id in recipients.get(task_id, ()):
            owes[(due_plans[plan_id], user_id)]["tasks"].add(task_id)
            owes[(due_plans[plan_id], user_id)]["plans"].add(plan_id)
    agency_of = dict(User.objects.filter(pk__in={user_id for _, user_id in owes}).values_list("id", "agency_id"))
    found: dict[tuple[datetime.date, int], Occurrence] = {}
    for (due_on, user_id), what in owes.items():
        agency_id = agency_of.get(user_id)
        if agency_id is None:
            continue
        offset = (day - due_on).days
        occurrence = found.setdefault(
            (due_on, agency_id),
            Occurrence(Rule.REPORT_DUE, agency_id, due_on, offset, urgent=_is_urgent(Rule.REPORT_DUE, offset)),
        )
        occurrence.recipients[user_id] = {"owed": len(what["tasks"]), "plans": len(what["plans"])}
    return list(found.values())


def _co_owner_cycles(
    day: datetime.date, plans: list[tuple[int, str, int]]
) -> dict[int, tuple[datetime.date, datetime.date]]:
    """Active plans whose co-owners are chased on `day`: plan → (cycle start, co-owners'
    due day). The co-owners' due day may fall in the cycle before the lead's, so the next
    cycle is looked at too."""
    before = int(policy().get("co_owner_working_days_before", CO_OWNER_WORKING_DAYS_BEFORE))
    found = {}
    for plan_id, cycle_kind, due_day in plans:
        cycle = cycle_for(cycle_kind, due_day, day)
        for candidate in (cycle, cycle_for(cycle_kind, due_day, cycle.end + datetime.timedelta(days=1))):
            due_on = co_owner_due(candidate.due_on)
            if due_on >= day and add_working_days(due_on, -before) == day:
                found[plan_id] = (candidate.start, due_on)
    return found


def _co_owner_occurrences(day: datetime.date, plans: list[tuple[int, str, int]]) -> list[Occurrence]:
    """Co-owner agencies that have not submitted this cycle's input: one reminder per
    agency and due day to its active staff, with how many tasks it owes input on."""
    cycles = _co_owner_cycles(day, plans)
    if not cycles:
        return []
    owners = (
        TaskOwner.objects.filter(role=OwnerRole.CO_OWNER, task__plan_id__in=cycles, task__reporting_exempt=False)
        .exclude(task__status__in=FINISHED)
        .order_by()
        .values_list("task_id", "agency_id", "task__plan_id")
    )
    owners = list(owners)
    given = set(
        CoOwnerInput.objects.filter(task_id__in={t for t, _a, _p in owners}, state=InputState.SUBMITTED)
        .order_by()
        .values_list("task_id", "agency_id", "period_start")
    )
    owed: dict[tuple[int, datetime.date], set[int]] = defaultdict(set)
    for task_id, agency_id, plan_id in owners:
        start, due_on = cycles[plan_id]
        if (task_id, agency_id, start) not in given:
            owed[(agency_id, due_on)].add(task_id)
    staff: dict[int, list[int]] = defaultdict(list)
    for user_id, agency_id in User.objects.filter(
        agency_id__in={agency_id for agency_id, _d in owed}, role=Role.STAFF, is_active=True
    ).values_list("id", "agency_id"):
        staff[agency_id].append(user_id)
    found = []
    for (agency_id, due_on), task_ids in owed.items():
        recipients = {user_id: {"owed": len(task_ids)} for user_id in staff[agency_id]}
        if recipients:
            found.append(Occurrence(Rule.CO_OWNER_DUE, agency_id, due_on, (day - due_on).days, recipients=recipients))
    return found


def digests_due(day: datetime.date) -> list[int]:
    """Leaders whose weekly digest `day` calls for and who do not have it yet. Each is
    computed by a job of its own (write_digest), so a city's leaders are done in parallel
    and the scan stays quick."""
    if not is_digest_day(day):
        return []
    done = Delivery.objects.filter(rule=Rule.LEADER_DIGEST, due_on=day, day_offset=0, channel=Channel.INBOX)
    return list(
        User.objects.filter(role=Role.LEADER, is_active=True, agency__isnull=False)
        .exclude(pk__in=done.values("object_id"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def is_digest_day(day: datetime.date) -> bool:
    """The digest's weekday, or, when that is a day off, the first working day after it in
    the same week (a holiday Monday moves it to Tuesday; a week off, to its first working day)."""
    weekday = policy()["digest_weekday"]
    if day.isoweekday() < weekday or not is_working_day(day):
        return False
    earlier = day - datetime.timedelta(days=day.isoweekday() - weekday)
    while earlier < day:
        if is_working_day(earlier):
            return False
        earlier += datetime.timedelta(days=1)
    return True


def write_digest(leader_id: int, day: datetime.date, now: datetime.datetime | None = None) -> int:
    """Compute one leader's digest for `day` and write its delivery rows (once: a second
    run finds them there). Returns how many rows were new."""
    leader = User.objects.filter(pk=leader_id, role=Role.LEADER, is_active=True).first()
    if leader is None:
        return 0
    found = [Occurrence(Rule.LEADER_DIGEST, leader.pk, day, 0, recipients={leader.pk: leader_digest(leader, day)})]
    return _write(found, day, now or timezone.now())


def occurrences(day: datetime.date) -> list[Occurrence]:
    plans = _active_plans()
    return _task_occurrences(day) + _report_occurrences(day, plans) + _co_owner_occurrences(day, plans)


# --- From reminders to delivery rows ---------------------------------------------------


def _send_time(day: datetime.date, now: datetime.datetime) -> datetime.datetime:
    """When a reminder for `day` may first go out by email or robot: the day's sending
    time, or now if that has passed."""
    start = datetime.datetime.combine(day, datetime.time.fromisoformat(policy()["send_from"]))
    return max(now, timezone.make_aware(start))


def _after_quiet_hours(moment: datetime.datetime, preference: Preference) -> datetime.datetime:
    local = timezone.localtime(moment)
    if not preference.in_quiet_hours(local.time().replace(tzinfo=None)):
        return moment
    end = datetime.datetime.combine(local.date(), preference.quiet_end, tzinfo=local.tzinfo)
    if end <= local:
        end += datetime.timedelta(days=1)
    return end


# Kept on the inbox row only: what the next digest compares with.
BOOKKEEPING = ("at_risk_ids",)


def for_display(payload: dict) -> dict:
    return {k: v for k, v in payload.items() if k not in BOOKKEEPING}


def _written(found: list[Occurrence]) -> set[tuple]:
    """The rows an earlier scan already wrote for these reminders, as (rule, object_id,
    due_on, day_offset, channel, recipient_id, robot_id): one query through the unique
    indexes (they lead with rule and object_id). Beat rescans every few minutes; this
    keeps a rescan from building and offering the database every row again."""
    objects: dict[str, set[int]] = defaultdict(set)
    for occurrence in found:
        objects[occurrence.rule].add(occurrence.object_id)
    if not objects:
        return set()
    condition = Q()
    for rule, ids in objects.items():
        condition |= Q(rule=rule, object_id__in=ids)
    reminders = {occurrence.reminder for occurrence in found}
    rows = (
        Delivery.objects.filter(condition).order_by().values_list(*REMINDER_KEY, "channel", "recipient_id", "robot_id")
    )
    return {row for row in rows if row[: len(REMINDER_KEY)] in reminders}


# The columns the scan writes, in the order of the tuples `_rows` makes.
DELIVERY_COLUMNS = (
    "rule",
    "object_id",
    "due_on",
    "day_offset",
    "channel",
    "recipient_id",
    "robot_id",
    "task_id",
    "urgent",
    "payload",
    "state",
    "not_before",
    "attempts",
    "last_error",
    "created_at",
)


def _rows(
    found: list[Occurrence], day: datetime.date, now: datetime.datetime, written: set[tuple] = frozenset()
) -> Iterator[tuple]:
    """The rows `found` calls for, less those in `written`, as tuples of DELIVERY_COLUMNS'
    values ready for the database: tens of thousands at a year-end peak, so no model
    instance per row, and what is the same for many rows is worked out once."""
    user_ids = {user_id for o in found for user_id in o.recipients}
    users = {u["id"]: u for u in User.objects.filter(pk__in=user_ids).values("id", "email", "phone", "agency_id")}
    preferences = {p.user_id: p for p in Preference.objects.filter(user_id__in=user_ids)}
    robots: dict[tuple[int, str], Robot] = {
        (r.agency_id, r.kind): r
        for r in Robot.objects.filter(agency_id__in={u["agency_id"] for u in users.values()}, is_active=True)
    }
    default_preference = Preference()
    send_from = _send_time(day, now)
    # Per user, once: when their email may go out, and the robots that speak for them.
    email_at: dict[int, object] = {}
    robots_of: dict[int, list[Robot]] = {}
    for user_id, user in users.items():
        preference = preferences.get(user_id, default_preference)
        if preference.email and user["email"]:
            email_at[user_id] = adapt(_after_quiet_hours(send_from, preference))
        robots_of[user_id] = [
            robot
            for channel in ROBOT_CHANNELS
            if (robot := robots.get((user["agency_id"], channel))) is not None and preference.wants(channel)
        ]
    robot_at = adapt(_after_quiet_hours(send_from, Preference()))  # group chats keep the site's quiet hours
    urgent_at, inbox_at, created_at = adapt(send_from), adapt(now), adapt(now)
    pending, empty = DeliveryState.PENDING, adapt({})
    check = bool(written)
    due_text: dict[datetime.date, str] = {}

    for occurrence in found:
        reminder = occurrence.reminder
        rule, object_id, due_on, day_offset = reminder
        due = due_text.get(due_on) or due_text.setdefault(due_on, adapt(due_on))
        task_id, urgent = occurrence.task_id, occurrence.urgent
        mentions: dict[Robot, list[str]] = defaultdict(list)
        for user_id, extra in occurrence.recipients.items():
            user = users.get(user_id)
            if user is None:
                continue
            payload = adapt(extra) if extra else empty
            if not check or (*reminder, Channel.INBOX, user_id, None) not in written:
                yield (rule, object_id, due, day_offset, Channel.INBOX, user_id, None, task_id, urgent, payload,
                       pending, inbox_at, 0, "", created_at)  # fmt: skip
            when = email_at.get(user_id)
            if when is not None and (not check or (*reminder, Channel.EMAIL, user_id, None) not in written):
                shown = adapt(for_display(extra)) if extra else empty
                yield (rule, object_id, due, day_offset, Channel.EMAIL, user_id, None, task_id, urgent, shown,
                       pending, urgent_at if urgent else when, 0, "", created_at)  # fmt: skip
            for robot in robots_of[user_id]:
                mentions[robot].append(user["phone"])
        for robot, phones in mentions.items():
            if check and (*reminder, robot.kind, None, robot.pk) in written:
                continue
            payload = adapt({"mentions": sorted({p for p in phones if p})})
            yield (rule, object_id, due, day_offset, robot.kind, None, robot.pk, task_id, urgent, payload,
                   pending, urgent_at if urgent else robot_at, 0, "", created_at)  # fmt: skip


def scan(day: datetime.date | None = None, now: datetime.datetime | None = None) -> int:
    """Write the delivery rows `day` calls for; return how many rows were new.

    Rows already there (an earlier run today, or another process right now) are left as
    they are: the insert skips them on the unique key."""
    now = now or timezone.now()
    day = day or timezone.localdate(now)
    found = occurrences(day)
    if not is_working_day(day):
        found = [occurrence for occurrence in found if not waits_for_a_working_day(occurrence)]
    return _write(found, day, now)


def _write(found: list[Occurrence], day: datetime.date, now: datetime.datetime) -> int:
    """Insert the rows `found` calls for that are not there yet; return how many went in.
    A row another process wrote meanwhile is skipped on its unique key (ON CONFLICT DO
    NOTHING), so each reminder is written once however many scans run at once."""
    rows = list(_rows(found, day, now, _written(found)))
    with transaction.atomic():
        return insert_rows(Delivery._meta.db_table, DELIVERY_COLUMNS, rows, ignore_conflicts=True)
