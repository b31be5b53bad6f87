"""docker-compose.yml agrees with the settings (Docker cannot run here, so it is read)."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
SETTINGS_SOURCE = (ROOT / "config" / "settings.py").read_text()
APP_SERVICES = ["web", "worker", "beat", "migrate"]


def command(name) -> str:
    return " ".join(SERVICES[name]["command"])


def test_it_runs_postgres_16_and_redis_7():
    assert SERVICES["postgres"]["image"].startswith("postgres:16")
    assert SERVICES["redis"]["image"].startswith("redis:7")


def test_web_worker_and_beat_share_one_image_built_from_the_dockerfile():
    images = {SERVICES[name]["image"] for name in APP_SERVICES}
    assert len(images) == 1
    assert all(SERVICES[name]["build"] == "." for name in APP_SERVICES)
    assert (ROOT / "Dockerfile").exists()


def test_each_process_runs_what_it_should():
    assert command("web").startswith("gunicorn config.wsgi:application")
    assert command("worker").startswith("celery -A config worker")
    assert command("beat").startswith("celery -A config beat")
    assert command("migrate") == "python manage.py migrate --noinput"


def test_services_have_health_checks_and_wait_for_them():
    for name in ("postgres", "redis", "web", "worker"):
        assert SERVICES[name]["healthcheck"]["test"], name
    assert SERVICES["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert SERVICES["migrate"]["depends_on"]["redis"]["condition"] == "service_healthy"
    for name in ("web", "worker", "beat"):
        assert SERVICES[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "/healthz" in " ".join(SERVICES["web"]["healthcheck"]["test"])


def test_the_database_and_uploads_live_on_volumes():
    assert "pgdata" in COMPOSE["volumes"] and "media" in COMPOSE["volumes"]
    assert any(v.startswith("pgdata:") for v in SERVICES["postgres"]["volumes"])
    for name in APP_SERVICES:
        env = SERVICES[name]["environment"]
        assert any(v == f"media:{env['MEDIA_ROOT']}" for v in SERVICES[name]["volumes"])


def test_app_environment_points_at_the_compose_services_and_is_read_by_settings():
    pg = SERVICES["postgres"]["environment"]
    for name in APP_SERVICES:
        env = SERVICES[name]["environment"]
        assert env["DJANGO_ENV"] == "production"
        assert re.fullmatch(
            rf"postgres://{pg['POSTGRES_USER']}:.+@postgres:5432/{pg['POSTGRES_DB']}", env["DATABASE_URL"]
        )
        assert env["REDIS_URL"].startswith("redis://redis:6379/")
        for key in env:
            assert f'"{key}"' in SETTINGS_SOURCE, f"{key} is set in compose but never read by settings"


def test_the_health_endpoint_answers(client, db):
    assert client.get("/healthz").json() == {"status": "ok"}
