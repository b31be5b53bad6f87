"""Time the leaders' dashboard, the daily rollup and the ledger export on a large database,
each beside the hand-written SQL for the same figures, measured in the same run.

Sizes: --tasks 5000, 50000 or 500000 (default 50,000), each in its own database
(report.database_url("workplans_bench_dash", tasks), kept between runs); the other figures
follow: a plan per 50 tasks, 20 progress updates, 0.4 indicators and 2 readings per task,
300 days of snapshots (30 above 50,000 tasks).

Targets, for a leader of the top agency, a leader of a mid-size department and an admin:
the first look at /dashboard/ (nothing cached) at most twice the raw SQL of the same figures
(reference_figures, interleaved with it: report.interleave), the warm look (the overview
kept, as dashboards.jobs.refresh_overviews leaves it) at most 150 ms; rollup_day for one day
of every active plan at most 30 s; the ledger of about 5,000 tasks (and the bulletin of the
same scope) beside the raw SQL reading the ledger's rows. Every figure goes through
report.record, so `make bench` (run.py) shows it.

usage: .venv/bin/python tests/bench/bench_dashboards.py [--tasks 50000] [--rebuild] [--runs N] [--explain]
       [--skip dashboard rollup export]

The data comes from the generator of bench_staff_pages.py (imported: agencies, users, tasks,
owners, progress updates, milestones written with COPY), given more plans and an exact
number of indicators; the audit-trail tables are left empty (no page measured here reads
them). The snapshots are made in SQL: one day's rows in the shape rollup_day writes (a plan
row per active plan, a section row per section with tasks, an agency row per plan and owner
agency), with figures computed from the tasks, repeated for each of the --snapshot-days days
before the day of generation, the done counts and mean percent growing over the days. The
database (created if missing, then migrated) is kept between runs while a marker table says
it was made with the same parameters; --rebuild regenerates it.

The dashboard is requested in-process with Django's test Client (force_login; an admin's
session has passed the second factor), as bench_staff_pages.py does; before timing, the
page's totals are checked against the reference's (they must count the same). The rollup and
the exports are called in-process too (rollup_day, run_export), with their queries timed
client-side. The rows the rollup writes for today and the export rows and files are removed
afterwards, so every run starts from the same data.
"""

import argparse
import bisect
import datetime
import json
import os
import statistics
import sys
import tempfile
import time
from decimal import Decimal

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
# Sets up the path, DJANGO_SETTINGS_MODULE and DEBUG=0 as that benchmark runs, and gives us its
# generator, COPY helpers and request measuring.
import bench_staff_pages as staff  # noqa: E402
import report  # noqa: E402

DATABASE_NAME = "workplans_bench_dash"  # one database per size: workplans_bench_dash_50000
DASHBOARD_TARGET_MS = 150.0  # the warm look
COLD_RATIO_TARGET = 2.0  # the first look: at most twice the raw SQL of the same figures
ROLLUP_TARGET_S = 30.0
LEDGER_TASKS = 5_000
# Bump when the generator changes: a database made by another version is regenerated.
GENERATOR_VERSION = 1
MARKER_TABLE = "bench_dash_marker"


# --- Data generation -------------------------------------------------------------------------


def sized(args) -> None:
    """The data set's other figures follow its size unless given: at 50,000 tasks 1,000 plans,
    1,000,000 progress updates, 20,000 indicators, 100,000 readings and 300 days of snapshots
    (30 days above that: the history only feeds the trend points and the rollup's delete)."""
    tasks = args.tasks
    defaults = {
        "plans": max(tasks // 50, 10),
        "updates": tasks * 20,
        "indicators": tasks * 2 // 5,
        "readings": tasks * 2,
        "snapshot_days": 300 if tasks <= 50_000 else 30,
    }
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)


def plan_specs(year: int, n_plans: int) -> list[tuple[int, str, int]]:
    """(year, status, how many plans): mostly active plans of this year, some of last year's
    still active, a few archived."""
    last_year_active, archived = round(n_plans * 0.04), round(n_plans * 0.015)
    current = n_plans - last_year_active - 2 * archived
    return [
        (year, "active", current),
        (year - 1, "active", last_year_active),
        (year - 1, "archived", archived),
        (year - 2, "archived", archived),
    ]


