"""Time the reminder jobs, a day's scan and the sending of what it made due, beside their write floor.

Run by hand or by `make bench` (tests/bench/run.py; not a test). Target at the year-end
peak: the job, a day's first scan plus sending everything due by the morning (dispatch and
every batch, with one worker), at most 10 s and at most 3× its write floor: the rows the job
leaves (its delivery rows and inbox items) written again in one transaction with the ORM's
bulk insert, measured in the same run, before each run of the job (report.record: median,
p95, queries, the floor and the ratio). The floor is the rows alone; the job also decides
them, words them, claims them and records each outcome.

usage: .venv/bin/python tests/bench/bench_reminders.py [--tasks 5000|50000|500000] [--rebuild] [--runs 3]
       [--explain] [--skip report digest peak] [--workers N]

The data is bench_staff_pages.py's (its generator and generate(), imported: --tasks tasks,
20 progress updates and 4 readings per task unless given, 56 plans reporting monthly or
quarterly on the 25th), in a database of its own per size (report.database_url:
workplans_bench_reminders_50000 …; DATABASE_URL overrides): this benchmark changes it
(below) and writes delivery and inbox rows, which the staff pages should not see. The
database (created if missing, then migrated) is kept between runs while the markers say it
was made with the same parameters; --rebuild regenerates it. On top of the generated data,
once per data set and day (drawn with --seed):
- staff and leaders get email addresses (all but about one in eight);
- about a third of the agencies get a WeCom group robot, a quarter a DingTalk one (signed);
  about half of the staff of those agencies opt in to their robots; about one user in ten
  turns email off;
- 100 open tasks are moved to fall due 7 days after the report day and 100 the day after it
  (the generator puts every due date on the 30th or on 31 December, so no task would be
  "due in 7 or 1 days" on the report day otherwise); their dates are put back first when the
  day changes.

The days measured, all after today (the scan's real-time code path) and after the day the
data was made:
- the report day: the first 22nd after both, when every plan's report for the month (and in
  March, June, September and December the quarter's) is due in 3 days; the data's progress
  updates stop on the day it was made, so a task owes a report unless it was updated in that
  month before then (made in an earlier month: every open task owes one);
- the digest day: the first Monday from the report day on (the leaders' weekly digest);
- the year-end peak: 24 December of the data's year, when every task due on 31 December
  (55% of them) is due in 7 days and the reports in 1; measured while it is still ahead.

Each day has a warm-up run (left out of the figures; what it leaves is the floor's rows),
then --runs runs, each after a measure of the floor. Each run of a day starts from no
delivery rows (the table is emptied) and does what beat and the workers do: the day's first
scan at 00:05, the leaders' digests on the digest day (timed apart: Celery runs one job per
leader, in parallel), then ANALYZE of the delivery table (as
autovacuum would, long before the next scan), three more scans as beat repeats them every 10
minutes, then at 08:35 (after quiet hours and the 08:30 sending time) the dispatch
(recover_stale_claims, sendable_batches) and send_batch for every batch, one after another
in this process (--workers N: from N forked processes at once, as Celery's workers would).
Email goes to Django's locmem backend; the robots are a FakeRobotServer on 127.0.0.1
(tests/notifications/webhook_server.py). Queries are counted with CaptureQueriesContext
(BEGIN and COMMIT included) and timed client-side. The delivery and inbox rows are removed
at the end (--keep keeps the last run's).
"""

import argparse
import contextlib
import datetime
import gc
import json
import logging
import os
import random
import re
import statistics
import sys
import time
from collections import Counter, defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
# Sets up the path, DJANGO_SETTINGS_MODULE and DEBUG=0 as bench_staff_pages runs, and gives
# us its generator (through bench_staff_pages) and the query log and EXPLAIN helpers.
import bench_dashboards as dash  # noqa: E402
import bench_staff_pages as staff  # noqa: E402
import report  # noqa: E402

# One database per size (report.database_url): workplans_bench_reminders_50000 and so on.
DATABASE_NAME = "workplans_bench_reminders"
TARGET_S = 10.0
# The job at most this many times its write floor (the target, at the year-end peak).
TARGET_FLOOR_RATIO = 3.0
# Bump when the set-up below changes: the set-up is done again.
SETUP_VERSION = 2
MARKER_TABLE = "bench_reminders_marker"
REDATED_TABLE = "bench_reminders_redated"
DINGTALK_SECRET = "SECbench0123456789abcdef0123456789abcdef0123456789abcdef01234567"
# Every plan bench_staff_pages generates reports monthly or quarterly, due on the 25th.
REPORT_DUE_DAY = 25
SCAN_AT = datetime.time(0, 5)
SEND_AT = datetime.time(8, 35)
WARM_SCANS = 3
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


# --- The data -------------------------------------------------------------------------------


def staff_params(args) -> dict:
    return {
        "version": staff.GENERATOR_VERSION,
        "tasks": args.tasks,
        "updates": args.updates,
        "readings": args.readings,
        "seed": args.seed,
    }


def data_made(cursor) -> tuple[str, datetime.date]:
    """When bench_staff_pages' generate() made the data: its marker's timestamp, and the day."""
    from django.utils import timezone

    cursor.execute(f"SELECT made_at FROM {staff.MARKER_TABLE} WHERE key = 'data'")
    made_at = cursor.fetchone()[0]
    return made_at.isoformat(), timezone.localdate(made_at)


