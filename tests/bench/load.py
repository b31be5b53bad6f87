"""Load run: 50 staff and 10 leaders drive a real gunicorn through the real pages, then the
progress log is checked for lost updates.

Run by hand (not a test), e.g. `make load` or

  DATABASE_URL=postgres://postgres@127.0.0.1:5432/workplans_load REDIS_URL=redis://127.0.0.1:6379/15 \\
      .venv/bin/python tests/bench/load.py [--duration 120] [--workers 4] [--rebuild]

What it does:
- The database (PostgreSQL; created if missing, then migrated) gets a made-up world once, kept
  between runs while a marker table says it was made by this generator: 10 departments under
  a commission, 50 staff (5 per department), 10 leaders (2 over the commission, 8 over one
  department each), an active plan of this year with 120 tasks (each led by one department
  and co-owned by another), milestones and indicators. --rebuild makes it again.
- gunicorn (sync workers, from .venv) serves the site on 127.0.0.1 on a free port, DEBUG off,
  uploads under var/load/media. With REDIS_URL a real `celery worker` is started on a queue
  of this run's own and leaders' ledger exports above 50 rows go through it; without
  REDIS_URL jobs run eagerly inside the web process (the embedded default). Which one ran is
  printed.
- Every client signs in through the login form (CSRF and all). Staff then loop: open 我的任务
  now and then, open one of their agency's tasks, think, and save a report through the task
  page's plain form (no HTMX) with the version the page carried: lead staff change status and
  percent (and attach a small PNG now and then), co-owner staff add a note. A note carries a
  unique token. Five staff share each department's twelve tasks, so saves collide: a 409 is a
  normal outcome, counted as a conflict, and re-applied once on top of the version the 409
  page shows (as a user would). Leaders loop over the overview (chart data is in the page),
  the overview of one plan, the overview API, a drill-down the chart links to, a task page
  from it, and now and then a ledger export followed to its download.
- Rate limits and lockout: django-axes only counts failed logins (none here), but every
  client comes from 127.0.0.1, so the server process gets RATE_LIMIT_LOGIN_IP and
  RATE_LIMIT_EXPORT raised through its environment (SERVER_ENV below, printed at the start);
  the per-account login limit stays as it is, and the 60 logins are spread over the first
  --login-spread seconds.
- Afterwards, in the database: every save the server accepted (302 back to the task page) is
  in the ProgressUpdate log exactly once with its note, nothing in the log since the start is
  missing from what was accepted (a save whose answer never came is "unknown", and may be
  either), each task's version moved by exactly its number of new updates, each task shows its
  latest update, and each accepted file is stored with its checksum.

Prints requests per kind, errors (5xx, timeouts, connection errors, unexpected answers),
conflicts, lost updates, median and p95 latency per kind and overall, and requests/s. Exits 1
on any server error, unexpected answer or lost update. Traffic goes to 127.0.0.1 only.
"""

import argparse
import asyncio
import collections
import datetime
import hashlib
import html
import io
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["DEBUG"] = "0"

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/workplans_load"
HOST = "127.0.0.1"
GENERATOR_VERSION = 1
MARKER_TABLE = "load_world_marker"
# The seeded accounts' password (a throw-away load database on 127.0.0.1 only).
PASSWORD = "Ld7#pQ2x!wRk"
DEPARTMENTS = [
    "医政医管处",
    "疾病预防控制处",
    "基层卫生健康处",
    "妇幼健康处",
    "老龄健康处",
    "规划发展与信息化处",
    "中医药管理处",
    "药物政策与基本药物制度处",
    "职业健康处",
    "综合监督处",
]
STAFF_PER_DEPARTMENT = 5
TASKS_PER_DEPARTMENT = 12
LEADERS = 10
# Staff pick their department's first few tasks more often, so saves collide.
HOT_TASKS = 3
# Ledger exports above this many rows run as a Celery job (on the worker when there is one).
EXPORT_INLINE_MAX_ROWS = 50
REQUEST_TIMEOUT = 30.0
EXPORT_WAIT_SECONDS = 60

# For the server process (settings.RATE_LIMITS and the quotas read these): every client comes
# from 127.0.0.1, so the per-address login limit counts all 60 logins as one office's; leaders
# export more often in two minutes than a person does in an hour (30 per hour, counted in Redis
# across runs); staff save faster than the reporting quotas allow one person. All are raised,
# not switched off, so the limiters still run on every request. The per-account login limit
# and the lockout stay.
SERVER_ENV = {
    "RATE_LIMIT_LOGIN_IP": "100000/5m",
    "RATE_LIMIT_EXPORT": "100000/h",
    # 50 staff saving in a loop report faster than the reporting quotas allow one person.
    "REPORTS_PER_USER_MINUTE": "100000",
    "REPORTS_PER_AGENCY_MINUTE": "100000",
    "EXPORT_INLINE_MAX_ROWS": str(EXPORT_INLINE_MAX_ROWS),
}