class Generator(staff.Generator):
    """bench_staff_pages' generator with 1,000 plans, an exact number of indicators, no audit trail."""

    def __init__(self, cursor, *, n_plans: int, n_indicators: int, **kwargs):
        super().__init__(cursor, **kwargs)
        self.n_plans, self.n_indicators = n_plans, n_indicators

    def run(self) -> None:
        self.agencies()
        self.users()
        self.plans()
        self.tasks()
        self.progress()
        self.milestones_and_indicators()

    # As bench_staff_pages' plans(), over plan_specs(): three parts of five subsections each.
    def plans(self):
        started = time.perf_counter()
        plans, sections = [], []
        self.plan_info = []  # (plan id, year, status, created ts, [subsection ids])
        section_id, plan_id = 1, 1
        departments = list(self.departments.values())
        for year, status, how_many in plan_specs(self.today.year, self.n_plans):
            for k in range(how_many):
                created = staff.at(datetime.date(year, 1, 15), 9) + plan_id * 60
                issuer = self.commission if k % 3 == 0 else departments[(plan_id * 7) % len(departments)]
                cycle = "quarterly" if plan_id % 4 == 0 else "monthly"
                edition = "旧版" if status == "archived" else "第"
                theme = staff.PLAN_THEMES[k % len(staff.PLAN_THEMES)]
                title = f"{year}年{staff.CITY}{theme}（{edition}{k + 1}号）"
                plans.append(
                    (
                        plan_id,
                        title,
                        year,
                        issuer,
                        f"澄卫发〔{year}〕{k + 1}号",
                        datetime.date(year, 1, 10),
                        status,
                        cycle,
                        25,
                        "",
                        "",
                        staff.iso(created),
                        staff.iso(created),
                    )
                )
                subsections = []
                for p, part in enumerate(["第一部分", "第二部分", "第三部分"]):
                    top = section_id
                    sections.append((top, plan_id, None, part, ["深化改革", "提升能力", "强化保障"][p], p * 10))
                    section_id += 1
                    for s, label in enumerate("一二三四五"):
                        topic = staff.TOPICS[(p * 5 + s + k) % len(staff.TOPICS)]
                        sections.append((section_id, plan_id, top, label, topic, p * 10 + s + 1))
                        subsections.append(section_id)
                        section_id += 1
                self.plan_info.append((plan_id, year, status, created, subsections))
                plan_id += 1
        staff.copy_rows(
            self.cur,
            "workplans_plan",
            [
                "id",
                "title",
                "year",
                "issuer_id",
                "doc_number",
                "issued_on",
                "status",
                "reporting_cycle",
                "report_due_day",
                "source_file",
                "source_sha256",
                "created_at",
                "updated_at",
            ],
            plans,
        )
        staff.copy_rows(
            self.cur, "workplans_section", ["id", "plan_id", "parent_id", "label", "title", "order"], sections
        )
        self.log("plans, sections", len(plans) + len(sections), started)

    def indicator_counts(self) -> list[int]:
        """Indicators per task (0, 1 or 2), adding up to exactly n_indicators."""
        rng = self.rng
        counts = [rng.choices([0, 1, 2], [65, 30, 5])[0] for _ in self.task_info]
        total = sum(counts)
        while total != self.n_indicators:
            i = rng.randrange(len(counts))
            if total > self.n_indicators and counts[i] > 0:
                counts[i] -= 1
                total -= 1
            elif total < self.n_indicators and counts[i] < 2:
                counts[i] += 1
                total += 1
        return counts

    # As bench_staff_pages' milestones_and_indicators(), with indicator_counts().
    def milestones_and_indicators(self):
        started = time.perf_counter()
        rng = self.rng
        milestones, indicators = [], []
        milestone_id = indicator_id = 1
        indicator_tasks = []  # per indicator: (plan id, year, task id, lead, target)
        for (task_id, plan_index, _due, owners, year), n_indicators in zip(
            self.task_info, self.indicator_counts(), strict=True
        ):
            plan_id = self.plan_info[plan_index][0]
            updates = self.task_updates.get(task_id, [])
            stamps = [ts for _, ts, _ in updates]
            for order in range(rng.choices([0, 1, 2, 3], [25, 30, 25, 20])[0]):
                day = datetime.date(year, rng.randint(2, 12), rng.randint(1, 28))
                done_on = done_by = None
                if updates and day < self.today and rng.random() < 0.75:
                    found = min(bisect.bisect_left(stamps, staff.at(day) - 14 * 86400), len(updates) - 1)
                    done_by, ts, _ = updates[found]
                    done_on = staff.local_date(ts)
                milestones.append(
                    (milestone_id, task_id, day, rng.choice(staff.MILESTONE_TEXTS), done_on, done_by, order)
                )
                milestone_id += 1
            for order in range(n_indicators):
                name, comparator, unit = rng.choice(staff.INDICATOR_KINDS)
                target = Decimal(rng.randint(80, 98)) if unit == "%" else Decimal(rng.randint(5, 20))
                baseline = (target - rng.randint(3, 10)) if comparator == ">=" else (target + rng.randint(1, 5))
                indicators.append(
                    (
                        indicator_id,
                        plan_id,
                        task_id,
                        f"{rng.choice(staff.TOPICS)}{name}",
                        comparator,
                        f"{target:.4f}",
                        unit,
                        None if rng.random() < 0.7 else datetime.date(year, 12, 31),
                        f"{baseline:.4f}",
                        order,
                    )
                )
                indicator_tasks.append((plan_id, year, task_id, owners[0], target))
                indicator_id += 1
        staff.copy_rows(
            self.cur,
            "tasks_milestone",
            ["id", "task_id", "due_on", "text", "done_on", "done_by_update_id", "order"],
            milestones,
        )
        self.log("milestones", len(milestones), started)
        started = time.perf_counter()
        staff.copy_rows(
            self.cur,
            "indicators_indicator",
            ["id", "plan_id", "task_id", "name", "comparator", "target", "unit", "due_on", "baseline", "order"],
            indicators,
        )
        self.log("indicators", len(indicators), started)

        started = time.perf_counter()
        weights = [0.0 if rng.random() < 0.1 else rng.lognormvariate(0, 0.8) for _ in indicators]
        per_indicator = staff.spread(self.n_readings, weights, rng)
        readings = []
        reading_id = 1
        for (ind_id, *_), (plan_id, year, task_id, lead, target), count in zip(
            indicators, indicator_tasks, per_indicator, strict=True
        ):
            updates = self.task_updates.get(task_id, [])
            for _ in range(count):
                if updates and rng.random() < 0.6:
                    update_id, ts, reporter = rng.choice(updates)
                    as_of = staff.local_date(ts)
                else:
                    update_id, reporter = None, rng.choice(self.staff[lead])
                    last = min(datetime.date(year, 12, 31), self.today - datetime.timedelta(days=1))
                    first = datetime.date(year, 1, 1)
                    as_of = first + datetime.timedelta(days=rng.randint(0, (last - first).days))
                    ts = staff.at(as_of, 15)
                value = float(target) * rng.uniform(0.75, 1.1)
                readings.append(
                    (reading_id, plan_id, ind_id, f"{value:.4f}", as_of, reporter, "", update_id, staff.iso(ts))
                )
                reading_id += 1
        staff.copy_rows(
            self.cur,
            "indicators_reading",
            [
                "id",
                "plan_id",
                "indicator_id",
                "value",
                "as_of",
                "reporter_id",
                "note",
                "progress_update_id",
                "created_at",
            ],
            readings,
        )
        self.log("readings", len(readings), started)
        del self.task_updates


SNAPSHOT_COLUMNS = [
    "day",
    "scope",
    "plan_id",
    "section_id",
    "agency_id",
    "tasks",
    "not_started",
    "in_progress",
    "done",
    "lagging",
    "on_hold",
    "overdue",
    "at_risk",
    "mean_percent",
    "indicators",
    "indicators_met",
    "indicators_missed",
    "reported",
    "report_due",
    "created_at",
]