def next_report_day(after: datetime.date) -> datetime.date:
    """The first day after `after` that is 3 days before the generated plans' due day."""
    day = after + datetime.timedelta(days=1)
    while day.day != REPORT_DUE_DAY - 3:
        day += datetime.timedelta(days=1)
    return day


def pick_days(made_on: datetime.date, today: datetime.date, override: str | None):
    report_day = datetime.date.fromisoformat(override) if override else next_report_day(max(made_on, today))
    if report_day < today:
        sys.exit(f"--day {report_day} is before today ({today}): the scan of a past day takes another path")
    digest_day = report_day + datetime.timedelta(days=(1 - report_day.isoweekday()) % 7)
    peak = datetime.date(made_on.year, 12, 24)
    return report_day, digest_day, (peak if peak >= today else None)


def prepare(cursor, setup: dict, report_day: datetime.date) -> None:
    """Emails, robots, preferences and the re-dated tasks (see the module's docstring)."""
    from django.conf import settings

    from accounts.models import Agency, User
    from notifications.models import Preference, Robot

    started = time.perf_counter()
    old = read_marker(cursor)
    if table_exists(cursor, REDATED_TABLE):
        if old and old.get("data") == setup["data"]:
            cursor.execute(f"UPDATE tasks_task t SET due_on = r.due_on FROM {REDATED_TABLE} r WHERE r.task_id = t.id")
            print(f"  put back the due dates of {cursor.rowcount} tasks re-dated for {old.get('day')}")
        cursor.execute(f"DROP TABLE {REDATED_TABLE}")
    cursor.execute(f"DROP TABLE IF EXISTS {MARKER_TABLE}")

    Robot.objects.all().delete()
    Preference.objects.all().delete()
    robots = []
    for agency in Agency.objects.order_by("pk"):
        if agency.pk % 3 == 0:
            robots.append(
                Robot(
                    agency=agency,
                    kind="wecom",
                    name=f"{agency.name}工作群",
                    webhook_url="http://127.0.0.1:9/cgi-bin/webhook/send?key=unset",
                )
            )
        if agency.pk % 4 == 1:
            robots.append(
                Robot(
                    agency=agency,
                    kind="dingtalk",
                    name=f"{agency.name}钉钉群",
                    secret=DINGTALK_SECRET,
                    webhook_url="http://127.0.0.1:9/robot/send?access_token=unset",
                )
            )
    Robot.objects.bulk_create(robots)
    kinds = defaultdict(set)
    for robot in robots:
        kinds[robot.agency_id].add(robot.kind)
    quiet = [datetime.time.fromisoformat(t) for t in settings.REMINDERS["quiet_hours"]]
    rng = random.Random(setup["seed"])
    users, preferences = list(User.objects.filter(role__in=["staff", "leader"]).order_by("pk")), []
    for user in users:
        user.email = "" if rng.random() < 1 / 8 else f"{user.username}@wjw.chengjiang.gov.cn"
        robot_kinds = kinds.get(user.agency_id, set()) if user.role == "staff" and rng.random() < 0.5 else set()
        email = rng.random() >= 0.1
        if robot_kinds or not email:
            preferences.append(
                Preference(
                    user=user,
                    email=email,
                    wecom="wecom" in robot_kinds,
                    dingtalk="dingtalk" in robot_kinds,
                    quiet_start=quiet[0],
                    quiet_end=quiet[1],
                )
            )
    User.objects.bulk_update(users, ["email"])
    Preference.objects.bulk_create(preferences)

    # Open tasks of active plans, a fixed sample, due 7 days and 1 day after the report day.
    cursor.execute(f"CREATE TABLE {REDATED_TABLE} (task_id bigint PRIMARY KEY, due_on date NOT NULL)")
    cursor.execute(
        f"""
        INSERT INTO {REDATED_TABLE}
        SELECT t.id, t.due_on FROM tasks_task t JOIN workplans_plan p ON p.id = t.plan_id
        WHERE p.status = 'active' AND t.status <> 'done' AND to_char(t.due_on, 'MM-DD') <> '12-31'
        ORDER BY md5(t.id::text || %s) LIMIT 200""",
        [str(setup["seed"])],
    )
    cursor.execute(
        f"""
        UPDATE tasks_task t SET due_on = %s::date + CASE WHEN r.n <= 100 THEN 7 ELSE 1 END
        FROM (SELECT task_id, row_number() OVER (ORDER BY task_id) AS n FROM {REDATED_TABLE}) r
        WHERE r.task_id = t.id""",
        [report_day],
    )
    cursor.execute(f"CREATE TABLE {MARKER_TABLE} (key text PRIMARY KEY, params jsonb NOT NULL, made_at timestamptz)")
    cursor.execute(f"INSERT INTO {MARKER_TABLE} VALUES ('data', %s, now())", [json.dumps(setup)])
    cursor.execute("ANALYZE accounts_user, tasks_task, notifications_robot, notifications_preference")
    print(
        f"  set-up for {report_day}: {len(robots)} robots, {len(preferences)} preferences, 200 tasks re-dated "
        f"({time.perf_counter() - started:.1f} s)"
    )


def table_exists(cursor, name: str) -> bool:
    cursor.execute("SELECT to_regclass(%s)", [name])
    return cursor.fetchone()[0] is not None


def read_marker(cursor) -> dict | None:
    if not table_exists(cursor, MARKER_TABLE):
        return None
    cursor.execute(f"SELECT params FROM {MARKER_TABLE} WHERE key = 'data'")
    row = cursor.fetchone()
    return row and (row[0] if isinstance(row[0], dict) else json.loads(row[0]))


