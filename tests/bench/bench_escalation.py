"""Time the 督办单 ladder (escalation.ladder.run, the escalation job's work) at 50,000 tasks.

Run by hand (not a test; `make bench` runs it). Target: at most 10 s for each run of the
ladder: (a) the first run of a day, which issues what the day calls for; (b) the same day
again, which finds everything issued (the steady-state cost, as when the job is retried);
(c) the next working day. Each is printed with its wall time, its SQL queries
(CaptureQueriesContext) and what it issued per level, beside references measured the same
way in the same run: a count of the active plan's tasks, the ids of its open tasks, and the
ladder's own read of the open tasks (escalation.ladder._watched's six columns).

usage: [DATABASE_URL=postgres://postgres@127.0.0.1:5432/workplans] \\
       .venv/bin/python tests/bench/bench_escalation.py [--tasks 50000] [--profile] [--keep]

The database: with DATABASE_URL set (PostgreSQL, the deployment's database) a throwaway
database of its own on that server (test_<name>_escalation, what Django's test runner would
make), created and migrated for the run and dropped at the end (--keep keeps it); without
it, SQLite in a temporary directory. The ladder writes notices, steps, audit events and
delivery rows, so every run starts from the same freshly generated data (about a minute).

The data (drawn with --seed): the city's agencies (bench_staff_pages' names: 18 commission
departments, district and city units, partner bureaus), 3 staff (one of them 审核人) and a
leader each, a supervisor and the leader in charge; one active plan for 2026 reporting
monthly by the 15th, with --tasks tasks (led by the agencies in proportion to their
weights, a third with co-owners, a fifth with a named 责任人), and an archived 2025 plan
the ladder must ignore. On Thu 18 June 2026 (pace 46 %; the Dragon Boat Festival 19–21
June, so "within 3 working days" runs to Wed 24 June):
- finished (done or closed out): 8 %; most of the open tasks on pace and not due soon;
- overdue: 4 % (60 % of them late by up to 2 weeks, the rest by 2 weeks to 3 months);
- behind the year's pace by 20–39 points: 4 %; by 40 or more: 1.2 %;
- due within 3 working days: 1.5 % (four in five of them below 80 %);
- a milestone due within 3 working days, not done: 2 % of the open tasks; up to 3 other
  milestones a task, done or later;
- held (escalation.models.Hold): 1 % of the open tasks;
- June's report (due the 15th) sent for 97 % of the open tasks (1 % draft, 2 % none), and
  the three months before for nearly all;
- 督办单 already there: blue ones unanswered past their reply deadline (0.6 %), yellow ones
  (0.4 %, on tasks behind pace), yellow ones still within their deadline (1 %, on recently
  overdue tasks), answered (1 %) and closed ones (3 %), and 25 closed-out tasks whose
  notices are still open (the ladder closes them); the counter continues their numbers;
- an indicator without readings on 30 % of the tasks (a notice's facts name it).
The calendar is workdays.seed.seed (chinesecalendar) for 2025 and 2026.

The notices' recipients are told as in production, by a job of their own: each batch that
commits queues notifications.jobs.announce_notices (notifications.receivers
.on_escalation_batch), which a worker runs beside the escalation job. Here those jobs are
kept and run after the ladder's run, timed apart ("then telling them"); queueing the
deliveries for sending is recorded instead of sent (the senders' cost is
bench_reminders'), so nothing is left on a shared broker either. --profile runs the three
days under cProfile as well (after the timed runs are printed: on a second, fresh copy of
the data) and prints the functions that take the time.
"""

import argparse
import collections
import cProfile
import datetime
import io
import logging
import os
import pstats
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench_staff_pages as city  # noqa: E402  (sets the settings module, DEBUG=0, ROOT on sys.path)

TARGET_S = 10.0
D = datetime.date
DAY = D(2026, 6, 18)  # a Thursday; the Dragon Boat Festival is the Friday to the Sunday after
YEAR = 2026
REPORT_DUE_DAY = 15
CLOSED_OUT_WITH_OPEN_NOTICES = 25
# (kind, share of the plan's tasks): what a task is on DAY, before the orthogonal extras.
KINDS = [
    ("done", 0.03),
    ("closed", 0.05),
    ("overdue", 0.04),
    ("behind_yellow", 0.04),
    ("behind_red", 0.012),
    ("due_soon", 0.015),
]
MILESTONE_SOON_SHARE = 0.02
HELD_SHARE = 0.01
INDICATOR_SHARE = 0.30
CO_OWNED_SHARE = 0.33
RESPONSIBLE_SHARE = 0.20
REPORT_SENT, REPORT_DRAFT = 0.97, 0.01
ARCHIVED_TASKS_SHARE = 0.05