# One day's snapshot rows as rollup_day writes them (plan, section with tasks, plan x owner
# agency), figures from the tasks as stored; at_risk and reported approximate the real rules.
SNAPSHOT_DAY_SQL = """
CREATE TEMP TABLE bench_snapshot_day ON COMMIT DROP AS
WITH latest AS (
    SELECT DISTINCT ON (indicator_id) indicator_id, value
    FROM indicators_reading ORDER BY indicator_id, as_of DESC, id DESC
), ind AS (
    SELECT i.task_id, count(*) AS n,
        count(*) FILTER (WHERE (i.comparator = '>=' AND l.value >= i.target)
                            OR (i.comparator = '<=' AND l.value <= i.target)
                            OR (i.comparator = '=' AND l.value = i.target)) AS met,
        count(l.value) AS reported
    FROM indicators_indicator i LEFT JOIN latest l ON l.indicator_id = i.id
    WHERE i.task_id IS NOT NULL GROUP BY i.task_id
), t AS (
    SELECT t.id, t.plan_id, t.section_id, t.status, t.percent,
        t.status <> 'done' AND t.due_on < %(today)s AS overdue,
        t.status NOT IN ('done', 'lagging') AND t.due_on >= %(today)s AND t.percent < %(pace)s AS amber,
        t.status <> 'done' AS due,
        t.status <> 'done' AND t.last_progress_at >= CASE p.reporting_cycle WHEN 'monthly' THEN %(month_start)s
                                                      ELSE %(quarter_start)s END AS reported,
        coalesce(ind.n, 0) AS ind_n, coalesce(ind.met, 0) AS ind_met,
        coalesce(ind.reported - ind.met, 0) AS ind_missed
    FROM tasks_task t JOIN workplans_plan p ON p.id = t.plan_id LEFT JOIN ind ON ind.task_id = t.id
    WHERE p.status = 'active'
)
SELECT * FROM (
    SELECT 'plan'::varchar AS scope, plan_id, NULL::bigint AS section_id, NULL::bigint AS agency_id, {figures}
    FROM t GROUP BY plan_id
    UNION ALL
    SELECT 'section', plan_id, section_id, NULL, {figures}
    FROM t WHERE section_id IS NOT NULL GROUP BY plan_id, section_id
    UNION ALL
    SELECT 'agency', t.plan_id, NULL, o.agency_id, {figures}
    FROM t JOIN tasks_taskowner o ON o.task_id = t.id GROUP BY t.plan_id, o.agency_id
) AS rows ORDER BY plan_id, CASE scope WHEN 'plan' THEN 0 WHEN 'section' THEN 1 ELSE 2 END, section_id, agency_id
""".replace(
    "{figures}",
    """
        count(*) AS tasks, count(*) FILTER (WHERE status = 'not_started') AS not_started,
        count(*) FILTER (WHERE status = 'in_progress') AS in_progress, count(*) FILTER (WHERE status = 'done') AS done,
        count(*) FILTER (WHERE status = 'lagging') AS lagging, count(*) FILTER (WHERE status = 'on_hold') AS on_hold,
        count(*) FILTER (WHERE overdue) AS overdue, count(*) FILTER (WHERE amber) AS at_risk,
        round(avg(percent), 2) AS mean_percent, sum(ind_n)::int AS indicators, sum(ind_met)::int AS indicators_met,
        sum(ind_missed)::int AS indicators_missed, count(*) FILTER (WHERE reported) AS reported,
        count(*) FILTER (WHERE due) AS report_due""",
)

# The same rows on an earlier day: a share f (0..1] of the year's progress made by then.
SNAPSHOT_INSERT_SQL = """
INSERT INTO dashboards_snapshot ({columns})
SELECT %(day)s::date, scope, plan_id, section_id, agency_id, tasks, not_started,
    in_progress + done - floor(done * %(f)s)::int, floor(done * %(f)s)::int, lagging, on_hold,
    floor(overdue * %(f)s)::int, at_risk, round(mean_percent * (0.15 + 0.85 * %(f)s), 2), indicators,
    floor(indicators_met * %(f)s)::int, indicators_missed, reported, report_due,
    (%(day)s::date + 1 + time '00:10') AT TIME ZONE 'Asia/Shanghai'{extra}
FROM bench_snapshot_day
"""


def make_snapshots(cursor, today: datetime.date, days: int) -> int:
    """The snapshot history: `days` days before `today`, appended day by day. The table's
    secondary indexes are dropped for the load and built again after it."""
    from workplans.cycles import cycle_for

    started = time.perf_counter()
    elapsed = (today - datetime.date(today.year, 1, 1)).days / 365
    cursor.execute(
        SNAPSHOT_DAY_SQL,
        {
            "today": today,
            "pace": max(0, round(100 * elapsed) - 20),
            "month_start": cycle_for("monthly", 28, today).start,
            "quarter_start": cycle_for("quarterly", 28, today).start,
        },
    )
    cursor.execute(
        "SELECT count(*), count(*) FILTER (WHERE scope = 'plan'), count(*) FILTER (WHERE scope = 'section'),"
        " count(*) FILTER (WHERE scope = 'agency') FROM bench_snapshot_day"
    )
    per_day, plans, sections, agencies = cursor.fetchone()
    print(
        f"  snapshot rows per day: {per_day:,} ({plans:,} plan, {sections:,} section, {agencies:,} agency)", flush=True
    )

    cursor.execute("""SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i
                      JOIN pg_class c ON c.oid = i.indexrelid
                      WHERE i.indrelid = 'dashboards_snapshot'::regclass
                        AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)""")
    indexes = cursor.fetchall()
    for name, _definition in indexes:
        cursor.execute(f'DROP INDEX "{name}"')

    extra = staff.unknown_columns("dashboards_snapshot", SNAPSHOT_COLUMNS)
    columns = ", ".join(f'"{c}"' for c in [*SNAPSHOT_COLUMNS, *(c for c, _ in extra)])
    statement = SNAPSHOT_INSERT_SQL.format(columns=columns, extra="".join(f", %(extra{n})s" for n in range(len(extra))))
    total = 0
    for n in range(days):
        day = today - datetime.timedelta(days=days - n)
        values = {"day": day, "f": Decimal(n + 1) / days} | {f"extra{k}": v for k, (_, v) in enumerate(extra)}
        cursor.execute(statement, values)
        total += cursor.rowcount
    print(f"  {'snapshots':<34} {total:>10,} rows  {time.perf_counter() - started:6.1f} s", flush=True)

    started = time.perf_counter()
    cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
    for _name, definition in indexes:
        cursor.execute(definition)
    print(
        f"  {f'snapshot indexes ({len(indexes)})':<34} {'':>10}       {time.perf_counter() - started:6.1f} s",
        flush=True,
    )
    return total


def generate(params: dict, now: datetime.datetime) -> float:
    """As bench_staff_pages.generate(), with this generator and the snapshots."""
    from django.core.management.color import no_style
    from django.db import connection, transaction

    started = time.perf_counter()
    tables = sorted({m._meta.db_table for m in staff.app_models()} | {"django_session"})
    today = now.astimezone(staff.CST).date()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        cursor.execute(f"DROP TABLE IF EXISTS {MARKER_TABLE}")
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        superuser = cursor.fetchone()[0]
        if superuser:
            # Foreign keys checked in bulk below instead of row by row during the load.
            cursor.execute("SET LOCAL session_replication_role = replica")
        Generator(
            cursor,
            n_plans=params["plans"],
            n_indicators=params["indicators"],
            n_tasks=params["tasks"],
            n_updates=params["updates"],
            n_readings=params["readings"],
            seed=params["seed"],
            now=now,
        ).run()
        snapshots = make_snapshots(cursor, today, params["snapshot_days"])
        if superuser:
            cursor.execute("SET LOCAL session_replication_role = origin")
            staff.check_references(cursor)
            for column, target in (
                ("plan_id", "workplans_plan"),
                ("section_id", "workplans_section"),
                ("agency_id", "accounts_agency"),
            ):
                cursor.execute(
                    f"SELECT count(*) FROM (SELECT DISTINCT {column} AS id FROM bench_snapshot_day) c "
                    f"WHERE c.id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {target} p WHERE p.id = c.id)"
                )
                assert cursor.fetchone()[0] == 0, f"a snapshot's {column} points to no {target}"
        for statement in connection.ops.sequence_reset_sql(no_style(), staff.app_models()):
            cursor.execute(statement)
        cursor.execute(
            f"CREATE TABLE {MARKER_TABLE} (key text PRIMARY KEY, params jsonb NOT NULL, "
            "made_on date NOT NULL, snapshots bigint NOT NULL, made_at timestamptz)"
        )
        cursor.execute(
            f"INSERT INTO {MARKER_TABLE} VALUES ('data', %s, %s, %s, now())", [json.dumps(params), today, snapshots]
        )
    load = time.perf_counter() - started
    step = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) " + ", ".join(tables))
    print(f"  {'VACUUM ANALYZE':<34} {'':>10}       {time.perf_counter() - step:6.1f} s")
    return load + time.perf_counter() - step


