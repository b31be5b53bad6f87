"""Settings come from the environment: embedded defaults, real services, production mode."""

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from config.env import env_bool, env_decimal

ROOT = Path(__file__).resolve().parent.parent
SERVICE_VARS = (
    "DATABASE_URL",
    "REDIS_URL",
    "EMAIL_URL",
    "DJANGO_ENV",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DEBUG",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
)

PRINT_SETTINGS = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({
    "engine": s.DATABASES["default"]["ENGINE"], "name": str(s.DATABASES["default"]["NAME"]),
    "eager": s.CELERY_TASK_ALWAYS_EAGER, "broker": s.CELERY_BROKER_URL,
    "email": s.EMAIL_BACKEND, "tz": s.TIME_ZONE, "lang": s.LANGUAGE_CODE,
    "languages": [code for code, _ in s.LANGUAGES], "debug": s.DEBUG,
}))
"""


def run_python(code_or_args, tmp_path, **env):
    clean = {k: v for k, v in os.environ.items() if k not in SERVICE_VARS}
    clean.update(DJANGO_SETTINGS_MODULE="config.settings", VAR_DIR=str(tmp_path), **env)
    args = ["-c", code_or_args] if isinstance(code_or_args, str) else code_or_args
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120)


def settings_under(tmp_path, **env):
    result = run_python(PRINT_SETTINGS, tmp_path, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_with_no_environment_it_runs_embedded(tmp_path):
    s = settings_under(tmp_path)
    assert s["engine"] == "django.db.backends.sqlite3"
    assert s["name"] == str(tmp_path / "db.sqlite3")
    assert s["eager"] is True
    assert s["email"] == "django.core.mail.backends.console.EmailBackend"
    assert (s["tz"], s["lang"]) == ("Asia/Shanghai", "zh-hans")
    assert s["languages"] == ["zh-hans", "en"]
    # the development secret is generated into var/, never read from git
    assert (tmp_path / "secret_key").exists()


def test_real_services_come_from_urls(tmp_path):
    s = settings_under(
        tmp_path,
        DATABASE_URL="postgres://app@db.internal:5432/plans",
        REDIS_URL="redis://cache.internal:6379/0",
        EMAIL_URL="smtp://mailer.internal:25",
    )
    assert s["engine"] == "django.db.backends.postgresql"
    assert s["name"] == "plans"
    assert s["eager"] is False
    assert s["broker"] == "redis://cache.internal:6379/0"
    assert s["email"] == "django.core.mail.backends.smtp.EmailBackend"


@pytest.mark.parametrize("word, value", [("1", True), ("yes", True), ("off", False), ("False", False)])
def test_booleans_are_read_strictly(monkeypatch, word, value):
    monkeypatch.setenv("SOME_FLAG", word)
    assert env_bool("SOME_FLAG", default=not value) is value


def test_a_bad_boolean_is_an_error_not_false(monkeypatch, tmp_path):
    monkeypatch.setenv("SOME_FLAG", "ture")
    with pytest.raises(ImproperlyConfigured):
        env_bool("SOME_FLAG", default=False)
    result = run_python(PRINT_SETTINGS, tmp_path, DEBUG="ture")
    assert result.returncode != 0 and "DEBUG='ture' is not a boolean" in result.stderr


@pytest.mark.parametrize("raw", ["half", "1.5", "-0.1", "NaN"])
def test_an_assessment_weight_outside_zero_to_one_is_an_error(monkeypatch, raw):
    monkeypatch.setenv("ASSESSMENT_CO_OWNER_WEIGHT", raw)
    with pytest.raises(ImproperlyConfigured):
        env_decimal("ASSESSMENT_CO_OWNER_WEIGHT", "0.50")


def test_an_assessment_weight_is_read_as_an_exact_decimal(monkeypatch):
    monkeypatch.setenv("ASSESSMENT_CO_OWNER_WEIGHT", "0.3")
    assert env_decimal("ASSESSMENT_CO_OWNER_WEIGHT", "0.50") == Decimal("0.3")
    monkeypatch.delenv("ASSESSMENT_CO_OWNER_WEIGHT")
    assert env_decimal("ASSESSMENT_CO_OWNER_WEIGHT", "0.50") == Decimal("0.50")


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = run_python(PRINT_SETTINGS, tmp_path, DJANGO_ENV="production", ALLOWED_HOSTS="plans.example.org")
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr


def test_production_mode_passes_the_deploy_check(tmp_path):
    result = run_python(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        tmp_path,
        DJANGO_ENV="production",
        SECRET_KEY="x7#kq2-" + "v9Lm" * 12,
        ALLOWED_HOSTS="plans.example.org",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_development_mode_would_fail_the_deploy_check(tmp_path):
    # proves the check above is not vacuous
    result = run_python(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], tmp_path)
    assert result.returncode != 0


@pytest.mark.django_db
def test_models_and_migrations_agree():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_postgresql_runs_without_jit_and_keeps_the_urls_own_options(tmp_path):
    code = (
        "import django; from django.conf import settings; django.setup(); "
        "print(settings.DATABASES['default']['OPTIONS'].get('options', ''))"
    )
    url = "postgres://app@db.internal:5432/plans"

    def options(**env):
        result = run_python(code, tmp_path, **{"DATABASE_URL": url, **env})
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    assert options() == "-c jit=off"
    assert options(DATABASE_URL=url + "?options=-c%20search_path%3Dplans") == "-c search_path=plans -c jit=off"
    assert options(DATABASE_JIT="1") == ""