# --- The data -----------------------------------------------------------------------------------


def agency_specs():
    """(name, short name, weight as a lead) of every agency under and beside the commission."""
    specs = [(name, short, weight) for name, short, weight in city.DEPARTMENTS]
    for district in city.DISTRICTS:
        for unit in city.DISTRICT_UNITS:
            specs.append((f"{city.CITY}{district}{unit}", f"{district}{unit[:2]}", 0.6))
    for unit in city.CITY_UNITS:
        specs.append((f"{city.CITY}{unit}", unit, 1.2))
    for partner in city.PARTNERS:
        specs.append((f"{city.CITY}{partner}", partner, 0.4))
    return specs


class Builder:
    """Writes the data set with bulk_create (PostgreSQL or SQLite)."""

    def __init__(self, n_tasks: int, seed: int):
        self.n_tasks = n_tasks
        self.rng = random.Random(seed)
        self.counts: Counter = Counter()

    def log(self, what: str, rows: int, started: float) -> None:
        print(f"  {what:<40} {rows:>9,} rows  {time.perf_counter() - started:6.1f} s", flush=True)

    def run(self) -> dict:
        from django.db import transaction

        with transaction.atomic():
            self.calendar()
            self.people()
            self.plans()
            self.tasks()
            self.extras()
            self.reports()
            self.notices()
        return self.counts

    def calendar(self):
        from workdays import seed
        from workdays.choices import DayKind
        from workdays.models import CalendarDay

        started = time.perf_counter()
        if seed.package_available():
            result = seed.seed([YEAR - 1, YEAR])
            rows = result.total_written
        else:  # the package is optional at run time: the days this benchmark crosses
            days = [D(2026, 6, 19), D(2026, 6, 20), D(2026, 6, 21)]
            CalendarDay.objects.bulk_create([CalendarDay(date=d, kind=DayKind.HOLIDAY, name="端午节") for d in days])
            rows = len(days)
        self.log("working-day calendar (workdays.seed)", rows, started)

    def people(self):
        from accounts.choices import AgencyLevel
        from accounts.models import Agency, User
        from core.roles import Role

        started = time.perf_counter()
        self.commission = Agency.objects.create(
            name=f"{city.CITY}卫生健康委员会", short_name="市卫生健康委", level=AgencyLevel.CITY
        )
        specs = agency_specs()
        agencies = Agency.objects.bulk_create(
            [
                Agency(name=name, short_name=short, parent=self.commission, level=AgencyLevel.DEPARTMENT, order=i)
                for i, (name, short, _w) in enumerate(specs)
            ]
        )
        self.agencies = [a.pk for a in agencies]
        self.weights = [w for _n, _s, w in specs]
        users = []
        for agency in agencies:
            for k in range(3):
                users.append(
                    User(
                        username=f"staff_{agency.pk}_{k}",
                        full_name=f"经办人{agency.pk}-{k}",
                        role=Role.STAFF,
                        agency=agency,
                        is_unit_reviewer=k == 0,
                        password="!",
                    )
                )
            users.append(
                User(username=f"leader_{agency.pk}", full_name=f"负责人{agency.pk}", role=Role.LEADER, agency=agency)
            )
        users.append(User(username="bench_leader", full_name="分管领导", role=Role.LEADER, agency=self.commission))
        users.append(
            User(username="bench_supervisor", full_name="督查室", role=Role.SUPERVISOR, agency=self.commission)
        )
        for user in users:
            user.password = "!"
        users = User.objects.bulk_create(users)
        self.staff = defaultdict(list)
        for user in users:
            if user.role == Role.STAFF:
                self.staff[user.agency_id].append(user.pk)
        self.leader, self.supervisor = users[-2], users[-1]
        self.log("agencies and people", len(agencies) + 1 + len(users), started)

    def plans(self):
        from workplans.choices import PlanStatus, ReportingCycle
        from workplans.models import Plan, Section

        self.plan = Plan.objects.create(
            title=f"{YEAR}年{city.CITY}卫生健康工作要点",
            year=YEAR,
            issuer=self.commission,
            status=PlanStatus.ACTIVE,
            reporting_cycle=ReportingCycle.MONTHLY,
            report_due_day=REPORT_DUE_DAY,
            leader_in_charge=self.leader,
        )
        self.archived = Plan.objects.create(
            title=f"{YEAR - 1}年{city.CITY}卫生健康工作要点",
            year=YEAR - 1,
            issuer=self.commission,
            status=PlanStatus.ARCHIVED,
        )
        labels = "一二三四五六七八九十"
        self.sections = Section.objects.bulk_create(
            [
                Section(plan=self.plan, label=labels[i % 10] + ("" if i < 10 else "（续）"), title=city.TOPICS[i])
                for i in range(20)
            ]
        )

    def tasks(self):
        from tasks.choices import OwnerRole, TaskStatus
        from tasks.models import Task, TaskOwner

        started = time.perf_counter()
        rng = self.rng
        cumulative = []
        total = 0.0
        for kind, share in KINDS:
            total += share
            cumulative.append((total, kind))
        self.kind_of: dict[int, str] = {}
        self.lead_of: dict[int, int] = {}
        self.due_of: dict[int, datetime.date] = {}
        lead_weights = list(self.weights)
        tasks, kinds = [], []
        for i in range(self.n_tasks):
            draw = rng.random()
            kind = next((k for edge, k in cumulative if draw < edge), "on_pace")
            due_on, percent, status = self.shape(kind)
            section = self.sections[i % len(self.sections)]
            heading = f"{rng.choice(city.VERBS)}{rng.choice(city.TOPICS)}{rng.choice(city.SUFFIXES)}"
            tasks.append(
                Task(
                    plan=self.plan,
                    section=section,
                    number=str(i // len(self.sections) + 1),
                    heading=heading,
                    text=rng.choice(city.SENTENCES),
                    due_on=due_on,
                    baseline_due_on=due_on,
                    status=status,
                    percent=percent,
                    order=i,
                    completed_on=due_on if status in (TaskStatus.DONE, TaskStatus.CLOSED) else None,
                )
            )
            kinds.append(kind)
        n_archived = int(self.n_tasks * ARCHIVED_TASKS_SHARE)
        for i in range(n_archived):  # last year's plan, open tasks left in it: not the ladder's
            tasks.append(
                Task(
                    plan=self.archived,
                    number=str(i + 1),
                    heading=f"{rng.choice(city.VERBS)}{rng.choice(city.TOPICS)}",
                    due_on=D(YEAR - 1, 12, 31),
                    status=TaskStatus.IN_PROGRESS,
                    percent=rng.randint(10, 90),
                    order=i,
                )
            )
            kinds.append("archived")
        tasks = Task.objects.bulk_create(tasks, batch_size=5000)
        self.log("tasks", len(tasks), started)

        started = time.perf_counter()
        owners, responsible = [], []
        through = Task.responsible_users.through
        for task, kind in zip(tasks, kinds, strict=True):
            lead = rng.choices(self.agencies, lead_weights)[0]
            self.kind_of[task.pk] = kind
            self.lead_of[task.pk] = lead
            self.due_of[task.pk] = task.due_on
            self.counts[kind] += 1
            owners.append(TaskOwner(task_id=task.pk, agency_id=lead, role=OwnerRole.LEAD, order=0))
            if rng.random() < CO_OWNED_SHARE:
                others = rng.sample([a for a in self.agencies if a != lead], rng.choice([1, 1, 2]))
                for order, agency in enumerate(others, start=1):
                    owners.append(TaskOwner(task_id=task.pk, agency_id=agency, role=OwnerRole.CO_OWNER, order=order))
            if rng.random() < RESPONSIBLE_SHARE:
                responsible.append(through(task_id=task.pk, user_id=rng.choice(self.staff[lead])))
        TaskOwner.objects.bulk_create(owners, batch_size=5000)
        through.objects.bulk_create(responsible, batch_size=5000)
        self.log("owners and 责任人", len(owners) + len(responsible), started)
        self.open_ids = [pk for pk, kind in self.kind_of.items() if kind not in ("done", "closed", "archived")]

    def shape(self, kind: str) -> tuple[datetime.date, int, str]:
        """(due date, percent, status) of a task of `kind` on DAY."""
        from tasks.choices import TaskStatus

        rng = self.rng
        if kind in ("done", "closed"):
            return D(YEAR, rng.randint(1, 6), rng.randint(1, 28)), 100, kind
        if kind == "overdue":
            late = rng.randint(1, 14) if rng.random() < 0.6 else rng.randint(15, 90)
            return DAY - datetime.timedelta(days=late), rng.randint(40, 95), TaskStatus.IN_PROGRESS
        if kind == "behind_yellow":  # 20–39 points behind a pace of 46 %
            return D(YEAR, 12, 31), rng.randint(8, 25), rng.choice([TaskStatus.IN_PROGRESS, TaskStatus.LAGGING])
        if kind == "behind_red":
            percent = rng.randint(0, 5)
            status = TaskStatus.NOT_STARTED if percent == 0 else TaskStatus.LAGGING
            return D(YEAR, 12, 31), percent, status
        if kind == "due_soon":  # Thu 18 to Wed 24 June
            due = rng.choice([D(2026, 6, 18), D(2026, 6, 22), D(2026, 6, 23), D(2026, 6, 24)])
            return due, rng.randint(50, 79) if rng.random() < 0.8 else rng.randint(80, 95), TaskStatus.IN_PROGRESS
        # On pace: due later in the year (some at the end of a quarter), 30 % or more done.
        due = rng.choice([D(YEAR, 12, 31)] * 6 + [D(YEAR, 9, 30), D(YEAR, 10, 31), D(YEAR, 11, 30)])
        return due, rng.randint(30, 95), TaskStatus.IN_PROGRESS

    def extras(self):
        """Milestones, indicators and holds."""
        from escalation.models import Hold
        from indicators.models import Indicator
        from tasks.models import Milestone

        started = time.perf_counter()
        rng = self.rng
        milestones, indicators, holds = [], [], []
        horizon = [D(2026, 6, 18), D(2026, 6, 22), D(2026, 6, 23), D(2026, 6, 24)]
        for pk in self.open_ids:
            for order in range(rng.randint(0, 3)):
                due = D(YEAR, rng.randint(1, 12), rng.randint(1, 28))
                if DAY <= due <= horizon[-1]:
                    due += datetime.timedelta(days=30)
                done = due < DAY and rng.random() < 0.85
                milestones.append(
                    Milestone(
                        task_id=pk,
                        due_on=due,
                        baseline_due_on=due,
                        text=rng.choice(city.MILESTONE_TEXTS),
                        done_on=due if done else None,
                        order=order,
                    )
                )
            if rng.random() < MILESTONE_SOON_SHARE:
                due = rng.choice(horizon)
                milestones.append(Milestone(task_id=pk, due_on=due, baseline_due_on=due, text="完成中期评估", order=9))
                self.counts["milestone due soon"] += 1
            if rng.random() < INDICATOR_SHARE:
                name, comparator, unit = rng.choice(city.INDICATOR_KINDS)
                indicators.append(
                    Indicator(
                        plan=self.plan,
                        task_id=pk,
                        name=name,
                        comparator=comparator,
                        target=rng.randint(60, 95),
                        unit=unit,
                    )
                )
            if rng.random() < HELD_SHARE:
                holds.append(
                    Hold(
                        task_id=pk,
                        reason="延期申请审批中",
                        until=rng.choice([None, D(2026, 7, 31)]),
                        held_by=self.supervisor,
                    )
                )
        Milestone.objects.bulk_create(milestones, batch_size=5000)
        Indicator.objects.bulk_create(indicators, batch_size=5000)
        Hold.objects.bulk_create(holds, batch_size=5000)
        self.held = {hold.task_id for hold in holds}
        self.counts["held"] = len(holds)
        self.log("milestones, indicators, holds", len(milestones) + len(indicators) + len(holds), started)

    def reports(self):

        from supervision.choices import ReportState
        from supervision.models import PeriodReport

        started = time.perf_counter()
        rng = self.rng
        rows = []
        months = [(m, D(YEAR, m, 1), D(YEAR, m, 28 if m == 2 else 30 if m in (4, 6) else 31)) for m in (3, 4, 5, 6)]
        sent_states = [ReportState.ACCEPTED] * 5 + [ReportState.PENDING_REVIEW]
        for pk in self.open_ids:
            author = rng.choice(self.staff[self.lead_of[pk]])
            for month, start, end in months:
                draw = rng.random()
                current = month == 6
                if draw < (REPORT_SENT if current else 0.98):
                    state = rng.choice(sent_states) if current else ReportState.ACCEPTED
                elif current and draw < REPORT_SENT + REPORT_DRAFT:
                    state = ReportState.DRAFT
                else:
                    if current:
                        self.counts["June report missing"] += 1
                    continue
                if current and state == ReportState.DRAFT:
                    self.counts["June report missing"] += 1
                submitted = None
                if state != ReportState.DRAFT:
                    submitted = datetime.datetime(YEAR, month, rng.randint(5, 15), 10, tzinfo=city.CST)
                rows.append(
                    PeriodReport(
                        task_id=pk,
                        period_start=start,
                        period_end=end,
                        period_label=f"{YEAR}年{month}月",
                        due_on=D(YEAR, month, REPORT_DUE_DAY),
                        state=state,
                        version=2 if submitted else 1,
                        revision=1 if submitted else 0,
                        author_id=author,
                        progress=rng.choice(city.NOTES),
                        submitted_at=submitted,
                        accepted_at=submitted if state == ReportState.ACCEPTED else None,
                    )
                )
        PeriodReport.objects.bulk_create(rows, batch_size=5000)
        self.log("reports (March to June)", len(rows), started)

    def notices(self):
        """The 督办单 already issued before DAY (see the module's docstring), their causes,
        and the counter continuing their numbers."""
        from django.utils import timezone

        from escalation import policy
        from escalation.choices import Cause, Level, NoticeState, Origin
        from escalation.models import Notice, NoticeCounter, RuleCause
        from tasks.models import Task

        started = time.perf_counter()
        rng = self.rng
        series = policy.series()
        drafts = []  # (task id, level, cause, key, issued on, state)
        free = [pk for pk in self.open_ids if pk not in self.held]
        rng.shuffle(free)
        by_kind = defaultdict(list)
        for pk in free:
            by_kind[self.kind_of[pk]].append(pk)
        on_pace = by_kind["on_pace"]
        n = len(self.open_ids)

        def take(pool, share):
            count = int(n * share)
            chosen, pool[:] = pool[:count], pool[count:]
            return chosen

        for pk in take(on_pace, 0.006):  # blue for May's late report, unanswered since 3 June
            drafts.append((pk, Level.BLUE, Cause.REPORT_LATE, f"report:{YEAR}-05-01", D(2026, 5, 27), "ignored"))
        for pk in take(by_kind["behind_yellow"], 0.004):  # yellow for the pace, unanswered since 15 June
            drafts.append((pk, Level.YELLOW, Cause.BEHIND, f"behind:{YEAR}", D(2026, 6, 10), "ignored"))
        recent = [pk for pk in by_kind["overdue"] if (DAY - self.due_of[pk]).days <= 5]
        for pk in take(recent, 0.01):  # yellow for being overdue, issued yesterday
            drafts.append((pk, Level.YELLOW, Cause.OVERDUE, f"overdue:{self.due_of[pk]}", D(2026, 6, 17), "open"))
        for pk in take(on_pace, 0.01):  # blue for April's report, answered
            drafts.append((pk, Level.BLUE, Cause.REPORT_LATE, f"report:{YEAR}-04-01", D(2026, 4, 27), "answered"))
        for pk in take(on_pace, 0.03):  # blue for March's report, closed
            drafts.append((pk, Level.BLUE, Cause.REPORT_LATE, f"report:{YEAR}-03-01", D(2026, 3, 26), "closed"))
        closed_out = [pk for pk, kind in self.kind_of.items() if kind == "closed"][:CLOSED_OUT_WITH_OPEN_NOTICES]
        for pk in closed_out:  # closed out, its notice still open: the ladder closes it
            drafts.append((pk, Level.BLUE, Cause.REPORT_LATE, f"report:{YEAR}-05-01", D(2026, 5, 27), "open"))

        states = {
            "ignored": NoticeState.ISSUED,
            "open": NoticeState.ISSUED,
            "answered": NoticeState.ANSWERED,
            "closed": NoticeState.CLOSED,
        }
        co_owners = defaultdict(list)
        for task_id, agency_id in Task.owners.through.objects.filter(
            task_id__in=[d[0] for d in drafts], role="co_owner"
        ).values_list("task_id", "agency_id"):
            co_owners[task_id].append(agency_id)
        notices = []
        drafts.sort(key=lambda d: (d[4], d[0]))
        for seq, (pk, level, cause, _key, issued_on, how) in enumerate(drafts, start=1):
            issued_at = timezone.make_aware(datetime.datetime.combine(issued_on, datetime.time(7, 30)))
            notices.append(
                Notice(
                    series=series,
                    year=YEAR,
                    seq=seq,
                    number=policy.number_text(series, YEAR, seq),
                    level=level,
                    task_id=pk,
                    agency_id=self.lead_of[pk],
                    origin=Origin.RULE,
                    causes=[cause],
                    facts="截至当日，该任务进展情况见附表。",
                    requirements=str(policy.DEFAULT_REQUIREMENTS[level]),
                    wants_evidence=level != Level.BLUE,
                    wants_plan=level == Level.RED,
                    reply_due_on=policy.default_reply_due(level, issued_on),
                    state=states[how],
                    issued_on=issued_on,
                    issued_at=issued_at,
                    answer="已按要求整改。" if how in ("answered", "closed") else "",
                    answered_at=issued_at + datetime.timedelta(days=2) if how in ("answered", "closed") else None,
                    closed_at=issued_at + datetime.timedelta(days=4) if how == "closed" else None,
                )
            )
        notices = Notice.objects.bulk_create(notices, batch_size=2000)
        copies = Notice.copied_to.through
        copies.objects.bulk_create(
            [copies(notice_id=nt.pk, agency_id=a) for nt in notices for a in co_owners.get(nt.task_id, ())],
            batch_size=5000,
        )
        RuleCause.objects.bulk_create(
            [
                RuleCause(task_id=nt.task_id, level=d[1], key=d[3], notice=nt)
                for nt, d in zip(notices, drafts, strict=True)
            ],
            batch_size=5000,
        )
        NoticeCounter.objects.create(series=series, year=YEAR, last=len(notices))
        for how in states:
            self.counts[f"notices {how}"] = sum(1 for d in drafts if d[5] == how)
        self.log("notices already issued, their causes", 2 * len(notices), started)


# --- Measuring ------------------------------------------------------------------------------------


# The functions whose time and queries each run is broken down into: (label, module, name).
# Module attributes are looked up at call time by their callers, so wrapping them here times
# every call; the lines under "write" are parts of it, the "told" lines the announce jobs'.
PHASES = [
    ("close notices of closed-out tasks", "escalation.ladder", "_close_finished"),
    ("causes_on (the day's causes)", "escalation.ladder", "causes_on"),
    ("_issued_keys (RuleCause read)", "escalation.ladder", "_issued_keys"),
    ("_open_ranks (open notices read)", "escalation.ladder", "_open_ranks"),
    ("decide", "escalation.ladder", "decide"),
    ("counter lock", "escalation.notices", "lock_counter"),
    ("_drafts (tasks loaded, facts)", "escalation.ladder", "_drafts"),
    ("  facts.figures (per notice)", "escalation.facts", "figures"),
    ("notices.write", "escalation.notices", "write"),
    ("  audit rows (one insert)", "escalation.notices", "record_many"),
    ("  supersede lower notices", "escalation.notices", "_supersede_lower"),
    ("told: steps loaded", "notifications.steps", "load"),
    ("told: recipients.issued", "escalation.recipients", "issued"),
    ("told: delivery rows", "notifications.steps", "write_escalation"),
]


class Phases:
    def __init__(self, connection):
        import importlib

        self.connection = connection
        self.stats = defaultdict(lambda: [0, 0.0, 0])  # label → calls, seconds, queries
        self.saved = []
        for label, module_name, name in PHASES:
            module = importlib.import_module(module_name)
            original = getattr(module, name)
            self.saved.append((module, name, original))
            setattr(module, name, self.wrap(label, original))

    def wrap(self, label, function):
        def timed(*args, **kwargs):
            queries = len(self.connection.queries_log)
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                entry = self.stats[label]
                entry[0] += 1
                entry[1] += time.perf_counter() - started
                entry[2] += len(self.connection.queries_log) - queries

        return timed

    def take(self) -> dict:
        taken = {label: tuple(values) for label, values in self.stats.items()}
        self.stats.clear()
        return taken

    def restore(self):
        for module, name, original in self.saved:
            setattr(module, name, original)


class Queue:
    """Stands in for core.jobs.enqueue where the notices' announcements and the deliveries
    are queued: the announcements (notifications.jobs.announce_notices, a worker's job in
    production) are kept to be run and timed apart from the ladder's run; the sends are
    counted, never sent (nothing lands on the shared Redis)."""

    def __init__(self):
        import notifications.jobs as jobs
        import notifications.receivers as receivers

        self.modules = [receivers, jobs]
        self.originals = [module.enqueue for module in self.modules]
        self.announce = jobs.announce_notices
        self.announcements: list[list[int]] = []
        self.jobs = self.deliveries = 0
        for module in self.modules:
            module.enqueue = self

    def __call__(self, job, ids, *args, **kwargs):
        if job is self.announce:
            self.announcements.append(list(ids))
            return True
        self.jobs += 1
        self.deliveries += len(ids)
        return True

    def run_announcements(self) -> tuple[float, int, int]:
        """Run the queued announce jobs as a worker would: (seconds, jobs, queries)."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        pending, self.announcements = self.announcements, []
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            for ids in pending:
                self.announce(ids)
            seconds = time.perf_counter() - started
        return seconds, len(pending), len(captured.captured_queries)

    def restore(self):
        for module, original in zip(self.modules, self.originals, strict=True):
            module.enqueue = original


SHAPES = [
    (re.compile(r"'(?:[^']|'')*'"), "?"),
    (re.compile(r"\b\d+(?:\.\d+)?\b"), "?"),
    (re.compile(r"\(\s*\?(?:\s*,\s*\?)*\s*\)"), "(?…)"),
    (re.compile(r"\(\?…\)(?:\s*,\s*\(\?…\))+"), "(?…), …"),
    (re.compile(r"\"?s\d+_x\d+\"?|_django_curs_\w+"), "<name>"),
    (re.compile(r"\s+"), " "),
]


def shape(sql: str) -> str:
    for pattern, replacement in SHAPES:
        sql = pattern.sub(replacement, sql)
    return sql.strip()


def measure_ladder(day: datetime.date, phases: Phases, queue: Queue) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from escalation import ladder

    client_ms = []

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            client_ms.append((time.perf_counter() - started) * 1000)

    phases.take()
    jobs, deliveries = queue.jobs, queue.deliveries
    with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(timed):
        started = time.perf_counter()
        result = ladder.run(day)
        seconds = time.perf_counter() - started
    queries = captured.captured_queries
    ladder_phases = phases.take()
    told_seconds, told_jobs, told_queries = queue.run_announcements()
    by_shape = defaultdict(lambda: [0, 0.0, ""])
    for query, ms in zip(queries, client_ms, strict=False):
        entry = by_shape[shape(query["sql"])]
        entry[0] += 1
        entry[1] += ms
        entry[2] = entry[2] or query["sql"]
    return {
        "day": day,
        "seconds": seconds,
        "queries": len(queries),
        "sql_ms": sum(client_ms),
        "issued": dict(result.issued),
        "closed": result.closed,
        "shapes": sorted(by_shape.items(), key=lambda item: item[1][1], reverse=True),
        "phases": ladder_phases,
        "told": {"seconds": told_seconds, "jobs": told_jobs, "queries": told_queries, "phases": phases.take()},
        "jobs": queue.jobs - jobs,
        "deliveries": queue.deliveries - deliveries,
    }


def measure_reference(label: str, work, runs: int = 3) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    work()  # warm-up
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    with CaptureQueriesContext(connection) as captured:
        rows = work()
    return {
        "label": label,
        "seconds": statistics.median(timings),
        "queries": len(captured.captured_queries),
        "rows": rows,
    }


def build_database(args) -> dict:
    from django.db import connection

    started = time.perf_counter()
    print(f"data: {args.tasks:,} tasks in one active plan (seed {args.seed}) …")
    counts = Builder(args.tasks, args.seed).run()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # as autovacuum would have, long before the morning's run
    print(f"data: made in {time.perf_counter() - started:.1f} s")
    return counts


def describe(counts: dict, n_tasks: int) -> None:
    order = ["on_pace", "done", "closed", "overdue", "behind_yellow", "behind_red", "due_soon", "archived"]
    print(
        "      plan tasks by kind on "
        + DAY.isoformat()
        + ": "
        + ", ".join(f"{kind} {counts.get(kind, 0):,} ({100 * counts.get(kind, 0) / n_tasks:.1f} %)" for kind in order)
    )
    extras = [
        "milestone due soon",
        "held",
        "June report missing",
        "notices ignored",
        "notices open",
        "notices answered",
        "notices closed",
    ]
    print("      and: " + ", ".join(f"{name} {counts.get(name, 0):,}" for name in extras))


def run_days(label: str) -> list[dict]:
    """The three runs, timed with their queries counted."""
    from django.db import connection

    from workdays.services import next_working_day

    # The queries of one run are all kept (Django keeps 9,000 by default).
    connection.queries_limit = 10_000_000
    connection.queries_log = collections.deque(maxlen=connection.queries_limit)
    phases, queue = Phases(connection), Queue()
    try:
        next_day = next_working_day(DAY + datetime.timedelta(days=1))
        runs = [
            ("(a) first run, " + DAY.strftime("%a %Y-%m-%d") + " (issuing)", DAY),
            ("(b) the same day again (steady state)", DAY),
            ("(c) next working day, " + next_day.strftime("%a %Y-%m-%d"), next_day),
        ]
        results = []
        for name, day in runs:
            result = measure_ladder(day, phases, queue)
            result["label"] = name
            results.append(result)
            print(
                f"{label}{name}: {result['seconds']:.2f} s, {result['queries']:,} queries, issued "
                + ", ".join(f"{lvl} {n:,}" for lvl, n in result["issued"].items())
                + f", closed {result['closed']}; then {result['told']['jobs']} announce jobs "
                + f"{result['told']['seconds']:.2f} s, {result['told']['queries']:,} queries, "
                + f"{result['deliveries']:,} deliveries queued in {result['jobs']} send jobs",
                flush=True,
            )
        return results
    finally:
        phases.restore()
        queue.restore()


def print_breakdown(result: dict, args) -> None:
    print(
        f"\n{result['label']}: {result['seconds']:.2f} s wall, {result['queries']:,} queries, "
        f"{result['sql_ms'] / 1000:.2f} s of it waiting for SQL (client-side)"
    )
    print(f"  {'where the time goes':<40} {'calls':>7} {'seconds':>9} {'queries':>9}")
    for label, _module, _name in PHASES:
        if label in result["phases"]:
            calls, seconds, queries = result["phases"][label]
            print(f"  {label:<40} {calls:>7,} {seconds:>9.2f} {queries:>9,}")
    told = result["told"]
    print(f"  then, on the workers: {told['jobs']} announce jobs, {told['seconds']:.2f} s, {told['queries']:,} queries")
    for label, _module, _name in PHASES:
        if label in told["phases"]:
            calls, seconds, queries = told["phases"][label]
            print(f"    {label:<38} {calls:>7,} {seconds:>9.2f} {queries:>9,}")
    print(f"  costliest query shapes of the ladder's run (of {len(result['shapes'])}):")
    for sql_shape, (count, ms, example) in result["shapes"][: args.show]:
        sql = city.shorten(example if count == 1 else sql_shape, args.sql_chars)
        print(f"    {count:>6,} × {ms / 1000:7.2f} s  {sql}")


def profile_days(args) -> None:
    """The same three runs under cProfile, on a fresh copy of the data."""
    print("\nprofile: the data made again, the three runs under cProfile (times inflated by the profiler)")
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)
    from workdays.services import forget

    forget()
    build_database(args)
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        run_days("profiled ")
    finally:
        profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
    stats.print_stats(r"(escalation|notifications|audit|workdays|supervision|tasks|indicators)/", args.profile_lines)
    print(out.getvalue())
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(args.profile_lines)
    print(out.getvalue())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=50_000, help="tasks in the active plan")
    parser.add_argument("--seed", type=int, default=20260618)
    parser.add_argument("--show", type=int, default=6, help="costliest query shapes shown per run")
    parser.add_argument("--sql-chars", type=int, default=220, help="SQL shown per query, in characters")
    parser.add_argument("--profile", action="store_true", help="then the three runs again under cProfile")
    parser.add_argument("--profile-lines", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="keep the database (PostgreSQL) at the end")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_databases, setup_test_environment, teardown_databases

    from escalation import ladder
    from tasks.choices import FINISHED
    from tasks.models import Task

    logging.getLogger("audit").setLevel(logging.WARNING)  # not a JSON line per notice on the terminal
    db = settings.DATABASES["default"]
    db.setdefault("TEST", {})
    if db["ENGINE"].endswith("sqlite3"):
        db["TEST"]["NAME"] = os.path.join(tempfile.mkdtemp(prefix="bench_escalation_"), "bench.sqlite3")
    else:
        db["TEST"]["NAME"] = f"test_{db['NAME']}_escalation"
    setup_test_environment()
    started = time.perf_counter()
    old = setup_databases(verbosity=0, interactive=False)
    print(
        f"database: {connection.vendor} ({connection.settings_dict['NAME']}), created and migrated in "
        f"{time.perf_counter() - started:.1f} s; DEBUG={settings.DEBUG}, cache "
        f"{settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]}"
    )
    try:
        counts = build_database(args)
        describe(counts, args.tasks)
        load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
        print(f"timing: one run each, queries recorded (load average {load} on {os.cpu_count()} CPUs)")
        results = run_days("")

        active = Task.objects.filter(plan__status="active")
        references = [
            measure_reference("ref: Task.objects.filter(plan__status='active').count()", lambda: active.count()),
            measure_reference(
                "ref: ids of the open tasks of active plans",
                lambda: len(list(active.exclude(status__in=FINISHED).values_list("pk", flat=True))),
            ),
            measure_reference(
                "ref: the ladder's task read (_watched, 6 columns)",
                lambda: len(
                    list(
                        ladder._watched(DAY)
                        .values_list(
                            "pk", "due_on", "percent", "plan__year", "plan__reporting_cycle", "plan__report_due_day"
                        )
                        .iterator(chunk_size=5000)
                    )
                ),
            ),
        ]

        for result in results:
            print_breakdown(result, args)

        width = 56
        levels = f"{'blue':>6} {'yellow':>6} {'red':>6}"
        print(f"\n{city.pad('measurement (the escalation job)', width)} {'wall':>9} {'queries':>8}  {levels}  target")
        for result in results:
            verdict = "PASS" if result["seconds"] <= TARGET_S else "FAIL"
            issued = result["issued"]
            print(
                f"{city.pad(result['label'], width)} {result['seconds']:>7.2f} s {result['queries']:>8,}  "
                f"{issued['blue']:>6,} {issued['yellow']:>6,} {issued['red']:>6,}  ≤ {TARGET_S:.0f} s {verdict}"
            )
            told = result["told"]
            if told["jobs"]:
                print(
                    f"{city.pad('  then telling them (announce jobs, on the workers)', width)} "
                    f"{told['seconds']:>7.2f} s {told['queries']:>8,}  {told['jobs']:>6} jobs"
                )
        for ref in references:
            print(
                f"{city.pad(ref['label'], width)} {ref['seconds']:>7.2f} s {ref['queries']:>8,}  "
                f"{ref['rows']:>6,} rows{'':>8}  (reference)"
            )
        if args.profile:
            profile_days(args)
    finally:
        if args.keep and connection.vendor == "postgresql":
            print(f"kept the database {connection.settings_dict['NAME']}")
        else:
            teardown_databases(old, verbosity=0)


if __name__ == "__main__":
    main()