def data_is_current(cursor, params: dict) -> bool:
    cursor.execute("SELECT to_regclass(%s)", [MARKER_TABLE])
    if cursor.fetchone()[0] is None:
        return False
    cursor.execute(f"SELECT params, made_on, snapshots FROM {MARKER_TABLE} WHERE key = 'data'")
    row = cursor.fetchone()
    if row is None:
        return False
    marker, made_on, snapshots = row
    if (marker if isinstance(marker, dict) else json.loads(marker)) != params:
        return False
    cursor.execute(
        """SELECT (SELECT count(*) FROM workplans_plan), (SELECT count(*) FROM tasks_task),
                             (SELECT count(*) FROM indicators_indicator), (SELECT count(*) FROM tasks_progressupdate),
                             (SELECT count(*) FROM dashboards_snapshot WHERE day < %s)""",
        [made_on],
    )
    return cursor.fetchone() == (params["plans"], params["tasks"], params["indicators"], params["updates"], snapshots)


# --- Who is measured ----------------------------------------------------------------------------


def scope_task_counts(cursor, year: int) -> dict[int, tuple[int, int]]:
    """Per agency: (agencies in its scope, tasks of the year's published plans the scope owns)."""
    from accounts.models import Agency

    counts = {}
    for agency in Agency.objects.order_by("pk"):
        scope = sorted(agency.descendant_ids())
        cursor.execute(
            """SELECT count(*) FROM tasks_task t JOIN workplans_plan p ON p.id = t.plan_id
                          WHERE p.year = %s AND p.status <> 'draft' AND EXISTS (
                              SELECT 1 FROM tasks_taskowner o WHERE o.task_id = t.id AND o.agency_id = ANY(%s))""",
            [year, scope],
        )
        counts[agency.pk] = (len(scope), cursor.fetchone()[0])
    return counts


def leader_of(agency_id: int):
    from accounts.models import User

    return (
        User.objects.select_related("agency")
        .filter(agency_id=agency_id, role="leader", is_active=True)
        .order_by("pk")
        .first()
    )