# --- The database and its world ----------------------------------------------------------------


def database_params(url: str) -> dict:
    import environ

    config = environ.Env.db_url_config(url)
    if "postgresql" not in config["ENGINE"]:
        sys.exit(f"load.py needs PostgreSQL; DATABASE_URL is {config['ENGINE']}")
    host = config.get("HOST") or HOST
    if host not in {"127.0.0.1", "localhost", "::1"}:
        sys.exit(f"load.py runs against a local database only; DATABASE_URL points at {host}")
    return config


def ensure_database(config: dict) -> None:
    import psycopg2
    from psycopg2 import sql

    params = {
        "dbname": "postgres",
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
    }
    try:
        conn = psycopg2.connect(**{k: v for k, v in params.items() if v})
    except psycopg2.OperationalError as error:
        sys.exit(f"cannot reach PostgreSQL ({error.args[0].strip()})")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]])
        if cur.fetchone() is None:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))
            print(f"created database {config['NAME']}")
    conn.close()


def world_params() -> dict:
    return {
        "version": GENERATOR_VERSION,
        "year": datetime.datetime.now(tz=datetime.UTC).year,
        "departments": len(DEPARTMENTS),
        "staff": STAFF_PER_DEPARTMENT,
        "tasks": TASKS_PER_DEPARTMENT,
        "leaders": LEADERS,
    }


def world_is_current(params: dict) -> bool:
    import json

    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT to_regclass(%s)", [MARKER_TABLE])
        if cur.fetchone()[0] is None:
            return False
        cur.execute(f"SELECT params FROM {MARKER_TABLE}")
        row = cur.fetchone()
    return bool(row) and json.loads(row[0]) == params


def build_world(params: dict) -> None:
    """Agencies, users, one active plan with tasks, owners, milestones and indicators."""
    import json
    from decimal import Decimal

    from django.core.management import call_command
    from django.db import connection, transaction

    from accounts.choices import AgencyLevel
    from accounts.models import Agency, User
    from core.roles import Role
    from indicators.models import Indicator
    from tasks.choices import OwnerRole
    from tasks.models import Milestone, Task, TaskOwner
    from workplans.choices import PlanStatus
    from workplans.models import Plan, Section

    started = time.perf_counter()
    print("building the load world (fresh schema)...", flush=True)
    with connection.cursor() as cur:
        cur.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    call_command("migrate", verbosity=0, interactive=False)
    year = params["year"]
    with transaction.atomic():
        commission = Agency.objects.create(
            name="澄江市卫生健康委员会", short_name="市卫生健康委", level=AgencyLevel.CITY
        )
        departments = [
            Agency.objects.create(name=name, level=AgencyLevel.DEPARTMENT, parent=commission, order=i)
            for i, name in enumerate(DEPARTMENTS)
        ]
        # One hash for everyone: hashing 60 passwords would take a minute for nothing.
        prototype = User(username="load_prototype")
        prototype.set_password(PASSWORD)
        users = []
        for d, agency in enumerate(departments):
            for s in range(STAFF_PER_DEPARTMENT):
                n = d * STAFF_PER_DEPARTMENT + s + 1
                users.append(
                    User(
                        username=f"load_staff_{n:02d}",
                        full_name=f"经办人{n:02d}",
                        role=Role.STAFF,
                        agency=agency,
                        password=prototype.password,
                    )
                )
        for n in range(1, LEADERS + 1):
            agency = commission if n <= 2 else departments[n - 3]
            users.append(
                User(
                    username=f"load_leader_{n:02d}",
                    full_name=f"领导{n:02d}",
                    role=Role.LEADER,
                    agency=agency,
                    password=prototype.password,
                )
            )
        User.objects.bulk_create(users)
        plan = Plan.objects.create(
            title=f"{year}年澄江市卫生健康工作要点（负载测试）", year=year, issuer=commission, status=PlanStatus.ACTIVE
        )
        sections = [
            Section.objects.create(plan=plan, label=label, title=title, order=i)
            for i, (label, title) in enumerate(
                [
                    ("一", "提升医疗服务能力"),
                    ("二", "加强公共卫生体系"),
                    ("三", "推进基层卫生"),
                    ("四", "深化医改"),
                    ("五", "强化综合监管"),
                ]
            )
        ]
        order = 0
        for d, agency in enumerate(departments):
            for t in range(TASKS_PER_DEPARTMENT):
                order += 1
                task = Task.objects.create(
                    plan=plan,
                    section=sections[order % len(sections)],
                    number=str(order),
                    order=order,
                    heading=f"{agency.name}重点任务{t + 1}",
                    text=f"{agency.name}牵头推进第{t + 1}项重点工作。",
                    due_on=datetime.date(year, 3 + (order % 10), 28),
                )
                TaskOwner.objects.create(task=task, agency=agency, role=OwnerRole.LEAD)
                co_owner = departments[(d + 1 + t % 3) % len(departments)]
                TaskOwner.objects.create(task=task, agency=co_owner, role=OwnerRole.CO_OWNER, order=1)
                Milestone.objects.create(task=task, due_on=datetime.date(year, 6, 30), text="完成中期评估")
                if t % 4 == 0:
                    Indicator.objects.create(
                        plan=plan,
                        task=task,
                        name=f"{agency.name}覆盖率",
                        comparator=">=",
                        target=Decimal("90"),
                        unit="%",
                    )
    with connection.cursor() as cur:
        cur.execute(f"CREATE TABLE {MARKER_TABLE} (params text NOT NULL)")
        cur.execute(f"INSERT INTO {MARKER_TABLE} VALUES (%s)", [json.dumps(params)])
    print(f"  built in {time.perf_counter() - started:.1f} s", flush=True)


