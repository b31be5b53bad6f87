"""The development defaults (`make run`) stay convenient without being careless: the debug
page never shows a secret that was posted, and the threaded development server does not
leave a PostgreSQL connection open for every request it served."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.views.debug import ExceptionReporter, technical_500_response

from core.debugging import SecretHidingFilter

ROOT = Path(__file__).resolve().parent.parent.parent
STARS = SecretHidingFilter.cleansed_substitute

POSTED_SECRETS = {
    "password": "v-password-1",
    "new_password1": "v-new-password",
    "old_password": "v-old-password",
    "otp_token": "v-otp-474747",
    "code": "v-code-919191",
    "recovery_code": "v-recovery",
    "captcha": "v-captcha",
    "secret": "v-robot-secret",
    "webhook_url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=v-webhook-key",
    "csrfmiddlewaretoken": "v-csrf-token",
}


# --- The debug page ----------------------------------------------------------------------


def test_the_filter_is_the_default_everywhere():
    assert django_settings.DEFAULT_EXCEPTION_REPORTER_FILTER == "core.debugging.SecretHidingFilter"


def test_a_login_that_fails_with_an_exception_shows_no_password_on_the_debug_page(settings, staff_a):
    # given: `make run` (DEBUG on), and a login that fails inside authentication
    settings.DEBUG = True
    client = Client(raise_request_exception=False)
    failing = mock.patch(
        "django.contrib.auth.forms.authenticate", autospec=True, side_effect=RuntimeError("the directory is down")
    )

    # when: someone signs in
    with failing:
        response = client.post(reverse("accounts:login"), {"username": "staff_a", "password": "Zx9!typed-at-login"})

    # then: the debug page explains the error, and shows stars where the password was
    body = response.content.decode()
    assert response.status_code == 500
    assert "the directory is down" in body
    assert "Zx9!typed-at-login" not in body
    assert STARS in body


def failing_save(request, **options):
    """A view's helper that fails while secrets are in its variables."""
    secret_key = options["api_key"]
    data = dict(request.POST.items())
    raise ValueError(f"cannot save {len(data)} fields with a key of {len(secret_key)} characters")


@pytest.mark.parametrize("debug", [True, False])
def test_every_secret_looking_post_field_and_variable_is_hidden_on_any_view(rf, settings, debug):
    # given: a view with no sensitive_post_parameters of its own fails during a POST
    settings.DEBUG = debug
    request = rf.post("/anything/", {**POSTED_SECRETS, "heading": "推进分级诊疗"})
    try:
        failing_save(request, api_key="-".join(["v", "api", "key"]))  # not a literal the page quotes
    except ValueError:
        exc_info = sys.exc_info()

    # when: the debug page (DEBUG on) or the error e-mail (DEBUG off) is written
    page = technical_500_response(request, *exc_info).content.decode()
    mail = ExceptionReporter(request, *exc_info, is_email=True).get_traceback_text()

    # then: neither has a secret value; the rest is there to debug with
    for report in (page, mail):
        for value in [*POSTED_SECRETS.values(), "v-api-key"]:
            assert value not in report, value
        assert "推进分级诊疗" in report
        assert "cannot save" in report


# --- Database connections under runserver --------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def conn_max_age_under(tmp_path, **env) -> int:
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DATABASES['default']['CONN_MAX_AGE'])"
    )
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DB_CONN_MAX_AGE", "DJANGO_ENV"}}
    clean.update(DJANGO_SETTINGS_MODULE="config.settings", VAR_DIR=str(tmp_path), **env)
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return int(result.stdout.strip().splitlines()[-1])


def test_development_connections_are_not_kept_unless_asked(tmp_path):
    database = "postgres://postgres@127.0.0.1:5432/unused"
    assert conn_max_age_under(tmp_path, DATABASE_URL=database) == 0
    assert conn_max_age_under(tmp_path, DATABASE_URL=database, DB_CONN_MAX_AGE="60") == 60


def server_connections(application_name: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND datname = current_database()",
            [application_name],
        )
        return cursor.fetchone()[0]


@pytest.mark.system
def test_runserver_leaves_no_connection_open_per_request(transactional_db, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("counts PostgreSQL's connections (pg_stat_activity); SQLite has no server to run out of them")
    # given: `make run`'s server on this test database, its connections named apart
    db = connection.settings_dict
    url = (
        f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    name, port = f"runserver-probe-{os.getpid()}", free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DB_CONN_MAX_AGE", "DJANGO_ENV", "REDIS_URL", "DEBUG"}}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", DATABASE_URL=url, VAR_DIR=str(tmp_path), PGAPPNAME=name)
    log = tmp_path / "runserver.log"
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--skip-checks"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
    )
    page = f"http://127.0.0.1:{port}/accounts/login/"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(page, timeout=5).read()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, log.read_text()[-2000:]
                time.sleep(0.5)

        # when: it serves 24 requests, 8 at a time (a thread each)
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda _: urllib.request.urlopen(page, timeout=30).status, range(24)))
        assert statuses == [200] * 24

        # then: none of them left its connection open
        time.sleep(1)
        assert server_connections(name) == 0
    finally:
        server.terminate()
        server.wait(timeout=30)
