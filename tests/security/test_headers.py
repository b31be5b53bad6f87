"""The hardening headers on every kind of answer: a signed-in page, an anonymous page, the
API (session and token), a file download and an error page; no-store wherever someone is
signed in; the production settings' HSTS and cookies; and `check --deploy` clean in production mode."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from api.models import ApiToken

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def csp_directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in (p.strip() for p in policy.split(";")) if part}


def assert_hardened(response):
    directives = csp_directives(response)
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"]
    assert directives["form-action"] == ["'self'"]
    assert "unsafe" not in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    for feature in ("camera=()", "microphone=()", "geolocation=()"):
        assert feature in response["Permissions-Policy"]


def assert_not_stored(response):
    directives = {d.strip() for d in response["Cache-Control"].split(",")}
    assert "no-store" in directives
    assert "public" not in directives and not any(d.startswith("max-age=") and d != "max-age=0" for d in directives)


def test_it_hardens_a_signed_in_page_and_forbids_storing_it(client, staff_a, task):
    # given staff, signed in
    client.force_login(staff_a)
    # when they open 我的任务 and the task page
    for path in (reverse("tasks:my_tasks"), reverse("tasks:task_detail", args=[task.pk])):
        response = client.get(path)
        # then every hardening header is there, and the page may not be stored
        assert response.status_code == 200
        assert_hardened(response)
        assert_not_stored(response)


def test_it_hardens_an_anonymous_page(client, db):
    # when someone not signed in opens the login page
    response = client.get(reverse("accounts:login"))
    # then every hardening header is there too
    assert response.status_code == 200
    assert_hardened(response)


def test_it_hardens_api_answers_by_session_and_by_token(client, staff_a, task):
    # given staff signed in by session
    client.force_login(staff_a)
    # when they read the task list as JSON
    response = client.get("/api/v1/tasks/")
    # then it is hardened and not stored
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    assert_hardened(response)
    assert_not_stored(response)

    # and the same with a token and no session
    client.logout()
    _, key = ApiToken.issue(staff_a, "脚本", created_by=staff_a)
    response = client.get("/api/v1/tasks/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200
    assert_hardened(response)
    assert_not_stored(response)


def test_it_hardens_an_evidence_download(client, staff_a, task):
    # given a report with a PDF, by the lead agency's staff
    from tasks.models import Attachment

    client.force_login(staff_a)
    response = client.post(
        reverse("tasks:task_report", args=[task.pk]),
        {
            "version": task.version,
            "status": "in_progress",
            "percent": 10,
            "files": [SimpleUploadedFile("方案.pdf", PDF)],
        },
    )
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    # when they download it
    response = client.get(reverse("tasks:attachment_download", args=[attachment.pk]))
    # then the download is hardened and not stored
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert_hardened(response)
    assert_not_stored(response)
    assert response["Content-Disposition"].startswith("attachment")


def test_the_error_pages_are_hardened_too(client, staff_a):
    client.force_login(staff_a)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert_hardened(response)
    assert_not_stored(response)


@override_settings(
    SECURE_SSL_REDIRECT=True,
    SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
    SECURE_HSTS_SECONDS=31536000,
    SECURE_HSTS_INCLUDE_SUBDOMAINS=True,
    SECURE_HSTS_PRELOAD=True,
    SESSION_COOKIE_SECURE=True,
    CSRF_COOKIE_SECURE=True,
    CSRF_COOKIE_HTTPONLY=True,
)
def test_with_the_production_values_it_redirects_to_https_and_sends_hsts_and_safe_cookies(client, staff_a, login):
    # when a plain-HTTP request arrives
    response = client.get(reverse("accounts:login"))
    # then it is sent to HTTPS
    assert response.status_code == 301 and response["Location"].startswith("https://")

    # when the login page is fetched over HTTPS (as the proxy says)
    response = client.get(reverse("accounts:login"), secure=True)
    # then HSTS covers subdomains and the CSRF cookie is Secure, HttpOnly and SameSite
    assert response.status_code == 200
    assert "max-age=31536000" in response["Strict-Transport-Security"]
    assert "includeSubDomains" in response["Strict-Transport-Security"]
    assert_hardened(response)
    csrf = response.cookies["csrftoken"]
    assert csrf["secure"] and csrf["httponly"] and csrf["samesite"] == "Lax"
    # and the token the forms post comes from the page (a cookie scripts cannot read)
    token = response.context["csrf_token"]
    assert f'value="{token}"' in response.content.decode()

    # when staff sign in over HTTPS with that token
    client.cookies["csrftoken"] = csrf.value
    response = client.post(
        reverse("accounts:login"),
        {"username": staff_a.username, "password": "Qz7!rT9#kLm2", "csrfmiddlewaretoken": token},
        secure=True,
    )
    # then the session cookie is Secure, HttpOnly and SameSite too
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"


def test_production_mode_passes_the_deploy_check_with_warnings_as_failures(tmp_path):
    # given the production environment as a deployment sets it
    env = {
        key: value
        for key, value in os.environ.items()
        # DJANGO_ALLOW_ASYNC_UNSAFE: set by the browser tests while they run; never in a deployment
        if key
        not in {
            "DEBUG",
            "SECURE_SSL_REDIRECT",
            "SECURE_HSTS_SECONDS",
            "DATABASE_URL",
            "REDIS_URL",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
        }
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",  # not the test suite's config.test_settings
        DJANGO_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="platform.example.org",
        VAR_DIR=str(tmp_path),
        STATIC_ROOT=str(tmp_path / "static"),
    )
    # when Django's deployment check runs, warnings counting as failures
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # then it passes
    assert result.returncode == 0, result.stdout + result.stderr