@dataclass
class World:
    staff: list  # (username, agency_id)
    leaders: list  # usernames
    lead_tasks: dict  # agency_id -> [task ids it leads], in order
    co_tasks: dict  # agency_id -> [task ids it co-owns]
    plan_ids: list
    year: int


def load_world(year: int) -> World:
    from accounts.models import User
    from core.roles import Role
    from tasks.choices import OwnerRole
    from tasks.models import TaskOwner
    from workplans.models import Plan

    staff = list(
        User.objects.filter(username__startswith="load_staff_", role=Role.STAFF)
        .order_by("username")
        .values_list("username", "agency_id")
    )
    leaders = list(
        User.objects.filter(username__startswith="load_leader_").order_by("username").values_list("username", flat=True)
    )
    lead_tasks, co_tasks = collections.defaultdict(list), collections.defaultdict(list)
    for task_id, agency_id, role in TaskOwner.objects.order_by("task__order", "task_id").values_list(
        "task_id", "agency_id", "role"
    ):
        (lead_tasks if role == OwnerRole.LEAD else co_tasks)[agency_id].append(task_id)
    return World(
        staff,
        leaders,
        dict(lead_tasks),
        dict(co_tasks),
        list(Plan.objects.filter(year=year).values_list("pk", flat=True)),
        year,
    )