def describe_data(cursor) -> None:
    cursor.execute("""SELECT (SELECT count(*) FROM accounts_agency), (SELECT count(*) FROM accounts_user),
                             (SELECT count(*) FROM accounts_user WHERE email <> ''),
                             (SELECT count(*) FROM workplans_plan WHERE status = 'active'),
                             (SELECT count(*) FROM tasks_task),
                             (SELECT count(*) FROM tasks_task t JOIN workplans_plan p ON p.id = t.plan_id
                              WHERE p.status = 'active' AND t.status <> 'done'),
                             (SELECT count(*) FROM tasks_milestone),
                             (SELECT count(*) FROM notifications_robot WHERE kind = 'wecom'),
                             (SELECT count(*) FROM notifications_robot WHERE kind = 'dingtalk'),
                             (SELECT count(*) FROM notifications_preference WHERE wecom OR dingtalk),
                             (SELECT count(*) FROM notifications_preference WHERE NOT email)""")
    counts = cursor.fetchone()
    print(
        "      "
        + ", ".join(
            f"{n:,} {label}"
            for n, label in zip(
                counts,
                [
                    "agencies",
                    "users",
                    "with an email address",
                    "active plans",
                    "tasks",
                    "open tasks of active plans",
                    "milestones",
                    "WeCom robots",
                    "DingTalk robots",
                    "users opted in to a robot",
                    "users with email off",
                ],
                strict=True,
            )
        )
    )


def analyze_deliveries() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE notifications_delivery")


def reset_deliveries() -> None:
    from django.core import mail
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE notifications_notification, notifications_delivery RESTART IDENTITY")
    mail.outbox = []


def snapshot_rows() -> tuple[list[dict], list[dict]]:
    """What a run of the job leaves: every delivery row and inbox item, column by column."""
    from notifications.models import Delivery, Notification

    def values(model):
        return list(model.objects.order_by("pk").values(*(f.attname for f in model._meta.concrete_fields)))

    return values(Delivery), values(Notification)


def write_floor(snapshot: tuple[list[dict], list[dict]]) -> float:
    """The write floor: the rows a run of the job leaves (its delivery rows in their final
    state and its inbox items), written again from plain values in one transaction with the
    ORM's bulk insert, on emptied tables. Seconds; the tables are emptied again after."""
    from django.db import transaction

    from notifications.models import Delivery, Notification

    deliveries, notifications = snapshot
    reset_deliveries()
    with quiet_heap():
        started = time.perf_counter()
        with transaction.atomic():
            Delivery.objects.bulk_create([Delivery(**row) for row in deliveries])
            Notification.objects.bulk_create([Notification(**row) for row in notifications])
        seconds = time.perf_counter() - started
    reset_deliveries()
    return seconds


# --- Measuring ----------------------------------------------------------------------------------


class Recorder:
    """CaptureQueriesContext (the count, and the SQL with its values) plus dash.QueryLog (the
    client-side time of each query, with its SQL template and parameters) around a call."""

    def __init__(self):
        self.log = dash.QueryLog()
        self.captured = []
        self.seconds = 0.0

    def __call__(self, fn, *args):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        connection.queries_log.clear()  # it keeps 9,000 at most: a full log would capture nothing
        with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(self.log):
            started = time.perf_counter()
            result = fn(*args)
            self.seconds = time.perf_counter() - started
        self.captured = [q["sql"] for q in captured.captured_queries]
        return result

    @property
    def queries(self) -> int:
        return len(self.captured)

    @property
    def sql_s(self) -> float:
        return self.log.total_ms / 1000


def at(day: datetime.date, moment: datetime.time) -> datetime.datetime:
    from django.utils import timezone

    return timezone.make_aware(datetime.datetime.combine(day, moment))


class ChannelTimer:
    """Time spent in delivery._send_email and delivery._send_robot (rendering, locmem, HTTP)."""

    def __init__(self):
        from notifications import delivery

        self.seconds = Counter()
        self.calls = Counter()
        self.originals = {"email": delivery._send_email, "robot": delivery._send_robot}

        def wrap(kind, fn):
            def timed(*args, **kwargs):
                started = time.perf_counter()
                try:
                    return fn(*args, **kwargs)
                finally:
                    self.seconds[kind] += time.perf_counter() - started
                    self.calls[kind] += 1

            return timed

        delivery._send_email = wrap("email", delivery._send_email)
        delivery._send_robot = wrap("robot", delivery._send_robot)

    def reset(self):
        self.seconds.clear()
        self.calls.clear()

    def restore(self):
        from notifications import delivery

        delivery._send_email, delivery._send_robot = self.originals["email"], self.originals["robot"]


# The statements of send_batch, by what they do (SQL template as Django runs it, and parameters).
def statement_kind(sql: str, params) -> str:
    sql = sql.lstrip()
    if sql.startswith('UPDATE "notifications_delivery" SET "state" = (CASE'):
        return "claim"
    if sql.startswith('UPDATE "notifications_delivery" SET "handed_over_at"'):
        return "hand over"
    if sql.startswith('UPDATE "notifications_delivery" SET "state"'):
        state = params[0] if params else ""
        return {"sent": "mark sent", "cancelled": "mark cancelled"}.get(state, "mark failed/retry")
    if re.match(r'SELECT .* FROM "(tasks_task|tasks_milestone)"', sql, re.S):
        return "context"
    if re.match(r'SELECT .* FROM "(accounts_user|notifications_robot)"', sql, re.S):
        return "recipients"
    if sql.startswith(('INSERT INTO "notifications_notification"', "COPY ", "CREATE TEMPORARY", "WITH moved")):
        return "inbox: insert"
    if sql.startswith(("SAVEPOINT", "RELEASE SAVEPOINT")):
        return "savepoint"
    return "other"


