"""Workers are sized by configuration (docs/scaling.md): the numbers come from the environment,
the commands in the Dockerfile and compose stay the same."""

import importlib
import multiprocessing
from pathlib import Path

import pytest

import config.gunicorn


def load(monkeypatch, **env):
    for name in ("WEB_CONCURRENCY", "GUNICORN_THREADS", "GUNICORN_TIMEOUT", "GUNICORN_MAX_REQUESTS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return importlib.reload(config.gunicorn)


@pytest.fixture(autouse=True)
def reload_after(monkeypatch):
    yield
    monkeypatch.undo()
    importlib.reload(config.gunicorn)


def test_gunicorn_takes_its_workers_and_threads_from_the_environment(monkeypatch):
    sized = load(monkeypatch, WEB_CONCURRENCY="9", GUNICORN_THREADS="4", GUNICORN_MAX_REQUESTS="500")

    assert (sized.workers, sized.threads, sized.max_requests, sized.max_requests_jitter) == (9, 4, 500, 50)


def test_gunicorn_defaults_to_two_workers_per_core_and_one(monkeypatch):
    default = load(monkeypatch)

    assert default.workers == multiprocessing.cpu_count() * 2 + 1 and default.threads == 1


def test_the_deployments_use_that_configuration():
    for path in ("Dockerfile", "docker-compose.yml"):
        text = Path(path).read_text(encoding="utf-8")
        assert '"--config", "python:config.gunicorn"' in text and '"--workers"' not in text


@pytest.mark.django_db
def test_postgresql_runs_without_the_jit_compiler():
    # Compiling cost more than running for the dashboard's aggregates (docs/scaling.md).
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL setting")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
