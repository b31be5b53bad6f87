"""Schemathesis against the live schema: a real server on 127.0.0.1 (pytest-django's live
server) with the demo data, called with a token, every operation fuzzed from the schema.

Fails on any server error (5xx) or any answer the schema does not describe (status code,
content type, headers, body). A system test: `make test-all` runs it, and CI on PostgreSQL +
Redis; bounded by SCHEMATHESIS_MAX_EXAMPLES per operation (default 20)."""

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from accounts.models import User
from api.models import ApiToken

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    ]
)
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "20"))
SCHEMATHESIS = Path(sys.executable).with_name("st")

# A system test (a live server, a subprocess, minutes of fuzzing): `make test-all` runs it,
# and so CI, once, on PostgreSQL + Redis.
pytestmark = pytest.mark.system


@pytest.fixture
def live_demo(transactional_db, live_server, settings):
    # the demo's plan and users; its year is this year, so dates in the fuzzed readings are real
    call_command("seed_demo", stdout=io.StringIO())
    return live_server


# Staff: every operation's boundary and wrong-type cases (coverage), then random ones; the
# admin (who sees everything, drafts and the dashboard too): random ones.
@pytest.mark.parametrize("username, phases", [("demo_staff", "coverage,fuzzing"), ("demo_admin", "fuzzing")])
def test_the_live_api_matches_its_schema_and_never_fails(live_demo, username, phases, tmp_path):
    user = User.objects.get(username=username)
    _, key = ApiToken.issue(user, "schemathesis", created_by=user)
    # fmt: off
    command = [
        str(SCHEMATHESIS), "run", f"{live_demo.url}/api/schema/",
        "--header", f"Authorization: Token {key}",
        "--checks", CHECKS,
        "--phases", phases,
        "--max-examples", str(MAX_EXAMPLES),
        "--workers", "1",  # more workers trip a CPython 3.11 error inside schemathesis
        "--seed", "20261124",
        "--request-timeout", "30",
        "--suppress-health-check", "all",
        "--report-dir", str(tmp_path),
    ]
    # fmt: on
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,  # its cache and reports stay out of the checkout
        env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_TELEMETRY": "false"},
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-20000:]
    # and it really ran: every generated case passed, and there were many
    summary = re.search(r"(\d+) generated, (\d+) passed", output)
    assert summary and summary[1] == summary[2] and int(summary[1]) >= 200, output[-5000:]