def batch_statements(rec: "Recorder") -> tuple[Counter, Counter]:
    """(statements by kind, client ms by kind) of one send_batch; BEGIN and COMMIT (not
    timed: Django runs them outside the cursor) counted from the captured queries."""
    kinds, ms = Counter(), Counter()
    for took, sql, params in rec.log.queries:
        kind = statement_kind(sql, params)
        kinds[kind] += 1
        ms[kind] += took
    kinds["BEGIN/COMMIT"] = sum(1 for sql in rec.captured if re.match(r"(BEGIN|COMMIT|ROLLBACK)\b", sql))
    assert sum(kinds.values()) == rec.queries, (kinds, rec.queries)
    return kinds, ms


@contextlib.contextmanager
def quiet_heap():
    """This process keeps every figure it measures: collected and frozen first, so that the
    garbage collector's passes during what is timed walk only what that allocates, as in a
    worker that runs nothing else (and in forked workers, copy-on-write stays shared)."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def send_one(ids: list[int], now: datetime.datetime, keep_sql: bool = False) -> dict:
    """send_batch(ids, now), as a worker runs it, with its time and statements."""
    from notifications.delivery import send_batch

    rec = Recorder()
    outcome = rec(send_batch, ids, now)
    kinds, kind_ms = batch_statements(rec)
    return {
        "seconds": rec.seconds,
        "sql_s": rec.sql_s,
        "queries": rec.queries,
        "kinds": kinds,
        "kind_ms": kind_ms,
        "outcome": outcome,
        "captured": rec.captured if keep_sql else None,
    }


def worker_ready(_) -> int:
    return os.getpid()


def send_all(args, ids_batches: list[list[int]], now: datetime.datetime) -> tuple[list[dict], float]:
    """Every batch, one after another in this process, or with --workers N spread over N
    forked processes (as Celery's prefork pool would run the queued send jobs); the wall time."""
    if args.workers <= 1:
        with quiet_heap():
            started = time.perf_counter()
            stats = [send_one(ids, now, args.show_batch_sql) for ids in ids_batches]
            return stats, time.perf_counter() - started

    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from django.db import connections

    connections.close_all()  # each worker opens its own connection
    with quiet_heap(), ProcessPoolExecutor(args.workers, mp_context=multiprocessing.get_context("fork")) as pool:
        list(pool.map(worker_ready, range(args.workers * 2)))  # started, as Celery's workers are
        started = time.perf_counter()
        stats = list(pool.map(send_one, ids_batches, [now] * len(ids_batches), chunksize=1))
        seconds = time.perf_counter() - started
    return stats, seconds


def run_day(args, label: str, day: datetime.date, server, timer) -> dict:
    from django.core import mail

    from notifications.delivery import recover_stale_claims, sendable_batches
    from notifications.models import Delivery
    from notifications.rules import digests_due, scan, write_digest

    print(f"\n== {label}: {day} ({day:%A}), a warm-up run and {args.runs} runs ({dash.load_note()})")
    cold, warm, dispatches, sends, jobs, batches, floors, digests = [], [], [], [], [], [], [], []
    job_queries = []
    channel_s = defaultdict(list)
    snapshot = None
    for run in range(args.runs + 1):
        if run == 1:
            # The warm-up run (0) is left out of every figure; what it wrote is the floor's.
            snapshot = snapshot_rows()
            cold, warm, dispatches, sends, jobs, batches, digests, job_queries = [], [], [], [], [], [], [], []
            channel_s = defaultdict(list)
        if snapshot is not None:
            # Interleaved: each run of the job right after a measure of its write floor.
            floors.append(write_floor(snapshot))
        reset_deliveries()
        server.reset()
        timer.reset()

        rec = Recorder()
        with quiet_heap():
            created = rec(scan, day, at(day, SCAN_AT))
        cold.append(
            {
                "seconds": rec.seconds,
                "rows": created,
                "queries": rec.queries,
                "sql_s": rec.sql_s,
                "shapes": query_shapes(rec.log)[: args.show],
            }
        )
        # Digest day: the scan queues one write_digest job per leader; timed one by one here.
        digest_s = []
        for leader_id in digests_due(day):
            started = time.perf_counter()
            write_digest(leader_id, day, at(day, SCAN_AT))
            digest_s.append(time.perf_counter() - started)
        if digest_s:
            digests.append(sum(digest_s))
            print(
                f"  run {run}: {len(digest_s)} digest jobs, {sum(digest_s):.2f} s in all one after another, "
                f"per leader median {statistics.median(digest_s) * 1000:.0f} ms, max {max(digest_s):.2f} s",
                flush=True,
            )
        # Autovacuum analyses the table within a minute of such an insert, long before the
        # next scan or 08:30; without it the planner takes the emptied table for empty.
        analyze_deliveries()
        for k in range(WARM_SCANS):
            again = Recorder()
            with quiet_heap():
                again_created = again(scan, day, at(day, SCAN_AT) + datetime.timedelta(minutes=10 * (k + 1)))
            warm.append(
                {
                    "seconds": again.seconds,
                    "rows": again_created,
                    "queries": again.queries,
                    "sql_s": again.sql_s,
                    "shapes": query_shapes(again.log)[: args.show],
                }
            )

        if run == 0:
            print_rows_written(day)

        now = at(day, SEND_AT)
        who = {
            pk: (channel, recipient, robot)
            for pk, channel, recipient, robot in Delivery.objects.sendable(now).values_list(
                "pk", "channel", "recipient_id", "robot_id"
            )
        }
        rec = Recorder()
        ids_batches = rec(lambda now=now: (recover_stale_claims(now), sendable_batches(now))[1])
        dispatches.append({"seconds": rec.seconds, "queries": rec.queries, "batches": len(ids_batches)})

        stats, seconds = send_all(args, ids_batches, now)
        for index, (ids, stat) in enumerate(zip(ids_batches, stats, strict=True), 1):
            stat.update(
                run=run,
                index=index,
                rows=len(ids),
                channels=Counter(who[pk][0] for pk in ids),
                groups=len({who[pk] for pk in ids if who[pk][0] != "inbox"}),
            )
            batches.append(stat)
        sends.append(seconds)
        for kind in ("email", "robot"):
            channel_s[kind].append((timer.seconds[kind], timer.calls[kind]))
        jobs.append(cold[-1]["seconds"] + dispatches[-1]["seconds"] + sends[-1])
        job_queries.append(cold[-1]["queries"] + dispatches[-1]["queries"] + sum(stat["queries"] for stat in stats))
        rescans = ", ".join(f"{w['seconds']:.2f}" for w in warm[-WARM_SCANS:])
        floor = f"; write floor {floors[-1]:.2f} s" if snapshot is not None else " (warm-up)"
        print(
            f"  run {run}: first scan {cold[-1]['seconds']:.2f} s ({created:,} rows), rescans {rescans} s, "
            f"dispatch {dispatches[-1]['seconds']:.2f} s ({len(ids_batches)} batches), "
            f"send {sends[-1]:.2f} s; job {jobs[-1]:.2f} s{floor}",
            flush=True,
        )

    outcomes = Counter(Delivery.objects.values_list("channel", "state"))
    emails, requests = len(mail.outbox), Counter(r.kind for r in server.requests)
    answers = Counter((r.answer or {}).get("errcode") for r in server.requests)
    email_bytes = [len(m.message().as_bytes()) for m in mail.outbox]
    robot_bytes = [len(r.raw_body) for r in server.requests]
    result = {
        "label": label,
        "day": day,
        "cold": cold,
        "warm": warm,
        "dispatches": dispatches,
        "sends": sends,
        "jobs": jobs,
        "batches": batches,
        "outcomes": outcomes,
        "channel_s": channel_s,
        "floors": floors,
        "job_queries": job_queries,
        "digests": digests,
        "floor_rows": (len(snapshot[0]), len(snapshot[1])) if snapshot else (0, 0),
    }
    print_scan(args, "first scan of the day (no rows yet)", cold, explain_too=args.explain)
    print_scan(
        args,
        f"scan again (all rows there; beat repeats it every 10 minutes), {len(warm)} scans",
        warm,
        explain_too=args.explain,
    )
    print_send(args, result)
    print(
        f"\n  at the end (run {args.runs}): rows by channel and state: "
        + ", ".join(f"{channel} {state} {n:,}" for (channel, state), n in sorted(outcomes.items()))
    )
    outbox = (
        f"{emails:,} emails in the locmem outbox (median {statistics.median(email_bytes or [0]) / 1024:.1f} KB, "
        f"largest {max(email_bytes or [0]) / 1024:.1f} KB)"
        if args.workers <= 1
        else "emails: in the workers' locmem outboxes, not counted"
    )
    print(
        f"  {outbox}; {sum(requests.values()):,} robot requests "
        f"({', '.join(f'{k} {n}' for k, n in sorted(requests.items()))}; answers "
        f"{', '.join(f'errcode {k}: {n}' for k, n in sorted(answers.items(), key=str))}; median body "
        f"{statistics.median(robot_bytes or [0]) / 1024:.1f} KB, largest {max(robot_bytes or [0]) / 1024:.1f} KB)"
    )
    not_sent = {k: n for k, n in outcomes.items() if k[1] != "sent"}
    if not_sent:
        print(f"  NOT SENT: {not_sent}")
    result["all_sent"] = not not_sent
    return result


def print_rows_written(day: datetime.date) -> None:
    from django.db.models import Count

    from notifications.models import Delivery

    rows = Delivery.objects.values("rule", "channel").annotate(n=Count("id")).order_by("rule", "channel")
    per_rule = defaultdict(dict)
    for row in rows:
        per_rule[row["rule"]][row["channel"]] = row["n"]
    reminders = dict(
        Delivery.objects.filter(channel="inbox").values_list("rule").annotate(n=Count("object_id", distinct=True))
    )
    print(f"  rows the first scan writes for {day}, by rule (reminders: distinct objects) and channel:")
    for rule, channels in per_rule.items():
        print(
            f"    {rule:<18} {reminders.get(rule, 0):>6,} reminders: "
            + ", ".join(f"{channel} {n:,}" for channel, n in sorted(channels.items()))
        )


def summary(values: list[float], fmt: str = "{:.2f}") -> str:
    return "/".join(fmt.format(v) for v in (min(values), statistics.median(values), max(values)))


def query_shapes(log: dash.QueryLog) -> list[tuple[float, int, float, str, object]]:
    """Queries grouped by SQL template: (total ms, count, slowest ms, sql, params of the slowest)."""
    groups = defaultdict(list)
    for ms, sql, params in log.queries:
        groups[re.sub(r"(%s, )+%s", "%s…", sql)].append((ms, sql, params))
    shapes = []
    for template, items in groups.items():
        ms, sql, params = max(items, key=lambda item: item[0])
        shapes.append((sum(i[0] for i in items), len(items), ms, template, (sql, params)))
    return sorted(shapes, key=lambda s: s[0], reverse=True)


LITERAL_LIST = re.compile(r"'\{([^{}']{60,})\}'")


def shorten_lists(text: str) -> str:
    """EXPLAIN output with its long id lists cut: '{12128,12133,… (1,234 values)}'."""

    def cut(match):
        values = match.group(1).split(",")
        return "'{" + ",".join(values[:3]) + f",… ({len(values):,} values)}}'"

    return LITERAL_LIST.sub(cut, text)


def print_scan(args, what: str, runs: list[dict], explain_too: bool) -> None:
    seconds = [r["seconds"] for r in runs]
    queries = sorted({r["queries"] for r in runs})
    median_run = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
    print(
        f"\n  {what}: median {statistics.median(seconds):.2f} s (min/median/max {summary(seconds)} s); "
        f"{median_run['rows']:,} rows written; {'/'.join(map(str, queries))} queries; "
        f"SQL {median_run['sql_s']:.2f} s client-side, the rest Python"
    )
    for total, count, slowest, template, (sql, params) in median_run["shapes"]:
        print(f"    {total:8.1f} ms in {count:>3} × {staff.shorten(template, args.sql_chars)}")
        if explain_too and sql.lstrip().upper().startswith("SELECT") and params is not None:
            print(f"      EXPLAIN (ANALYZE, BUFFERS) of the slowest ({slowest:.1f} ms):")
            print("        " + shorten_lists(dash.explain_query(sql, params)).replace("\n", "\n        "))


def print_send(args, result: dict) -> None:
    dispatches, batches, sends = result["dispatches"], result["batches"], result["sends"]
    print(
        f"\n  dispatch (recover_stale_claims + sendable_batches): median "
        f"{statistics.median(d['seconds'] for d in dispatches) * 1000:.0f} ms, "
        f"{'/'.join(sorted({str(d['queries']) for d in dispatches}))} queries, "
        f"{'/'.join(sorted({str(d['batches']) for d in dispatches}))} batches"
    )
    last = [b for b in batches if b["run"] == args.runs]
    rows = sum(b["rows"] for b in last)
    how = "one after another" if args.workers <= 1 else f"from {args.workers} processes at once"
    print(
        f"  send_batch, {how}: total median {statistics.median(sends):.2f} s "
        f"(min/median/max {summary(sends)} s) for {rows:,} rows in {len(last)} batches"
    )
    for kind, samples in sorted(result["channel_s"].items()):
        s, calls = samples[-1]
        if calls and args.workers <= 1:
            print(
                f"    of which in _send_{kind} (rendering and handing over, {calls} messages): {s:.2f} s, "
                f"{s / calls * 1000:.1f} ms each"
            )
    sql_s = sum(b["sql_s"] for b in last)
    kind_ms = sum((b["kind_ms"] for b in last), Counter())
    print(
        f"    SQL, client-side, summed over the batches: {sql_s:.2f} s: "
        + ", ".join(f"{kind} {ms / 1000:.2f} s" for kind, ms in kind_ms.most_common())
    )

    print(
        "\n  per batch (all runs), by the channel of its rows: rows, messages (emails or robot posts), queries, ms "
        "(min/median/max)"
    )
    by_channel = defaultdict(list)
    for b in batches:
        channel = "+".join(sorted(b["channels"]))
        by_channel[channel].append(b)
    for channel, items in sorted(by_channel.items()):
        print(
            f"    {channel:<16} {len(items) // args.runs:>4} batches/run"
            f"   rows {summary([b['rows'] for b in items], '{:.0f}')}"
            f"   messages {summary([b['groups'] for b in items], '{:.0f}')}"
            f"   queries {summary([b['queries'] for b in items], '{:.0f}')}"
            f"   ms {summary([b['seconds'] * 1000 for b in items], '{:.0f}')}"
        )
    all_queries = [b["queries"] for b in batches]
    all_ms = [b["seconds"] * 1000 for b in batches]
    print(
        f"    {'every batch':<16} {len(batches) // args.runs:>4} batches/run   "
        f"queries {summary(all_queries, '{:.0f}')}   ms {summary(all_ms, '{:.0f}')}"
    )
    for b in sorted(batches, key=lambda b: b["seconds"], reverse=True)[:3]:
        print(
            f"    slow batch: run {b['run']}, batch {b['index']}: {b['seconds'] * 1000:.0f} ms, {b['rows']} rows "
            f"({', '.join(f'{c} {n}' for c, n in sorted(b['channels'].items()))}), {b['groups']} messages, "
            f"SQL {b['sql_s'] * 1000:.0f} ms"
        )

    # Fixed per batch, whatever its rows: BEGIN, the claim (one UPDATE … RETURNING, which
    # marks inbox rows sent), one SELECT per kind of object the rows are about (tasks with
    # their plans, time nodes: 0 to 2), the INSERT of the inbox items (through COPY past
    # 5,000 items: 2 more and 2 savepoints), COMMIT; then one SELECT per kind of recipient
    # the emails and robot posts go to (users, robots: 0 to 2) and, after the last message,
    # the UPDATE recording that it went out. Per message (an email or a robot post): the
    # UPDATE handing its rows over, which records the outcome of the message before (1).
    # Per failed message, and per reason rows are cancelled for: one UPDATE.
    fixed_counts, formula_ok = Counter(), True
    for b in batches:
        kinds = b["kinds"]
        inbox = kinds["inbox: insert"] > 0
        per_message = kinds["hand over"] + kinds["mark failed/retry"]
        fixed = b["queries"] - per_message - kinds["mark cancelled"]
        expected = (
            3
            + kinds["context"]
            + kinds["recipients"]
            + kinds["inbox: insert"]
            + kinds["savepoint"]
            + kinds["mark sent"]
        )
        formula_ok &= (
            kinds["claim"] == 1
            and kinds["BEGIN/COMMIT"] == 2
            and kinds["hand over"] == b["groups"]
            and kinds["mark sent"] == (1 if b["groups"] else 0)
            and kinds["context"] <= 2
            and kinds["recipients"] <= 2
            and kinds["inbox: insert"] in (0, 1, 3)
            and kinds["other"] == 0
            and fixed == expected
        )
        fixed_counts[(("inbox rows" if inbox else "no inbox rows"), fixed)] += 1
    examples = {}
    for b in batches:
        key = "+".join(sorted(b["channels"]))
        examples.setdefault(key, b)
    print("\n  queries per batch, by statement (one example batch per mix of channels):")
    for key, b in sorted(examples.items()):
        print(
            f"    {key:<16} "
            + ", ".join(f"{kind} {n}" for kind, n in sorted(b["kinds"].items()) if n)
            + f"  (= {b['queries']} queries, {b['groups']} messages)"
        )
    print(
        "    fixed part per batch: "
        + ", ".join(f"{n} batches with {what}: {fixed}" for (what, fixed), n in sorted(fixed_counts.items()))
    )
    print(
        "    queries per batch = 3 (BEGIN, the claim, COMMIT) + 0..2 (tasks, time nodes) + 1 with inbox rows (their "
        "items;\n                        5 through COPY: savepoint, staging table, COPY, INSERT, release) + 0..2 (the "
        "users and robots messages go to) + 1 after the last message (its outcome)"
    )
    print(
        "                      + 1 per email or robot message (its hand-over, with the outcome of the one before) "
        "+ 1 per failed message + 1 per reason rows are cancelled"
    )
    print(
        f"    {'checked against every batch: holds' if formula_ok else 'checked against every batch: DOES NOT HOLD'}"
        "; rows themselves add no queries (an email or robot post carries all its recipient's rows of the batch)"
    )
    result["formula_ok"] = formula_ok
    if args.show_batch_sql:
        for b in batches[:1] + [x for x in batches if x["groups"]][:1]:
            print("    SQL of a batch:")
            for sql in b["captured"]:
                print(f"      {staff.shorten(sql, args.sql_chars)}")


# --- Main ---------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true", help="regenerate the data even if it is current")
    parser.add_argument("--tasks", type=int, default=50_000, help="the size: 5000, 50000 or 500000 tasks")
    parser.add_argument("--updates", type=int, default=None, help="default: 20 per task")
    parser.add_argument("--readings", type=int, default=None, help="default: 4 per task")
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--runs", type=int, default=3, help="runs of each day (scan and send)")
    parser.add_argument("--day", help="the report day (ISO date, today or later) instead of the next 22nd")
    parser.add_argument("--skip", nargs="*", default=[], choices=["report", "digest", "peak"])
    parser.add_argument("--show", type=int, default=4, help="costliest query shapes shown per scan")
    parser.add_argument("--sql-chars", type=int, default=300, help="SQL shown per query, in characters")
    parser.add_argument(
        "--explain",
        action="store_true",
        help="EXPLAIN ANALYZE the costliest scan queries (by default: when a day misses the target)",
    )
    parser.add_argument("--show-batch-sql", action="store_true", help="print the statements of two batches")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="send the batches from N forked processes at once (default: one after another)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the last run's delivery and inbox rows")
    args = parser.parse_args()
    staff.sized(args)

    url = os.environ.setdefault("DATABASE_URL", report.database_url(DATABASE_NAME, args.tasks))
    staff.ensure_database(url)
    for name in PROXY_VARIABLES:  # nothing between us and the fake robot on 127.0.0.1
        os.environ.pop(name, None)

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from tests.notifications.webhook_server import FakeRobotServer

    logging.getLogger("notifications").setLevel(logging.WARNING)  # not a line per robot message
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.NOTIFICATIONS_ALLOW_LOCAL_WEBHOOKS = True

    call_command("migrate", verbosity=0, interactive=False)
    print(
        f"database: {connection.vendor} {connection.pg_version // 10000} ({connection.settings_dict['NAME']}), "
        f"DEBUG={settings.DEBUG}, email {settings.EMAIL_BACKEND.rsplit('.', 2)[-2]}, "
        f"batch_size {settings.REMINDERS['batch_size']}"
    )

    params = staff_params(args)
    with connection.cursor() as cursor:
        current = not args.rebuild and staff.data_is_current(cursor, params)
    if current:
        print("data: reusing the existing data set (--rebuild to regenerate)")
    else:
        print(
            f"data: generating {args.tasks:,} tasks, {args.updates:,} progress updates, {args.readings:,} readings "
            "with bench_staff_pages' generator …"
        )
        seconds = staff.generate(params, timezone.now())
        print(f"data: generated in {seconds:.1f} s")
        connection.close()

    today = timezone.localdate()
    with connection.cursor() as cursor:
        made_at, made_on = data_made(cursor)
    report_day, digest_day, peak_day = pick_days(made_on, today, args.day)
    setup = {"version": SETUP_VERSION, "data": made_at, "day": report_day.isoformat(), "seed": args.seed}
    with transaction.atomic(), connection.cursor() as cursor:
        if read_marker(cursor) != setup:
            prepare(cursor, setup, report_day)
        else:
            print(f"set-up: reusing the emails, robots, preferences and re-dated tasks for {report_day}")
    with connection.cursor() as cursor:
        describe_data(cursor)
    print(
        f"data made on {made_on}, today is {today}: report day {report_day}, digest day {digest_day}, "
        f"year-end peak {peak_day or '(past for this data; --rebuild to measure it)'}"
    )

    days = []
    if "report" not in args.skip:
        days.append(("report day", "report day (reports due in 3 days)", report_day))
    if "digest" not in args.skip and digest_day != report_day:
        days.append(("digest Monday", "digest day (Monday)", digest_day))
    if "peak" not in args.skip and peak_day and peak_day not in (report_day, digest_day):
        days.append(("year-end peak", "year-end peak (31 December in 7 days)", peak_day))

    server = FakeRobotServer(dingtalk_secret=DINGTALK_SECRET).start()
    timer = ChannelTimer()
    results = []
    try:
        from notifications.models import Robot

        Robot.objects.filter(kind="wecom").update(webhook_url=server.wecom_url)
        Robot.objects.filter(kind="dingtalk").update(webhook_url=server.dingtalk_url)
        for name, label, day in days:
            result = run_day(args, label, day, server, timer)
            result["name"] = name
            results.append(result)
            if statistics.median(result["jobs"]) > TARGET_S and not args.explain:
                # Missed: the costliest queries of the first scan, EXPLAINed.
                print_scan(
                    args,
                    "missed the target: the first scan's costliest queries, EXPLAINed",
                    result["cold"],
                    explain_too=True,
                )
    finally:
        server.stop()
        timer.restore()
        if not args.keep:
            reset_deliveries()

    print(f"\n{'measurement (median of ' + str(args.runs) + ' runs)':<66} {'result':>10}  target")
    for r in results:
        job = statistics.median(r["jobs"])
        floor = statistics.median(r["floors"])
        ratio = job / floor
        peak = r["name"] == "year-end peak"
        met = job <= TARGET_S and ratio <= TARGET_FLOOR_RATIO
        verdict = ("PASS" if met else "FAIL") if peak else "(target at the peak)"
        cold = statistics.median(c["seconds"] for c in r["cold"])
        warm = statistics.median(w["seconds"] for w in r["warm"])
        send = statistics.median(r["sends"])
        batches = r["batches"]
        queries = int(statistics.median(r["job_queries"]))
        print(
            f"{'job: scan + dispatch + send, ' + r['label']:<66} {job:>8.2f} s  ≤ {TARGET_S:.0f} s and "
            f"≤ {TARGET_FLOOR_RATIO:.0f}× floor: {ratio:.2f}× {verdict}"
        )
        deliveries, items = r["floor_rows"]
        print(
            f"{'  write floor: ' + f'{deliveries:,} delivery rows + {items:,} inbox items, one transaction':<66} "
            f"{floor:>8.2f} s"
        )
        print(
            f"{'  first scan, ' + str(r['day']):<66} {cold:>8.2f} s  {r['cold'][0]['rows']:,} rows, "
            f"{r['cold'][0]['queries']} queries"
        )
        print(f"{'  scan again':<66} {warm:>8.2f} s  {r['warm'][0]['queries']} queries")
        print(
            f"{'  send':<66} {send:>8.2f} s  {len(batches) // args.runs} batches, queries per batch "
            f"{summary([b['queries'] for b in batches], '{:.0f}')}, ms per batch "
            f"{summary([b['seconds'] * 1000 for b in batches], '{:.0f}')}, rule "
            f"{'holds' if r['formula_ok'] else 'DOES NOT HOLD'}"
        )
        note = (
            f"{r['day']}: {deliveries:,} deliveries; scan {cold:.2f} s, send {send:.2f} s in "
            f"{len(batches) // args.runs} batches; queries-per-batch rule "
            f"{'holds' if r['formula_ok'] else 'DOES NOT HOLD'}"
        )
        report.record(
            "reminders",
            f"{r['name']}: whole job",
            samples=[s * 1000 for s in r["jobs"]],
            reference=[s * 1000 for s in r["floors"]],
            reference_name="write floor: the same rows in one transaction",
            queries=queries,
            target=f"≤ {TARGET_S:.0f} s and ≤ {TARGET_FLOOR_RATIO:.0f}× write floor" if peak else "",
            met=met if peak else None,
            tasks=args.tasks,
            note=note,
        )
        if r["digests"]:
            print(
                f"{'  leaders digests (write_digest jobs, one after another)':<66} "
                f"{statistics.median(r['digests']):>8.2f} s"
            )
            report.record(
                "reminders",
                f"{r['name']}: leaders' digests, one worker",
                samples=[s * 1000 for s in r["digests"]],
                tasks=args.tasks,
                note="write_digest jobs (one per leader, run in parallel by the workers), one after another",
            )
    if results:
        print(
            "queries per send batch: 3 (BEGIN, claim, COMMIT) + 0..2 (tasks, time nodes) + 1 with inbox rows "
            "+ 0..2 (users, robots) + 1 with messages, + 1 per email or robot message, per failed one and per reason "
            "rows are cancelled"
        )
    if not all(r["all_sent"] for r in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
