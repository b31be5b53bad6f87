"""What every test gets: the shared data of tests/fixtures (one module per app: agencies
and personas, plans, tasks, a real worker), Celery in-process, dashboards uncached, and
the `system` marker on every system test.

The personas: agency_a and agency_b sit under the commission; leader leads the commission
and so oversees both; staff_a and staff_b are staff of A and B; admin_user, security_admin
and auditor are the three administrators (系统管理员, 安全管理员, 审计管理员), three
different people; staff_outside and leader_outside belong to outside_agency. Passwords are
all PASSWORD (tests/fixtures/accounts.py).
"""

import os

import pytest
from django.conf import settings
from django.utils import translation

# Imported below before pytest loads them as plugins: rewrite their asserts all the same.
pytest.register_assert_rewrite("tests.fixtures")

from tests.fixtures.accounts import PASSWORD, make_user  # noqa: E402, F401 - imported by many tests
from tests.fixtures.tasks import make_task  # noqa: E402, F401
from tests.fixtures.workers import database_url_for_this_test as _database_url_for_this_test  # noqa: E402, F401

pytest_plugins = [
    # Every test starts with no rate-limit counts (config/security.py).
    "tests.security.isolation",
    "tests.fixtures.accounts",
    "tests.fixtures.workplans",
    "tests.fixtures.tasks",
    "tests.fixtures.workers",
]

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


def chromium_available() -> bool:
    return os.path.exists("/usr/bin/chromium")


@pytest.fixture(autouse=True)
def default_language():
    """Every test starts in the site's default language (zh-hans), whatever language an
    earlier test on the same worker left active: services called outside a request speak
    the thread's language."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def fresh_worklist_badges():
    """The header's work-list badge is cached per user id and day (supervision.worklist);
    ids repeat from one test's database to the next, so each test starts a generation of
    its own (without flushing a cache the CI's Redis shares): every page counts afresh once."""
    import random

    from django.core.cache import cache

    from supervision.worklist import GENERATION_KEY

    cache.set(GENERATION_KEY, random.randrange(1 << 40), None)


@pytest.fixture(autouse=True)
def uncached_dashboards(settings):
    """Dashboards compute afresh in every test (the cache may be the CI's Redis, which a
    test must not flush); test_dashboard_cache turns it back on."""
    settings.DASHBOARD_CACHE_SECONDS = 0