# --- The servers ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def start_processes(args, database_url: str, redis_url: str, run_dir: Path, queue: str):
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        DEBUG="0",
        DJANGO_ENV="development",
        MEDIA_ROOT=str(run_dir / "media"),
        LOG_LEVEL="WARNING",
        **SERVER_ENV,
    )
    env.pop("REDIS_URL", None)
    if args.replica:
        # The router's paths under load: a second alias onto the same database stands in for a
        # streaming replica (no lag), so leaders' pages and API lists go through it and every
        # writer is pinned to the primary after a save.
        env["DATABASE_REPLICA_URL"] = database_url
    if redis_url:
        env.update(REDIS_URL=redis_url, CELERY_TASK_DEFAULT_QUEUE=queue)
    port = free_port()
    log = open(run_dir / "gunicorn.log", "w")  # noqa: SIM115 - the server writes to it until it stops
    venv_bin = ROOT / ".venv" / "bin"
    processes = [
        subprocess.Popen(
            [
                str(venv_bin / "gunicorn"),
                "config.wsgi:application",
                "--bind",
                f"{HOST}:{port}",
                "--workers",
                str(args.workers),
                "--timeout",
                "60",
                "--graceful-timeout",
                "10",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    ]
    if redis_url:
        worker_log = open(run_dir / "worker.log", "w")  # noqa: SIM115 - the worker writes to it until it stops
        processes.append(
            subprocess.Popen(
                [
                    str(venv_bin / "celery"),
                    "-A",
                    "config",
                    "worker",
                    "--pool=solo",
                    "-Q",
                    queue,
                    "--without-heartbeat",
                    "--without-gossip",
                    "--without-mingle",
                    "--loglevel=WARNING",
                ],
                cwd=ROOT,
                env=env,
                stdout=worker_log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
    return port, processes


def wait_until_up(port: int, processes, seconds: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if processes[0].poll() is not None:
            sys.exit("gunicorn exited during start-up; see its log")
        try:
            if httpx.get(f"http://{HOST}:{port}/healthz", timeout=2, trust_env=False).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    sys.exit("gunicorn did not answer /healthz within a minute")


def stop_processes(processes) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# --- The clients ---------------------------------------------------------------------------------


@dataclass
class Stats:
    latencies: dict = field(default_factory=lambda: collections.defaultdict(list))
    codes: dict = field(default_factory=lambda: collections.defaultdict(collections.Counter))
    errors: collections.Counter = field(default_factory=collections.Counter)
    error_samples: list = field(default_factory=list)
    conflicts: int = 0
    reapplied: int = 0
    refused: int = 0  # 400 on a save: a rule said no (counted, not an error)
    refused_samples: list = field(default_factory=list)
    accepted: dict = field(default_factory=dict)  # token -> (task id, with file sha256 or None)
    unknown: set = field(default_factory=set)  # tokens whose save got no answer
    exports: int = 0

    def error(self, kind: str, what: str, detail: str = "") -> None:
        self.errors[f"{kind}: {what}"] += 1
        if len(self.error_samples) < 10:
            self.error_samples.append(f"{kind}: {what} {detail}".strip())


INPUT = re.compile(r"<input\b[^>]*>", re.S)
ATTR = re.compile(r'([\w-]+)="([^"]*)"')
SELECT_STATUS = re.compile(r'<select\b[^>]*name="status"[^>]*>(.*?)</select>', re.S)
OPTION = re.compile(r'<option value="([^"]*)"')
CHART_DATA = re.compile(r'<script id="dashboard-data" type="application/json">(.*?)</script>', re.S)


def form_inputs(page: str) -> dict:
    values = {}
    for tag in INPUT.findall(page):
        attrs = dict(ATTR.findall(tag))
        if "name" in attrs:
            values.setdefault(attrs["name"], html.unescape(attrs.get("value", "")))
    return values


def small_png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (random.randrange(256), 90, 160)).save(buffer, "PNG")
    return buffer.getvalue()


class Client:
    def __init__(self, base: str, stats: Stats, deadline: float):
        import httpx

        self.http = httpx.AsyncClient(
            base_url=base,
            timeout=REQUEST_TIMEOUT,
            follow_redirects=False,
            trust_env=False,
            headers={"User-Agent": "workplans-load/1"},
        )
        self.stats, self.deadline = stats, deadline

    async def request(self, kind: str, method: str, url: str, expect=(200,), **kwargs):
        """One request, timed and counted. Returns the response, or None when it failed."""
        import httpx

        started = time.perf_counter()
        try:
            response = await self.http.request(method, url, **kwargs)
        except httpx.TimeoutException:
            self.stats.latencies[kind].append(time.perf_counter() - started)
            self.stats.error(kind, "timeout", url)
            return None
        except httpx.TransportError as error:
            self.stats.error(kind, "connection error", f"{url} {type(error).__name__}")
            return None
        self.stats.latencies[kind].append(time.perf_counter() - started)
        self.stats.codes[kind][response.status_code] += 1
        if response.status_code >= 500:
            self.stats.error(kind, f"HTTP {response.status_code}", url)
        elif response.status_code not in expect:
            self.stats.error(kind, f"unexpected HTTP {response.status_code}", url)
        return response

    async def login(self, username: str) -> bool:
        page = await self.request("login form", "GET", "/accounts/login/")
        if page is None or page.status_code != 200:
            return False
        token = form_inputs(page.text).get("csrfmiddlewaretoken", "")
        done = await self.request(
            "login",
            "POST",
            "/accounts/login/",
            expect=(302,),
            data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
            headers={"Referer": f"{self.http.base_url}accounts/login/"},
        )
        return done is not None and done.status_code == 302

    def running(self) -> bool:
        return time.monotonic() < self.deadline

    async def close(self) -> None:
        await self.http.aclose()


async def think(low: float, high: float) -> None:
    await asyncio.sleep(random.uniform(low, high))


async def staff_loop(
    client: Client, username: str, agency_id: int, world: World, run_token: str, args, counter
) -> None:
    stats = client.stats
    if not await client.login(username):
        return
    lead = world.lead_tasks.get(agency_id, [])
    co = world.co_tasks.get(agency_id, [])
    rounds = 0
    while client.running():
        rounds += 1
        if rounds % 5 == 1:
            await client.request("my tasks", "GET", "/tasks/mine/")
        as_lead = bool(lead) and (not co or random.random() < 0.75)
        pool = lead if as_lead else co
        task_id = random.choice(pool[:HOT_TASKS]) if as_lead and random.random() < 0.6 else random.choice(pool)
        page = await client.request("task page", "GET", f"/tasks/{task_id}/")
        if page is None or page.status_code != 200:
            await think(1, 2)
            continue
        inputs = form_inputs(page.text)
        await think(*args.think)
        if not client.running():
            break
        token = f"load:{run_token}:{next(counter)}"
        data = {
            "csrfmiddlewaretoken": inputs.get("csrfmiddlewaretoken", ""),
            # The lead's period-report panel names the task's version task_version; the
            # co-owner's input form has none (a note never conflicts: any version will do).
            "version": inputs.get("task_version") or inputs.get("version") or "1",
            "submission": inputs.get("submission", ""),
            "note": f"压测进展说明 {token}",
        }
        if as_lead:
            match = SELECT_STATUS.search(page.text)
            allowed = OPTION.findall(match.group(1)) if match else []
            percent = int(inputs.get("percent") or 0)
            status, percent = choose_state(allowed, percent)
            data.update(status=status, percent=str(percent))
        files = None
        png = None
        if random.random() < args.file_share:
            png = small_png()
            files = {"files": (f"现场照片{next(counter)}.png", png, "image/png")}
        for attempt in (1, 2):
            stats.unknown.add(token)
            response = await client.request(
                "save",
                "POST",
                f"/tasks/{task_id}/report/",
                expect=(302, 409, 400),
                data=data,
                files=files,
                headers={"Referer": f"{client.http.base_url}tasks/{task_id}/"},
            )
            if response is None:
                break  # no answer: the token stays "unknown"
            stats.unknown.discard(token)
            if response.status_code == 302:
                stats.accepted[token] = (task_id, hashlib.sha256(png).hexdigest() if png else None)
                if attempt == 2:
                    stats.reapplied += 1
                break
            if response.status_code == 409:
                stats.conflicts += 1
                again = form_inputs(response.text)
                # What the user typed is kept; the form now carries the current version.
                data.update(
                    version=again.get("version", ""),
                    submission=again.get("submission", data["submission"]),
                    csrfmiddlewaretoken=again.get("csrfmiddlewaretoken", data["csrfmiddlewaretoken"]),
                )
                if not client.running():
                    break
                continue
            if response.status_code == 400:
                stats.refused += 1
                if len(stats.refused_samples) < 5:
                    stats.refused_samples.append(f"task {task_id}: {data.get('status')} {data.get('percent')}%")
            break
        await think(*args.think)


def choose_state(allowed: list, percent: int) -> tuple[str, int]:
    """A plausible next state among the statuses the task page offers."""
    roll = random.random()
    if "done" in allowed and percent >= 90 and roll < 0.3:
        return "done", 100
    if "in_progress" in allowed and roll < 0.85:
        if percent >= 100:  # reopening a finished task
            return "in_progress", 60
        return "in_progress", min(percent + random.choice([5, 5, 10, 15]), 95)
    others = [status for status in allowed if status in ("lagging", "on_hold")]
    if others:
        return random.choice(others), min(percent, 95)
    return (allowed[0] if allowed else "in_progress"), min(percent, 95)


async def leader_loop(client: Client, username: str, world: World, args) -> None:
    import json

    stats = client.stats
    if not await client.login(username):
        return
    rounds = 0
    while client.running():
        rounds += 1
        overview = await client.request("dashboard", "GET", f"/dashboard/?year={world.year}")
        links = []
        if overview is not None and overview.status_code == 200:
            match = CHART_DATA.search(overview.text)
            if match:
                chart = json.loads(html.unescape(match.group(1)))
                links = [row["url"] for row in chart.get("agencies", []) if row.get("url")]
            else:
                stats.error("dashboard", "no chart data in the page")
        await think(*args.leader_think)
        if world.plan_ids:
            await client.request("dashboard plan", "GET", f"/dashboard/?year={world.year}&plan={world.plan_ids[0]}")
        await client.request("dashboard api", "GET", f"/api/v1/dashboard/overview/?year={world.year}")
        if links:
            drill = await client.request("drill-down", "GET", random.choice(links))
            if drill is not None and drill.status_code == 200:
                ids = re.findall(r'href="/tasks/(\d+)/"', drill.text)
                if ids:
                    await client.request("task page (leader)", "GET", f"/tasks/{random.choice(ids)}/")
        if rounds % 4 == 2 and client.running():
            await export_ledger(client, world)
        await think(*args.leader_think)


async def export_ledger(client: Client, world: World) -> None:
    stats = client.stats
    page = await client.request("dashboard", "GET", f"/dashboard/?year={world.year}")
    if page is None or page.status_code != 200:
        return
    token = form_inputs(page.text).get("csrfmiddlewaretoken", "")
    response = await client.request(
        "export",
        "POST",
        "/dashboard/exports/ledger/",
        expect=(303,),
        data={"csrfmiddlewaretoken": token, "year": str(world.year)},
        headers={"Referer": f"{client.http.base_url}dashboard/"},
    )
    if response is None or response.status_code != 303:
        return
    match = re.search(r"/dashboard/exports/(\d+)/", response.headers.get("location", ""))
    if not match:
        stats.error("export", "no status page in the redirect")
        return
    export_id = match.group(1)
    waited_until = time.monotonic() + EXPORT_WAIT_SECONDS
    while time.monotonic() < waited_until:
        progress = await client.request("export progress", "GET", f"/dashboard/exports/{export_id}/progress/")
        if progress is None or progress.status_code != 200:
            return
        body = progress.json()
        # core.jobs.progress_payload: "next" is the file's address once the export is done.
        if body.get("status") == "done" and body.get("next"):
            await client.request("export download", "GET", body["next"])
            stats.exports += 1
            return
        if body.get("status") == "failed":
            stats.error("export", "failed", body.get("error", ""))
            return
        await asyncio.sleep(1)
    stats.error("export", f"not done within {EXPORT_WAIT_SECONDS} s", export_id)


async def drive(base: str, world: World, args, run_token: str) -> tuple[Stats, float]:
    import itertools

    stats = Stats()
    counter = itertools.count(1)
    started = time.monotonic()
    deadline = started + args.duration
    people = [("staff", username, agency) for username, agency in world.staff[: args.staff]]
    people += [("leader", username, None) for username in world.leaders[: args.leaders]]
    random.shuffle(people)
    clients = []

    async def one(i, role, username, agency):
        # Logins spread over the first seconds: 60 password hashes at once would be a
        # thundering herd nobody has at 9 a.m. either.
        await asyncio.sleep(i * args.login_spread / max(len(people), 1))
        client = Client(base, stats, deadline)
        clients.append(client)
        if role == "staff":
            await staff_loop(client, username, agency, world, run_token, args, counter)
        else:
            await leader_loop(client, username, world, args)

    jobs = [asyncio.create_task(one(i, *person)) for i, person in enumerate(people)]
    # Bounded: in-flight requests get REQUEST_TIMEOUT (plus an export's wait) to finish.
    done, pending = await asyncio.wait(jobs, timeout=args.duration + REQUEST_TIMEOUT + EXPORT_WAIT_SECONDS)
    for job in pending:
        job.cancel()
    for job in done:
        if job.exception() is not None:
            stats.error("client", "crashed", repr(job.exception()))
    elapsed = time.monotonic() - started
    for client in clients:
        await client.close()
    return stats, elapsed


# --- The check --------------------------------------------------------------------------------


def snapshot_before():
    from django.db.models import Max

    from tasks.models import ProgressUpdate, Task

    return (ProgressUpdate.objects.aggregate(m=Max("id"))["m"] or 0, dict(Task.objects.values_list("pk", "version")))


def check_lost_updates(stats: Stats, run_token: str, before, media_root: Path) -> dict:
    """Compare what the server said it saved with what the progress log holds."""
    from tasks.models import Attachment, ProgressUpdate, Task

    max_id, versions = before
    pattern = re.compile(rf"load:{re.escape(run_token)}:\d+")
    new = list(ProgressUpdate.objects.filter(id__gt=max_id).order_by("id").values_list("id", "task_id", "note"))
    in_log = collections.Counter()
    update_of = {}
    foreign = 0
    for update_id, task_id, note in new:
        match = pattern.search(note)
        if match is None:
            foreign += 1
            continue
        in_log[match.group(0)] += 1
        update_of[match.group(0)] = (update_id, task_id)
    accepted = stats.accepted
    missing = [token for token in accepted if in_log[token] == 0]
    wrong_task = [
        token for token, (task_id, _) in accepted.items() if token in update_of and update_of[token][1] != task_id
    ]
    duplicated = [token for token, n in in_log.items() if n > 1]
    phantom = [token for token in in_log if token not in accepted and token not in stats.unknown]
    unknown_saved = sum(1 for token in stats.unknown if in_log[token])
    # Every update moves its task's version by one; the task shows the latest update.
    per_task = collections.Counter(task_id for _, task_id, _ in new)
    version_drift, state_drift = [], []
    latest = {}
    for update in (
        ProgressUpdate.objects.filter(id__gt=max_id)
        .order_by("task_id", "-created_at", "-id")
        .distinct("task_id")
        .values("task_id", "status", "percent")
    ):
        latest[update["task_id"]] = (update["status"], update["percent"])
    for task in Task.objects.filter(pk__in=per_task).values("pk", "version", "status", "percent"):
        if task["version"] - versions.get(task["pk"], 0) != per_task[task["pk"]]:
            version_drift.append(task["pk"])
        if (task["status"], task["percent"]) != latest[task["pk"]]:
            state_drift.append(task["pk"])
    # Files: each accepted save that carried one has it stored, with the same sha256.
    file_problems = 0
    with_files = {update_of[token][0]: sha for token, (_, sha) in accepted.items() if sha and token in update_of}
    stored = collections.defaultdict(list)
    for update_id, name, sha in Attachment.objects.filter(progress_update_id__in=with_files).values_list(
        "progress_update_id", "file", "sha256"
    ):
        stored[update_id].append((name, sha))
    for update_id, sha in with_files.items():
        files = stored.get(update_id, [])
        if len(files) != 1 or files[0][1] != sha:
            file_problems += 1
            continue
        path = media_root / files[0][0]
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != sha:
            file_problems += 1
    return {
        "accepted saves": len(accepted),
        "updates in the log since the start": len(new),
        "lost (accepted, not in the log)": len(missing),
        "phantom (in the log, never accepted)": len(phantom) + foreign,
        "duplicated (one save, two updates)": len(duplicated),
        "on the wrong task": len(wrong_task),
        "no answer (unknown)": len(stats.unknown),
        "no answer but saved": unknown_saved,
        "tasks whose version drifted": len(version_drift),
        "tasks not showing their latest update": len(state_drift),
        "accepted files missing or altered": file_problems,
        "accepted files": len(with_files),
    }


def percentile(values: list, share: float) -> float:
    ordered = sorted(values)
    return ordered[min(round(share * (len(ordered) - 1)), len(ordered) - 1)]


def report(stats: Stats, elapsed: float, check: dict) -> bool:
    total = sum(len(v) for v in stats.latencies.values()) + sum(
        n for key, n in stats.errors.items() if "connection error" in key
    )
    print()
    print(f"duration: {elapsed:.1f} s, requests: {total}, requests/s: {total / elapsed:.1f}")
    print()
    print(f"{'kind':<22}{'requests':>9}{'median ms':>11}{'p95 ms':>9}   answers")
    all_latencies = []
    for kind in sorted(stats.latencies):
        values = stats.latencies[kind]
        all_latencies += values
        codes = " ".join(f"{code}×{n}" for code, n in sorted(stats.codes[kind].items()))
        print(
            f"{kind:<22}{len(values):>9}{statistics.median(values) * 1000:>11.0f}"
            f"{percentile(values, 0.95) * 1000:>9.0f}   {codes}"
        )
    if all_latencies:
        print(
            f"{'overall':<22}{len(all_latencies):>9}{statistics.median(all_latencies) * 1000:>11.0f}"
            f"{percentile(all_latencies, 0.95) * 1000:>9.0f}"
        )
    print()
    print(
        f"saves: accepted {len(stats.accepted)}, conflicts (409) {stats.conflicts}, "
        f"re-applied after a conflict {stats.reapplied}, refused by a rule (400) {stats.refused}"
    )
    for sample in stats.refused_samples:
        print(f"  refused e.g. {sample}")
    print(f"ledger exports downloaded: {stats.exports}")
    errors = sum(stats.errors.values())
    print(f"errors (5xx, timeouts, connection errors, unexpected answers): {errors}")
    for key, n in sorted(stats.errors.items()):
        print(f"  {key}: {n}")
    for sample in stats.error_samples:
        print(f"  e.g. {sample}")
    print()
    print("lost-update check:")
    for key, value in check.items():
        print(f"  {key}: {value}")
    bad = errors or any(
        check[key]
        for key in (
            "lost (accepted, not in the log)",
            "phantom (in the log, never accepted)",
            "duplicated (one save, two updates)",
            "on the wrong task",
            "tasks whose version drifted",
            "tasks not showing their latest update",
            "accepted files missing or altered",
        )
    )
    print()
    print("RESULT: " + ("FAILED" if bad else "OK (no server errors, no lost updates)"))
    return not bad


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=120, help="seconds of traffic (default 120)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers (default 4)")
    parser.add_argument("--staff", type=int, default=50)
    parser.add_argument("--leaders", type=int, default=10)
    parser.add_argument("--login-spread", type=float, default=20, help="seconds over which clients sign in")
    parser.add_argument(
        "--think",
        type=float,
        nargs=2,
        default=(0.5, 1.5),
        metavar=("MIN", "MAX"),
        help="staff think time between steps, seconds",
    )
    parser.add_argument("--leader-think", type=float, nargs=2, default=(1.0, 3.0), metavar=("MIN", "MAX"))
    parser.add_argument("--file-share", type=float, default=0.1, help="share of saves that attach a PNG")
    parser.add_argument("--rebuild", action="store_true", help="build the world again")
    parser.add_argument(
        "--replica",
        action="store_true",
        help="serve with DATABASE_REPLICA_URL on the same database (the read-replica router under load)",
    )
    args = parser.parse_args()
    if not 1 <= args.duration <= 3600:
        parser.error("--duration must be between 1 and 3600 seconds")

    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    redis_url = os.environ.get("REDIS_URL", "")
    config = database_params(database_url)
    ensure_database(config)
    os.environ["DATABASE_URL"] = database_url
    os.environ.pop("REDIS_URL", None)  # this process only seeds and checks
    os.environ["LOG_LEVEL"] = "WARNING"  # no line per request or per audit event in the output
    import logging

    import django

    django.setup()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    params = world_params()
    if args.rebuild or not world_is_current(params):
        build_world(params)
    else:
        from django.core.management import call_command
        from django.db import DatabaseError

        try:
            call_command("migrate", verbosity=0, interactive=False)
        except DatabaseError as error:
            sys.exit(f"migrating the kept load world failed ({error}); run again with --rebuild")
        print("reusing the load world (--rebuild to make it again)")
    world = load_world(params["year"])
    if len(world.staff) < args.staff or len(world.leaders) < args.leaders:
        sys.exit("the load world has fewer users than asked for; run with --rebuild")

    run_token = secrets.token_hex(4)
    run_dir = ROOT / "var" / "load" / f"{datetime.datetime.now(datetime.UTC):%Y%m%dT%H%M%SZ}-{run_token}"
    run_dir.mkdir(parents=True)
    queue = f"load-{run_token}"
    mode = (
        f"real Celery worker through Redis ({redis_url}, queue {queue}); ledger exports above "
        f"{EXPORT_INLINE_MAX_ROWS} rows run on it"
        if redis_url
        else "eager, inside the web process (REDIS_URL unset)"
    )
    print(
        f"run {run_token}: {args.staff} staff, {args.leaders} leaders, {args.duration:.0f} s, "
        f"{args.workers} gunicorn workers{', reads routed through a replica alias' if args.replica else ''}; "
        f"logs in {run_dir.relative_to(ROOT)}"
    )
    print(f"server environment set for the load: {SERVER_ENV}")
    print(f"jobs: {mode}")
    print("load average before: {:.2f} {:.2f} {:.2f} on {} CPUs".format(*os.getloadavg(), os.cpu_count()))
    before = snapshot_before()
    port, processes = start_processes(args, database_url, redis_url, run_dir, queue)
    try:
        wait_until_up(port, processes)
        stats, elapsed = asyncio.run(drive(f"http://{HOST}:{port}", world, args, run_token))
    finally:
        stop_processes(processes)
    from django.db import connection

    connection.close()
    check = check_lost_updates(stats, run_token, before, run_dir / "media")
    log = (run_dir / "gunicorn.log").read_text(errors="replace")
    tracebacks = log.count("Traceback")
    if tracebacks:
        stats.error("server log", "tracebacks", str(tracebacks))
    ok = report(stats, elapsed, check)
    print("load average after: {:.2f} {:.2f} {:.2f} (the client runs on the same machine)".format(*os.getloadavg()))
    if ok and not os.environ.get("LOAD_KEEP_MEDIA"):
        shutil.rmtree(run_dir / "media", ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
