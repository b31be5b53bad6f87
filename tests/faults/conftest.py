"""Fault tests: the platform as it runs in production (gunicorn, a Celery worker, beat) on
a PRIVATE redis-server and a PRIVATE PostgreSQL cluster that the tests stop, restart and
starve, so nothing else on the machine (CI's services, other test runs) is touched.

- `pg_cluster` (once per run): initdb into a temporary folder, started on a free port,
  migrated once into a template database; every test gets a fresh copy of it.
- `redis_server` (once per run): redis-server on a free port without persistence and with
  noeviction, stopped and started again by the tests.
- `stack` (per test): that database and Redis, a `probe` to seed and read the database (in
  a process of its own), and starters for the web server, workers and beats.

Needs REDIS_URL and a PostgreSQL DATABASE_URL (the CI's PostgreSQL + Redis suite) and the
redis-server and PostgreSQL server binaries; skips with the reason otherwise.
"""

import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests

from tests.faults.helpers import wait_for
from tests.notifications.conftest import webhook_server  # noqa: F401 - the fake robot, here too

ROOT = Path(__file__).resolve().parent.parent.parent
PYTHON = sys.executable
VENV_BIN = Path(PYTHON).parent
PG_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))


def _why_not() -> str:
    if not os.environ.get("REDIS_URL"):
        return "fault tests need REDIS_URL (the PostgreSQL + Redis suite)"
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        return "fault tests need PostgreSQL (DATABASE_URL=postgres://…)"
    if not shutil.which("redis-server"):
        return "fault tests need the redis-server binary"
    if not PG_BIN:
        return "fault tests need the PostgreSQL server binaries (/usr/lib/postgresql/*/bin)"
    return ""


