"""Shared personas and data for every test.

agency_a and agency_b sit under the commission; leader leads the commission and so
oversees both; staff_a and staff_b are staff of A and B; admin_user, security_admin and
auditor are the three administrators (系统管理员, 安全管理员, 审计管理员), three different
people. Passwords are all PASSWORD.
"""

import datetime
import os

import pytest

from accounts.choices import AgencyLevel
from core.roles import Role

PASSWORD = "Qz7!rT9#kLm2"

# A test with one of these markers is a system test (marker `system`): `make test` leaves
# them out, `make test-all` (CI's PostgreSQL + Redis suite) runs them once.
SYSTEM_MARKERS = ("browser", "fault", "redis")


def pytest_collection_modifyitems(config, items):
    """Mark every browser, fault and real-worker test `system` (before -m selects), so a
    new one cannot slip into the fast suite by forgetting the umbrella marker."""
    for item in items:
        if any(item.get_closest_marker(name) for name in SYSTEM_MARKERS) and not item.get_closest_marker("system"):
            item.add_marker(pytest.mark.system)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """REQUIRE_SYSTEM_TESTS=1 (CI's PostgreSQL + Redis suite): a system test that skips is a
    failure, so a missing service or binary cannot pass the build in silence."""
    outcome = yield
    report = outcome.get_result()
    if (
        report.skipped
        and not hasattr(report, "wasxfail")
        and os.environ.get("REQUIRE_SYSTEM_TESTS") == "1"
        and item.get_closest_marker("system")
    ):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"REQUIRE_SYSTEM_TESTS=1 but this system test skipped: {reason}"


@pytest.fixture(autouse=True)
def celery_in_process(request):
    """Jobs run in the test's own process, even in CI where REDIS_URL is set; only tests
    marked `redis` go through the broker to a real worker."""
    if request.node.get_closest_marker("redis"):
        yield
        return
    from config.celery import app

    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved


@pytest.fixture
def commission(db):
    from accounts.models import Agency

    return Agency.objects.create(name="测试市卫生健康委员会", short_name="市卫生健康委", level=AgencyLevel.CITY)


@pytest.fixture
def agency_a(commission):
    from accounts.models import Agency

    return Agency.objects.create(name="医政医管处", level=AgencyLevel.DEPARTMENT, parent=commission)


@pytest.fixture
def agency_b(commission):
    from accounts.models import Agency

    return Agency.objects.create(name="疾病预防控制处", level=AgencyLevel.DEPARTMENT, parent=commission)


@pytest.fixture
def outside_agency(db):
    from accounts.models import Agency

    return Agency.objects.create(name="测试市医疗保障局", level=AgencyLevel.CITY)


def make_user(username, role, agency=None, **extra):
    """A user with PASSWORD; an administrator account gets a person of its own
    (person_id) unless one is given."""
    from accounts.models import User
    from core.roles import ADMIN_ROLES

    if role in ADMIN_ROLES:
        extra.setdefault("person_id", f"P-{username}")
    user = User(username=username, role=role, agency=agency, full_name=extra.pop("full_name", username), **extra)
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture
def staff_a(agency_a):
    return make_user("staff_a", Role.STAFF, agency_a)


@pytest.fixture
def staff_b(agency_b):
    return make_user("staff_b", Role.STAFF, agency_b)


@pytest.fixture
def leader(commission):
    return make_user("leader", Role.LEADER, commission)


@pytest.fixture
def admin_user(commission):
    return make_user("admin", Role.ADMIN, commission)


@pytest.fixture
def security_admin(commission):
    return make_user("security", Role.SECURITY, commission)


@pytest.fixture
def auditor(commission):
    return make_user("auditor", Role.AUDITOR, commission)


@pytest.fixture
def plan(commission):
    from workplans.choices import PlanStatus
    from workplans.models import Plan

    return Plan.objects.create(
        title="2026年测试市卫生健康工作要点", year=2026, issuer=commission, status=PlanStatus.ACTIVE
    )


@pytest.fixture
def other_plan(commission):
    from workplans.choices import PlanStatus
    from workplans.models import Plan

    return Plan.objects.create(
        title="2025年测试市卫生健康工作要点", year=2025, issuer=commission, status=PlanStatus.ACTIVE
    )


@pytest.fixture
def section(plan):
    from workplans.models import Section

    return Section.objects.create(plan=plan, label="一", title="提升服务能力")


def make_task(plan, section=None, number="1", lead=None, co_owners=(), **extra):
    from tasks.choices import OwnerRole
    from tasks.models import Task, TaskOwner

    task = Task.objects.create(
        plan=plan, section=section, number=number, heading=extra.pop("heading", f"任务{number}"), **extra
    )
    if lead is not None:
        TaskOwner.objects.create(task=task, agency=lead, role=OwnerRole.LEAD)
    for i, agency in enumerate(co_owners, start=1):
        TaskOwner.objects.create(task=task, agency=agency, role=OwnerRole.CO_OWNER, order=i)
    return task


@pytest.fixture
def task(plan, section, agency_a, agency_b):
    return make_task(plan, section, "1", lead=agency_a, co_owners=[agency_b], due_on=datetime.date(2026, 12, 31))


@pytest.fixture
def login(client):
    """Log a user in through the real login form (so lockout and logging apply)."""

    def do_login(user, password=PASSWORD, **extra):
        return client.post("/accounts/login/", {"username": user.username, "password": password}, **extra)

    return do_login


def _database_url_for_this_test() -> str:
    from django.db import connection

    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def start_worker(transactional_db, tmp_path):
    """Start a `celery worker` process pointed at the test database, consuming a queue of
    its own (also its default queue, so jobs it queues come back to it); `env` adds or
    overrides its environment. Returns the queue name. Needs REDIS_URL."""
    import subprocess
    import sys
    import uuid
    from pathlib import Path

    processes = []

    def start(**env):
        queue = f"test-{uuid.uuid4().hex[:12]}"
        full_env = dict(
            os.environ,
            # The deployed settings, not the test suite's: its email goes where EMAIL_URL says.
            DJANGO_SETTINGS_MODULE="config.settings",
            DATABASE_URL=_database_url_for_this_test(),
            VAR_DIR=str(tmp_path),
            CELERY_TASK_DEFAULT_QUEUE=queue,
            **env,
        )
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=solo",
                "--concurrency=1",
                "-Q",
                queue,
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "--loglevel=INFO",
            ],
            cwd=Path(__file__).resolve().parent.parent,
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        processes.append(process)
        return queue

    yield start
    for process in processes:
        process.terminate()
        try:
            output, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        print(output[-4000:])


def chromium_available() -> bool:
    return os.path.exists("/usr/bin/chromium")


@pytest.fixture(autouse=True)
def uncached_dashboards(settings):
    """Dashboards compute afresh in every test (the cache may be the CI's Redis, which a
    test must not flush); test_dashboard_cache turns it back on."""
    settings.DASHBOARD_CACHE_SECONDS = 0
