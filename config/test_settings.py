"""Settings for the test suite (pyproject's DJANGO_SETTINGS_MODULE): config.settings as the
environment makes it (the embedded default, or DATABASE_URL and REDIS_URL), with only what
makes a test fast and self-contained changed:

- passwords hashed with MD5: the personas' PBKDF2 cost about a second per test that creates
  users; nothing asserts the production hasher except tests that set it back themselves
  (tests/audit/test_no_passwords.py);
- email kept in memory (django.core.mail.outbox), never printed or sent;
- no rate limits (RATE_LIMITS empty): the suite's many logins from 127.0.0.1 must not meet a
  429 meant for a flood; tests/security/test_rate_limits.py sets its own limits. The login
  lockout is django-axes, not a rate limit, and stays as configured;
- every refusal recorded, none summarised, no alert for repeated ones (AUDIT_DENIALS):
  tests/audit/test_denials.py sets its own limits;
- with Redis, the cache in a Redis database of its own per pytest-xdist worker, so one
  worker's cache.clear() or rate-limit reset never touches another worker's counts or the
  Celery broker's queues (which stay on REDIS_URL for the worker tests).

Processes a test starts as the deployed platform would run (the Celery worker, gunicorn,
`manage.py check --deploy`) set DJANGO_SETTINGS_MODULE=config.settings themselves.
"""

import os
from urllib.parse import urlsplit, urlunsplit

from config.settings import *  # noqa: F403
from config.settings import CACHES, REDIS_URL

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

RATE_LIMITS: dict = {}

# Every refusal recorded, none summarised, no alert: a test walking every route as one
# persona must not meet a limit meant for a scan; tests/audit/test_denials.py sets its own.
AUDIT_DENIALS = {"max_per_window": 10**9, "window_seconds": 600, "alert_threshold": 10**9, "alert_window_seconds": 600}


def _cache_database(url: str, worker: str) -> str:
    """REDIS_URL with the database number changed to one per xdist worker (gw0, gw1, …;
    none outside xdist), never the broker's own."""
    parts = urlsplit(url)
    broker_db = int(parts.path.strip("/") or 0)
    index = int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0
    others = [db for db in range(16) if db != broker_db]
    return urlunsplit(parts._replace(path=f"/{others[index % len(others)]}"))


if REDIS_URL:
    CACHES = {
        "default": {
            **CACHES["default"],
            "LOCATION": _cache_database(REDIS_URL, os.environ.get("PYTEST_XDIST_WORKER", "")),
        }
    }