FAULT = [
    pytest.mark.system,
    pytest.mark.fault,
    # One pytest-xdist worker runs them all, one after another (--dist loadgroup): they share
    # this module's private PostgreSQL cluster and Redis (session fixtures: built once, not
    # once per worker), and they time outages and recoveries, which they must not do while
    # another fault test restarts the same servers.
    pytest.mark.xdist_group("faults"),
    # Not the in-process eager Celery of other tests: these go through real brokers.
    pytest.mark.redis,
    pytest.mark.skipif(bool(_why_not()), reason=_why_not() or "-"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- Redis ---------------------------------------------------------------------------------


class RedisServer:
    def __init__(self, folder: Path):
        self.folder = folder
        self.port = free_port()
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self):
        if self.process is not None and self.process.poll() is None:
            return
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--maxmemory-policy",
                "noeviction",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self.ping, 10, "redis-server to answer")

    def stop(self):
        """Gone at once, as a crashed Redis would be (no persistence: queued jobs are lost)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def flush(self):
        import redis

        redis.Redis.from_url(self.url).flushall()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    if _why_not():
        pytest.skip(_why_not())
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


# --- PostgreSQL --------------------------------------------------------------------------------


class PostgresCluster:
    TEMPLATE = "faults_template"

    def __init__(self, folder: Path):
        self.bin = Path(PG_BIN[-1]).parent
        self.folder = folder
        self.data = folder / "data"
        self.port = free_port()
        # As root the server must run as the postgres user, which must own the folder.
        self.as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def run(self, *command, check=True):
        return subprocess.run([*self.as_owner, *command], check=check, capture_output=True, text=True, timeout=120)

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def init(self):
        if self.as_owner:
            shutil.chown(self.folder, "postgres", "postgres")
        self.run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        )

    def start(self):
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c fsync=off -c max_connections=200"
        self.run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.folder / "log"),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self, mode="fast"):
        self.run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop", check=False)

    def sql(self, statement: str, database="postgres"):
        import psycopg2

        connection = psycopg2.connect(self.url(database))
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(statement)
        finally:
            connection.close()

    def new_database(self) -> str:
        name = f"faults_{uuid.uuid4().hex[:10]}"
        self.sql(f'CREATE DATABASE "{name}" TEMPLATE "{self.TEMPLATE}"')
        return name


@pytest.fixture(scope="session")
def pg_cluster(tmp_path_factory):
    if _why_not():
        pytest.skip(_why_not())
    import tempfile

    # Not under pytest's own temporary folder: as root that is private to root, and the
    # server runs as postgres.
    cluster = PostgresCluster(Path(tempfile.mkdtemp(prefix="faults-postgres-")))
    cluster.init()
    cluster.start()
    try:
        cluster.sql(f'CREATE DATABASE "{cluster.TEMPLATE}"')
        env = dict(
            os.environ,
            DJANGO_SETTINGS_MODULE="config.settings",
            DATABASE_URL=cluster.url(cluster.TEMPLATE),
            REDIS_URL="",
            VAR_DIR=str(tmp_path_factory.mktemp("migrate")),
        )
        migrated = subprocess.run(
            [PYTHON, "manage.py", "migrate", "--noinput", "--skip-checks"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert migrated.returncode == 0, migrated.stdout[-2000:] + migrated.stderr[-4000:]
        yield cluster
    finally:
        cluster.stop("immediate")
        shutil.rmtree(cluster.folder, ignore_errors=True)


# --- The platform's processes ---------------------------------------------------------------


class Stack:
    """One test's database on the private cluster, the private Redis, and the processes."""

    def __init__(self, pg, redis_server, folder: Path):
        self.pg, self.redis = pg, redis_server
        self.folder = folder
        self.database = pg.new_database()
        self.web_port = None
        self.processes: list[tuple[str, subprocess.Popen, Path]] = []
        self.mailbox = folder / "mail"
        self.env = dict(
            os.environ,
            # The platform as deployed (the test suite's config.test_settings is for the
            # pytest process): the probe, gunicorn, workers and beats all read these.
            DJANGO_SETTINGS_MODULE="config.settings",
            DATABASE_URL=pg.url(self.database),
            REDIS_URL=redis_server.url,
            DJANGO_ENV="development",
            DEBUG="false",
            SECRET_KEY="fault-tests-" + uuid.uuid4().hex,
            VAR_DIR=str(folder / "var"),
            EMAIL_URL="filemail://",
            EMAIL_FILE_PATH=str(self.mailbox),
            REMINDER_SEND_FROM="00:00",
            NOTIFICATIONS_ALLOW_LOCAL_WEBHOOKS="true",
            CELERY_TASK_DEFAULT_QUEUE="celery",
            LOG_LEVEL="INFO",
        )
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
            self.env.pop(name, None)

    # processes

    def _spawn(self, name: str, command: list[str], **env) -> subprocess.Popen:
        log = self.folder / f"{name}-{len(self.processes)}.log"
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=dict(self.env, **env),
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append((name, process, log))
        return process

    def start_web(self, workers=3, **env) -> str:
        # The simulated staff (helpers.Staff) report several times a second, far above any
        # person's rate: the reporting quotas (tests/workbench/test_quotas.py) are raised
        # out of their way, not switched off.
        env = {"REPORTS_PER_USER_MINUTE": "100000", "REPORTS_PER_AGENCY_MINUTE": "100000", **env}
        self.web_port = free_port()
        self._spawn(
            "web",
            [
                str(VENV_BIN / "gunicorn"),
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.web_port}",
                "--workers",
                str(workers),
                "--timeout",
                "60",
            ],
            **env,
        )
        wait_for(lambda: self._answers("/accounts/login/"), 60, "gunicorn to answer")
        return self.base_url

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def _answers(self, path) -> bool:
        try:
            return requests.get(self.base_url + path, timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def start_worker(self, **env) -> subprocess.Popen:
        """A worker, once it is consuming."""
        process = self._spawn(
            "worker",
            [
                PYTHON,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=solo",
                "--concurrency=1",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "--loglevel=INFO",
            ],
            **env,
        )
        log = self.processes[-1][2]
        wait_for(lambda: " ready." in log.read_text(errors="replace"), 60, "the worker to be ready")
        return process

    def start_beat(self, **env) -> subprocess.Popen:
        schedule = self.folder / f"beat-schedule-{uuid.uuid4().hex[:6]}"
        return self._spawn(
            "beat",
            [PYTHON, "-m", "celery", "-A", "config", "beat", "--loglevel=INFO", "--schedule", str(schedule)],
            **env,
        )

    def kill(self, process: subprocess.Popen, sig=signal.SIGKILL):
        os.killpg(process.pid, sig)
        process.wait(20)

    def stop_all(self):
        for _name, process, _log in self.processes:
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        for _name, process, _log in self.processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)

    def logs(self, name: str) -> str:
        return "\n".join(log.read_text(errors="replace") for n, _p, log in self.processes if n == name)

    # jobs, sent to the private broker as beat would send them

    def send_job(self, name: str, *args):
        from celery import Celery

        app = Celery("faults", broker=self.redis.url)
        try:
            app.send_task(name, args=list(args), queue="celery", ignore_result=True)
        finally:
            app.close()

    # the database, read and written by a process of its own

    def probe(self, command: str, **args):
        done = subprocess.run(
            [PYTHON, "-m", "tests.faults.probe", command, json.dumps(args)],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-4000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    # what left the building

    def emails(self) -> list[str]:
        return [p.read_text() for p in sorted(self.mailbox.glob("*.log"))] if self.mailbox.exists() else []


@pytest.fixture
def stack(pg_cluster, redis_server, tmp_path, request):
    pg_cluster.start() if not _pg_running(pg_cluster) else None
    redis_server.start()
    redis_server.flush()
    stack = Stack(pg_cluster, redis_server, tmp_path)
    yield stack
    stack.stop_all()
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        for name, _p, log in stack.processes:
            print(f"--- {name} ({log.name}) ---\n{log.read_text(errors='replace')[-3000:]}")
    redis_server.start()


def _pg_running(cluster) -> bool:
    done = cluster.run(str(cluster.bin / "pg_ctl"), "-D", str(cluster.data), "status", check=False)
    return done.returncode == 0


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.rep_call = report