def pick_subjects(counts: dict[int, tuple[int, int]]):
    """The top agency (the widest scope), a mid-size department (the median by tasks of the
    agencies right below it) and the agency whose scope is nearest LEDGER_TASKS tasks."""
    from accounts.models import Agency

    top = max(counts, key=lambda a: (counts[a][0], counts[a][1], -a))
    below = sorted(Agency.objects.filter(parent_id=top).values_list("pk", flat=True), key=lambda a: (counts[a][1], a))
    mid = below[len(below) // 2]
    ledger = min(counts, key=lambda a: (abs(counts[a][1] - LEDGER_TASKS), a))
    return top, mid, ledger


# --- Measuring -----------------------------------------------------------------------------------


class QueryLog:
    """Client-side time of every query run inside it: count, total and the slowest."""

    def __init__(self):
        self.queries = []  # (ms, sql, params)

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.queries.append(((time.perf_counter() - started) * 1000, sql, None if many else params))

    @property
    def total_ms(self) -> float:
        return sum(ms for ms, _, _ in self.queries)

    def slowest(self, n: int):
        return sorted(self.queries, key=lambda q: q[0], reverse=True)[:n]


def timed_call(fn, *args, **kwargs):
    """fn(*args, **kwargs) with its wall time (s) and its queries."""
    from django.db import connection

    log = QueryLog()
    with connection.execute_wrapper(log):
        started = time.perf_counter()
        result = fn(*args, **kwargs)
        seconds = time.perf_counter() - started
    return result, seconds, log


def explain_query(sql: str, params) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def print_slowest(log: QueryLog, show: int, chars: int, explain_too: bool) -> None:
    for ms, sql, params in log.slowest(show):
        print(f"  slow query, {ms:.1f} ms client-side: {staff.shorten(sql, chars)}")
        if explain_too and sql.lstrip().upper().startswith("SELECT") and params is not None:
            print("    EXPLAIN (ANALYZE, BUFFERS):")
            print("      " + explain_query(sql, params).replace("\n", "\n      "))


def load_note() -> str:
    return (
        f"load average {', '.join(f'{n:.1f}' for n in os.getloadavg())} on {os.cpu_count()} CPUs: "
        "other work on the machine inflates the figures"
    )


TREND_POINTS_SQL = """
INSERT INTO dashboards_trendpoint (day, year, agency_id, tasks, done, weighted_percent)
SELECT s.day, p.year, s.agency_id, SUM(s.tasks), SUM(s.done), SUM(s.mean_percent * s.tasks)
  FROM dashboards_snapshot s JOIN workplans_plan p ON p.id = s.plan_id
 WHERE s.scope = 'agency' GROUP BY s.day, p.year, s.agency_id
UNION ALL
SELECT s.day, p.year, NULL, SUM(s.tasks), SUM(s.done), SUM(s.mean_percent * s.tasks)
  FROM dashboards_snapshot s JOIN workplans_plan p ON p.id = s.plan_id
 WHERE s.scope = 'plan' GROUP BY s.day, p.year
"""


def ensure_trend_points() -> None:
    """The trend points rollup_day writes after each day's snapshots, for the generated history
    (the same sums write_trend_points makes, in one statement)."""
    from django.db import connection, transaction

    from dashboards.models import TrendPoint

    if TrendPoint.objects.exists():
        return
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(TREND_POINTS_SQL)
        cursor.execute("ANALYZE dashboards_trendpoint")
    print(f"trend points: {TrendPoint.objects.count():,} rows in {time.perf_counter() - started:.1f} s")


# --- The reference: the page's figures in hand-written SQL ------------------------------------

# Per plan (and summed, the scope's total) and per owner agency: the same figures as
# dashboards.rollup.task_aggregates, written by hand. %(scope)s is NULL for everything.
REF_TASKS = """
WITH t AS (
    SELECT t.id, t.plan_id, t.status, t.percent, t.due_on, t.last_progress_at, t.reporting_exempt,
           p.status AS plan_status, p.reporting_cycle, p.title
    FROM tasks_task t JOIN workplans_plan p ON p.id = t.plan_id
    WHERE p.year = %(year)s AND p.status <> 'draft'
      AND (%(scope)s::bigint[] IS NULL OR t.id IN (
          SELECT o.task_id FROM tasks_taskowner o WHERE o.agency_id = ANY(%(scope)s::bigint[])))
)
SELECT {key}, count(*),
    count(*) FILTER (WHERE status = 'not_started'), count(*) FILTER (WHERE status = 'in_progress'),
    count(*) FILTER (WHERE status = 'done'), count(*) FILTER (WHERE status = 'lagging'),
    count(*) FILTER (WHERE status = 'on_hold'), count(*) FILTER (WHERE status = 'closed'),
    count(*) FILTER (WHERE status NOT IN ('done', 'closed') AND due_on < %(today)s),
    count(*) FILTER (WHERE status NOT IN ('done', 'closed', 'lagging') AND due_on >= %(today)s
                       AND ((due_on <= %(soon)s AND percent < %(soon_percent)s) OR percent < %(pace_percent)s)),
    sum(percent),
    count(*) FILTER (WHERE plan_status = 'active' AND NOT reporting_exempt AND status NOT IN ('done', 'closed')),
    count(*) FILTER (WHERE plan_status = 'active' AND NOT reporting_exempt AND status NOT IN ('done', 'closed')
                       AND last_progress_at >= CASE reporting_cycle WHEN 'monthly' THEN %(month_start)s::timestamptz
                                                ELSE %(quarter_start)s::timestamptz END)
FROM {source} GROUP BY {key}
"""
REF_PLANS = REF_TASKS.replace("{key}", "plan_id, title").replace("{source}", "t")
REF_AGENCIES = REF_TASKS.replace("{key}", "o.agency_id, a.name, a.order").replace(
    "{source}",
    "t JOIN tasks_taskowner o ON o.task_id = t.id JOIN accounts_agency a ON a.id = o.agency_id "
    "WHERE (%(scope)s::bigint[] IS NULL OR o.agency_id = ANY(%(scope)s::bigint[]))",
)
# Indicators: attainment by each one's latest current reading (a lateral lookup), and the
# table's first rows with their latest reading.
REF_INDICATOR_SCOPE = """
    FROM indicators_indicator i JOIN tasks_task t ON t.id = i.task_id JOIN workplans_plan p ON p.id = t.plan_id
    LEFT JOIN LATERAL (
        SELECT r.value, r.as_of, r.id FROM indicators_reading r
        WHERE r.indicator_id = i.id AND NOT EXISTS (SELECT 1 FROM indicators_reading c WHERE c.supersedes_id = r.id)
        ORDER BY r.as_of DESC, r.id DESC LIMIT 1) l ON true
    WHERE p.year = %(year)s AND p.status <> 'draft'
      AND (%(scope)s::bigint[] IS NULL OR t.id IN (
          SELECT o.task_id FROM tasks_taskowner o WHERE o.agency_id = ANY(%(scope)s::bigint[])))
"""
REF_ATTAINMENT = (
    """SELECT count(*) FILTER (WHERE (i.comparator = '>=' AND l.value >= i.target)
                                  OR (i.comparator = '<=' AND l.value <= i.target)
                                  OR (i.comparator = '=' AND l.value = i.target)),
              count(l.value), count(*)"""
    + REF_INDICATOR_SCOPE
)
REF_INDICATOR_ROWS = (
    "SELECT i.*, t.number, t.heading, p.title, l.value, l.as_of, l.id"
    + REF_INDICATOR_SCOPE
    + " ORDER BY i.plan_id, t.order, i.order, i.id LIMIT 200"
)
REF_TREND_READINGS = """
SELECT r.indicator_id, r.as_of, r.value FROM indicators_reading r
WHERE r.indicator_id = ANY(%(indicators)s) AND r.as_of >= %(year_start)s AND r.as_of < %(next_year)s
  AND NOT EXISTS (SELECT 1 FROM indicators_reading c WHERE c.supersedes_id = r.id)
ORDER BY r.as_of, r.id
"""
REF_NOTICES = """
SELECT n.agency_id, a.name, count(*) FILTER (WHERE n.level = 'blue'), count(*) FILTER (WHERE n.level = 'yellow'),
       count(*) FILTER (WHERE n.level = 'red'),
       count(*) FILTER (WHERE n.state IN ('issued', 'acknowledged') AND n.reply_due_on < %(today)s)
FROM escalation_notice n JOIN accounts_agency a ON a.id = n.agency_id JOIN tasks_task t ON t.id = n.task_id
JOIN workplans_plan p ON p.id = t.plan_id
WHERE n.state IN ('issued', 'acknowledged', 'answered') AND p.status <> 'draft'
  AND (%(scope)s::bigint[] IS NULL OR t.id IN (
      SELECT o.task_id FROM tasks_taskowner o WHERE o.agency_id = ANY(%(scope)s::bigint[])))
GROUP BY n.agency_id, a.name
"""
REF_TREND = """
SELECT day, sum(weighted_percent), sum(tasks), sum(done) FROM dashboards_trendpoint
WHERE year = %(year)s AND (CASE WHEN %(scope)s::bigint[] IS NULL THEN agency_id IS NULL
                               ELSE agency_id = ANY(%(scope)s::bigint[]) END)
GROUP BY day ORDER BY day
"""
REF_YEARS = """
SELECT DISTINCT p.year FROM workplans_plan p WHERE p.status <> 'draft'
  AND (%(scope)s::bigint[] IS NULL OR EXISTS (
      SELECT 1 FROM tasks_task t JOIN tasks_taskowner o ON o.task_id = t.id
      WHERE t.plan_id = p.id AND o.agency_id = ANY(%(scope)s::bigint[])))
ORDER BY 1 DESC
"""
# The current cycle's reporting (supervision.rates): owing tasks by their report's state,
# overall and per lead agency, and the co-owners' input.
REF_REPORTING = """
WITH owing AS (
    SELECT t.id, r.state FROM tasks_task t JOIN workplans_plan p ON p.id = t.plan_id
    LEFT JOIN supervision_periodreport r ON r.task_id = t.id AND r.period_start =
        CASE p.reporting_cycle WHEN 'monthly' THEN %(month_day)s::date ELSE %(quarter_day)s::date END
    WHERE p.year = %(year)s AND p.status = 'active' AND NOT t.reporting_exempt AND t.status NOT IN ('done', 'closed')
      AND (%(scope)s::bigint[] IS NULL OR t.id IN (
          SELECT o.task_id FROM tasks_taskowner o WHERE o.agency_id = ANY(%(scope)s::bigint[])))
)
SELECT o.agency_id, o.role, count(*),
       count(*) FILTER (WHERE w.state IN ('pending_signoff', 'pending_review', 'accepted')),
       count(*) FILTER (WHERE w.state = 'accepted'), count(*) FILTER (WHERE w.state IN ('unit_returned', 'returned'))
FROM owing w JOIN tasks_taskowner o ON o.task_id = w.id
GROUP BY ROLLUP (o.agency_id, o.role)
"""


def reference_figures(scope: set[int] | None, year: int, today: datetime.date) -> dict:
    """The overview page's figures for `scope` in hand-written SQL, one statement each: what
    the page costs at the least (the reference every timing of the page is compared to)."""
    from django.db import connection

    from tasks import risk
    from workplans.cycles import cycle_for

    policy = risk._policy(None)
    expected = risk._expected_percent(*risk.plan_year_bounds(year), today)
    params = {
        "year": year,
        "today": today,
        "scope": None if scope is None else sorted(scope),
        "soon": today + datetime.timedelta(days=policy["due_soon_days"]),
        "soon_percent": risk._due_soon_min_percent(policy),
        "pace_percent": float(risk._on_pace_min_percent(expected, policy)),
        "month_start": staff.iso(staff.at(cycle_for("monthly", 28, today).start, 0)),
        "quarter_start": staff.iso(staff.at(cycle_for("quarterly", 28, today).start, 0)),
        "month_day": cycle_for("monthly", 28, today).start,
        "quarter_day": cycle_for("quarterly", 28, today).start,
        "year_start": datetime.date(year, 1, 1),
        "next_year": datetime.date(year + 1, 1, 1),
    }
    out = {}
    with connection.cursor() as cursor:
        for name, sql in (
            ("plans", REF_PLANS),
            ("agencies", REF_AGENCIES),
            ("attainment", REF_ATTAINMENT),
            ("indicator_rows", REF_INDICATOR_ROWS),
            ("notices", REF_NOTICES),
            ("trend", REF_TREND),
            ("years", REF_YEARS),
            ("reporting", REF_REPORTING),
        ):
            cursor.execute(sql, params)
            out[name] = cursor.fetchall()
        ids = [row[0] for row in out["indicator_rows"]][:100]
        cursor.execute(REF_TREND_READINGS, params | {"indicators": ids})
        out["trend_readings"] = cursor.fetchall()
    out["plans"].sort(key=lambda row: row[1])
    out["agencies"].sort(key=lambda row: (row[2], row[1]))
    return out


def check_reference(label: str, scope, year: int, today: datetime.date) -> None:
    """The reference must count what the page counts: its totals beside the page's."""
    from dashboards.services import overview

    data = overview(scope, year, today)
    ref = reference_figures(scope, year, today)
    mine = (data.total.tasks, data.total.overdue, data.total.at_risk, data.total.report_due, data.total.reported)
    theirs = tuple(sum(row[i] or 0 for row in ref["plans"]) for i in (2, 9, 10, 12, 13))
    met, reported, total = ref["attainment"][0]
    indicators_mine = (data.indicators_met, data.indicators_missed, data.indicators_unreported)
    indicators_ref = (met, reported - met, total - reported)
    same = mine == theirs and indicators_mine == indicators_ref and len(data.agencies) == len(ref["agencies"])
    print(
        f"  reference check, {label}: page (tasks, overdue, at risk, due, reported) {mine}, indicators "
        f"{indicators_mine}; raw SQL {theirs}, {indicators_ref} — {'same' if same else 'DIFFERENT'}"
    )


def signed_in(user):
    """A test client signed in as `user`; an administrator's session has passed the second
    factor too (accounts.two_factor: the three administrators sign in with two)."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.two_factor.services import required_for

    client = Client()
    client.force_login(user)
    if required_for(user):
        device, _ = TOTPDevice.objects.get_or_create(user=user, name="bench", defaults={"confirmed": True})
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


def measure_dashboards(args, subjects, year: int, today: datetime.date) -> list:
    """Per subject: the first look (the dashboard's cache emptied before each request) and the warm look
    (the overview computed and kept, as refresh_overviews leaves it), each interleaved with
    the reference (reference_figures, the same figures in hand-written SQL) and recorded."""
    from django.core.cache.backends.locmem import LocMemCache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.services import scope_agency_ids
    from dashboards import services

    print(
        f"\n== /dashboard/: first look and warm look, {args.runs} of each beside the raw SQL of the same "
        f"figures, interleaved ({load_note()})"
    )
    results = []
    for label, user in subjects:
        client = signed_in(user)
        scope = scope_agency_ids(user)
        check_reference(label, scope, year, today)

        def get(client=client):
            response = client.get("/dashboard/")
            if response.status_code != 200:
                raise RuntimeError(f"GET /dashboard/ answered {response.status_code}")

        def cold(get=get):
            # The dashboard's own cache emptied (its figures, year lists, pages and reporting
            # rates: dashboards.services.cache), nothing else: the frame's header badges stay
            # cached as on any page, and the reference computes none of them.
            services.cache = LocMemCache(f"bench-dashboard-{time.perf_counter_ns()}", {})
            get()

        def reference(scope=scope):
            reference_figures(scope, year, today)

        cold_ms, cold_ref = report.interleave(cold, reference, runs=args.runs, warmup=1)
        services.cache = LocMemCache("bench-dashboard-queries", {})
        with CaptureQueriesContext(connection) as first:  # the queries of a first look
            get()
        cold_result = {"queries": len(first.captured_queries), "selects": []}
        warm_ms, warm_ref = report.interleave(get, reference, runs=args.runs, warmup=args.warmup)
        warm_result = staff.measure(client, "/dashboard/", warmup=0, runs=1)
        cold_ratio = statistics.median(cold_ms) / statistics.median(cold_ref)
        rows = {
            "cold": report.record(
                "dashboards",
                f"first look (dashboard cache empty), {label}",
                samples=cold_ms,
                reference=cold_ref,
                reference_name="the same figures in hand-written SQL",
                queries=cold_result["queries"],
                target=f"≤ {COLD_RATIO_TARGET:g}× raw SQL",
                met=cold_ratio <= COLD_RATIO_TARGET,
                tasks=args.tasks,
            ),
            "warm": report.record(
                "dashboards",
                f"warm look (overview kept), {label}",
                samples=warm_ms,
                reference=warm_ref,
                reference_name="the same figures in hand-written SQL",
                queries=warm_result["queries"],
                target=f"≤ {DASHBOARD_TARGET_MS:.0f} ms",
                met=statistics.median(warm_ms) <= DASHBOARD_TARGET_MS,
                tasks=args.tasks,
            ),
        }
        results.append((label, rows))
        print(f"\n{label}: {user.username}, {'every agency' if scope is None else f'{len(scope)} agencies'}")
        for kind, row, measured in (
            ("first look", rows["cold"], cold_result),
            ("warm look", rows["warm"], warm_result),
        ):
            print(
                f"  {kind}: median {row['median']:.1f} ms, p95 {row['p95']:.1f} ms, {row['queries']} queries; "
                f"raw SQL {row['reference']:.1f} ms; {row['ratio']:.2f}× the raw SQL"
            )
            for ms, sql in measured["selects"][: args.show]:
                print(f"    slow query, {ms:.1f} ms on the server: {staff.shorten(sql, args.sql_chars)}")
            if args.explain:
                for ms, sql in measured["selects"][: args.explain_count]:
                    print(f"    EXPLAIN (ANALYZE, BUFFERS) of the {ms:.1f} ms query:")
                    print("      " + staff.explain(sql).replace("\n", "\n      "))
    return results


def measure_rollup(args, today: datetime.date) -> dict:
    from django.db import connection

    from dashboards.models import Snapshot
    from dashboards.rollup import rollup_day

    def day_rows():
        with connection.cursor() as cursor:
            cursor.execute(
                """SELECT count(*), count(*) FILTER (WHERE scope = 'plan'),
                                     count(*) FILTER (WHERE scope = 'section'),
                                     count(*) FILTER (WHERE scope = 'agency'),
                                     md5(string_agg(concat_ws(',', scope, plan_id, section_id, agency_id, tasks,
                                         not_started, in_progress, done, lagging, on_hold, overdue, at_risk,
                                         mean_percent, indicators, indicators_met, indicators_missed, reported,
                                         report_due), ';' ORDER BY scope, plan_id, section_id, agency_id))
                              FROM dashboards_snapshot WHERE day = %s""",
                [today],
            )
            return cursor.fetchone()

    print(f"\n== rollup_day({today}) for every active plan ({load_note()})")
    removed, _ = Snapshot.objects.filter(day=today).delete()
    if removed:
        print(f"  removed {removed:,} rows of {today} left by an earlier run")
    runs = []
    for n in (1, 2):
        written, seconds, log = timed_call(rollup_day, today)
        rows = day_rows()
        runs.append({"seconds": seconds, "written": written, "rows": rows, "log": log})
        what = "nothing stored for the day yet" if n == 1 else "replacing the first run's rows"
        print(
            f"\nrun {n} ({what}): {seconds:.1f} s, {written:,} rows written; {len(log.queries)} queries, "
            f"{log.total_ms / 1000:.1f} s of SQL client-side"
        )
        print(f"  stored for {today}: {rows[0]:,} rows ({rows[1]:,} plan, {rows[2]:,} section, {rows[3]:,} agency)")
        print_slowest(log, args.show, args.sql_chars, explain_too=args.explain or seconds > ROLLUP_TARGET_S)
    first, second = runs[0]["rows"], runs[1]["rows"]
    same = first == second and runs[0]["written"] == runs[1]["written"] == first[0]
    print(
        f"\nidempotent: {'yes' if same else 'NO'} — run 1 left {first[0]:,} rows, run 2 left {second[0]:,}; "
        f"contents {'identical' if first[4] == second[4] else 'DIFFERENT'} (md5 of the rows)"
    )
    if not args.keep:
        Snapshot.objects.filter(day=today).delete()
        print(f"  (the rows of {today} removed again: the next run starts from the same data; --keep to keep them)")
    return {"runs": runs, "idempotent": same}


# What the ledger prints for a scope, read in hand-written SQL: each task with its plan,
# owners, latest note, and its indicators with their latest reading.
REF_LEDGER = """
SELECT t.id, t.number, t.heading, t.status, t.percent, t.due_on, p.title, s.label, s.title,
       (SELECT string_agg(a.name, '、' ORDER BY o.role, o."order") FROM tasks_taskowner o
          JOIN accounts_agency a ON a.id = o.agency_id WHERE o.task_id = t.id),
       (SELECT u.note FROM tasks_progressupdate u WHERE u.task_id = t.id AND u.note <> ''
          ORDER BY u.created_at DESC, u.id DESC LIMIT 1),
       (SELECT string_agg(i.name || ' ' || coalesce(l.value::text, '—'), '；' ORDER BY i."order", i.id)
          FROM indicators_indicator i LEFT JOIN LATERAL (
              SELECT r.value FROM indicators_reading r WHERE r.indicator_id = i.id
                AND NOT EXISTS (SELECT 1 FROM indicators_reading c WHERE c.supersedes_id = r.id)
              ORDER BY r.as_of DESC, r.id DESC LIMIT 1) l ON true
          WHERE i.task_id = t.id)
FROM tasks_task t JOIN workplans_plan p ON p.id = t.plan_id LEFT JOIN workplans_section s ON s.id = t.section_id
WHERE p.year = %(year)s AND p.status <> 'draft'
  AND t.id IN (SELECT o.task_id FROM tasks_taskowner o WHERE o.agency_id = ANY(%(scope)s::bigint[]))
ORDER BY p.id, s."order", t."order", t.id
"""


def reference_ledger(scope: set[int], year: int) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(REF_LEDGER, {"year": year, "scope": sorted(scope)})
        return len(cursor.fetchall())


def measure_exports(args, user, year: int) -> dict:
    from django.core.files.storage import default_storage

    from accounts.services import scope_agency_ids
    from dashboards.exports.runner import run_export
    from dashboards.models import Export, ExportKind

    print(f"\n== exports for {user.username} (leader of {user.agency.name}), {year}, all plans ({load_note()})")
    scope = scope_agency_ids(user)
    results = {}
    for kind in (ExportKind.LEDGER, ExportKind.BULLETIN):
        export = Export.objects.create(kind=kind, requested_by=user, year=year)
        reference_before = timed_call(reference_ledger, scope, year)[1]
        outcome, seconds, log = timed_call(run_export, export.pk)
        reference_after = timed_call(reference_ledger, scope, year)[1]
        export.refresh_from_db()
        size = default_storage.size(export.file.name) if export.file else 0
        report.record(
            "dashboards",
            f"{kind.value} export, {export.done_rows:,} tasks",
            samples=[seconds * 1000],
            reference=[reference_before * 1000, reference_after * 1000],
            reference_name="the ledger's rows in hand-written SQL (before and after)",
            queries=len(log.queries),
            tasks=args.tasks,
            note="one run: an export is minutes of work at this size",
        )
        results[kind.value] = {"seconds": seconds, "rows": export.done_rows, "bytes": size, "outcome": outcome}
        print(
            f"\n{export.get_kind_display()}: {outcome}, {seconds:.1f} s, {export.done_rows:,} tasks, "
            f"{size / 1024 / 1024:.1f} MB ({export.filename}); {len(log.queries)} queries, "
            f"{log.total_ms / 1000:.1f} s of SQL client-side"
        )
        if outcome != "done":
            print(f"  error: {export.error}")
        print_slowest(log, args.show, args.sql_chars, explain_too=args.explain)
        if export.file:
            default_storage.delete(export.file.name)
        export.delete()
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true", help="regenerate the data even if it is current")
    parser.add_argument("--tasks", type=int, default=50_000, help="the size: 5000, 50000 or 500000")
    parser.add_argument("--plans", type=int, default=None, help="default: one per 50 tasks")
    parser.add_argument("--updates", type=int, default=None, help="default: 20 per task")
    parser.add_argument("--indicators", type=int, default=None, help="default: 0.4 per task")
    parser.add_argument("--readings", type=int, default=None, help="default: 2 per task")
    parser.add_argument("--snapshot-days", type=int, default=None, help="default: 300 (30 above 50,000 tasks)")
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument(
        "--runs", type=int, default=None, help="timed requests per dashboard look (default: 15, 5 above 50,000 tasks)"
    )
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--show", type=int, default=3, help="slowest queries shown per measurement")
    parser.add_argument("--sql-chars", type=int, default=400, help="SQL shown per query, in characters")
    parser.add_argument(
        "--explain",
        action="store_true",
        help="EXPLAIN ANALYZE the slowest queries everywhere (by default: of missed targets only)",
    )
    parser.add_argument("--explain-count", type=int, default=3, help="queries EXPLAINed per failing dashboard")
    parser.add_argument("--keep", action="store_true", help="keep the snapshot rows the rollup writes for today")
    parser.add_argument("--skip", nargs="*", default=[], choices=["dashboard", "rollup", "export"])
    args = parser.parse_args()
    sized(args)
    if args.runs is None:
        args.runs = 15 if args.tasks <= 50_000 else 5

    url = os.environ.setdefault("DATABASE_URL", report.database_url(DATABASE_NAME, args.tasks))
    staff.ensure_database(url)
    media = tempfile.TemporaryDirectory(prefix="bench-dash-media-")
    os.environ["MEDIA_ROOT"] = media.name  # export files go here, not to var/media

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from accounts.models import User

    call_command("migrate", verbosity=0, interactive=False)
    print(
        f"database: {connection.vendor} {connection.pg_version // 10000} ({connection.settings_dict['NAME']}), "
        f"DEBUG={settings.DEBUG}"
    )

    # The staff benchmark's generator version too: a change to the generator we borrow regenerates.
    params = {
        "version": GENERATOR_VERSION,
        "staff_version": staff.GENERATOR_VERSION,
        "plans": args.plans,
        "tasks": args.tasks,
        "updates": args.updates,
        "indicators": args.indicators,
        "readings": args.readings,
        "snapshot_days": args.snapshot_days,
        "seed": args.seed,
    }
    with connection.cursor() as cursor:
        current = not args.rebuild and data_is_current(cursor, params)
    if current:
        print("data: reusing the existing data set (--rebuild to regenerate)")
    else:
        print(
            f"data: generating {args.plans:,} plans, {args.tasks:,} tasks, {args.updates:,} progress updates, "
            f"{args.indicators:,} indicators, {args.readings:,} readings, {args.snapshot_days} days of snapshots …"
        )
        seconds = generate(params, timezone.now())
        print(f"data: generated in {seconds:.1f} s")
        connection.close()

    today = timezone.localdate()
    year = today.year
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT (SELECT count(*) FROM accounts_agency), (SELECT count(*) FROM accounts_user),
                                 (SELECT count(*) FROM workplans_plan WHERE status = 'active'),
                                 (SELECT count(*) FROM workplans_plan WHERE status = 'active' AND year = %s),
                                 (SELECT count(*) FROM workplans_plan WHERE status = 'archived'),
                                 (SELECT count(*) FROM workplans_section), (SELECT count(*) FROM tasks_task),
                                 (SELECT count(*) FROM tasks_taskowner), (SELECT count(*) FROM indicators_indicator),
                                 (SELECT count(*) FROM indicators_reading), (SELECT count(*) FROM tasks_progressupdate),
                                 (SELECT count(*) FROM dashboards_snapshot),
                                 (SELECT count(DISTINCT day) FROM dashboards_snapshot),
                                 pg_size_pretty(pg_total_relation_size('dashboards_snapshot'))""",
            [year],
        )
        counts = cursor.fetchone()
        print(
            "      "
            + ", ".join(
                f"{n:,} {label}"
                for n, label in zip(
                    counts[:-1],
                    [
                        "agencies",
                        "users",
                        "active plans",
                        f"of them of {year}",
                        "archived plans",
                        "sections",
                        "tasks",
                        "task owners",
                        "indicators",
                        "readings",
                        "progress updates",
                        "snapshot rows",
                        "snapshot days",
                    ],
                    strict=True,
                )
            )
            + f" (snapshot table and indexes: {counts[-1]})"
        )
        scope_counts = scope_task_counts(cursor, year)
    top, mid, ledger_agency = pick_subjects(scope_counts)
    subjects = []
    for label, agency_id in (("leader, top agency", top), ("leader, mid-size department", mid)):
        user = leader_of(agency_id)
        n_agencies, n_tasks = scope_counts[agency_id]
        print(
            f"{label}: {user.username} of {user.agency.name} — {n_agencies} agencies in scope, "
            f"{n_tasks:,} tasks of {year}"
        )
        subjects.append((label, user))
    admin = User.objects.filter(role="admin", is_active=True).order_by("pk").first()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM tasks_task t JOIN workplans_plan p ON p.id = t.plan_id "
            "WHERE p.year = %s AND p.status <> 'draft'",
            [year],
        )
        print(f"admin: {admin.username} — every agency, {cursor.fetchone()[0]:,} tasks of {year}")
    subjects.append(("admin", admin))
    exporter = leader_of(ledger_agency)
    print(
        f"ledger: {exporter.username} of {exporter.agency.name} — {scope_counts[ledger_agency][0]} agencies in "
        f"scope, {scope_counts[ledger_agency][1]:,} tasks of {year} (the scope nearest {LEDGER_TASKS:,} tasks)"
    )

    ensure_trend_points()
    dashboards = measure_dashboards(args, subjects, year, today) if "dashboard" not in args.skip else []
    rollup = measure_rollup(args, today) if "rollup" not in args.skip else None
    exports = measure_exports(args, exporter, year) if "export" not in args.skip else {}
    media.cleanup()

    print(f"\n{'measurement':<52} {'result':>14}  target")
    for _label, rows in dashboards:
        for row in rows.values():
            verdict = "PASS" if row["met"] else "FAIL"
            print(
                f"{'/dashboard/ ' + row['name']:<52} {row['median']:>11.1f} ms  {row['target']} {verdict} "
                f"(p95 {row['p95']:.0f} ms, {row['queries']} queries, raw SQL {row['reference']:.1f} ms, "
                f"{row['ratio']:.2f}×)"
            )
    if rollup:
        for n, run in enumerate(rollup["runs"], 1):
            verdict = "PASS" if run["seconds"] <= ROLLUP_TARGET_S else "FAIL"
            print(
                f"{f'rollup_day, run {n}':<52} {run['seconds']:>12.1f} s  ≤ {ROLLUP_TARGET_S:.0f} s {verdict} "
                f"({run['written']:,} rows)"
            )
        print(f"{'rollup_day run twice leaves one set of rows':<52} {'yes' if rollup['idempotent'] else 'NO':>14}")
    for kind, label in (("ledger", "ledger (xlsx)"), ("bulletin", "bulletin (docx)")):
        if kind in exports:
            r = exports[kind]
            what = f"{label}, {r['rows']:,} tasks"
            print(f"{what:<52} {r['seconds']:>12.1f} s  no target ({r['bytes'] / 1024 / 1024:.1f} MB, {r['outcome']})")
    failed = [kind for kind, r in exports.items() if r["outcome"] != "done"]
    if failed or (rollup and not rollup["idempotent"]):
        sys.exit(1)


if __name__ == "__main__":
    main()
