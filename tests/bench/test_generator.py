"""`make bench` runs from a fresh clone: the shared data generator (bench_staff_pages.Generator,
which the staff, API, dashboard and reminder benches build on) loads a small city that every
table constraint and every model rule accepts, and the summary table reads what the benches
record. PostgreSQL only: the generator loads with COPY."""

import importlib
import json
import os
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

HERE = Path(__file__).parent


@pytest.fixture
def bench(monkeypatch):
    """Import a bench script as a module, without its process-wide settings (DEBUG=0) leaking."""
    monkeypatch.syspath_prepend(str(HERE))
    saved = dict(os.environ)

    def load(name):
        module = importlib.import_module(name)
        os.environ.clear()
        os.environ.update(saved)
        return module

    yield load
    sys.modules.pop("bench_staff_pages", None)


@pytest.mark.django_db(transaction=True)
def test_the_generator_makes_a_city_the_database_and_the_models_accept(bench):
    if connection.vendor != "postgresql":
        pytest.skip("the bench generator loads with PostgreSQL's COPY")
    from accounts.models import User
    from core.roles import ADMIN_ROLES
    from tasks.models import Task, TaskOwner
    from workplans.models import Plan

    staff = bench("bench_staff_pages")
    params = {"version": staff.GENERATOR_VERSION, "tasks": 300, "updates": 3_000, "readings": 600, "seed": 7}

    staff.generate(params, timezone.now())

    assert Task.objects.count() == 300
    assert TaskOwner.objects.filter(role="lead").values("task").distinct().count() == 300
    admins = User.objects.filter(role__in=ADMIN_ROLES)
    assert admins.exists() and not admins.filter(person_id="").exists()
    for model in (User, Plan, Task):
        for row in model.objects.order_by("?")[:20]:
            row.full_clean()
    with connection.cursor() as cursor:
        assert staff.data_is_current(cursor, params)


def test_the_generators_size_sets_the_rest_of_the_city(bench, monkeypatch):
    staff = bench("bench_staff_pages")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    args = type("Args", (), {"tasks": 5_000, "updates": None, "readings": None})()

    staff.sized(args)

    assert (args.updates, args.readings) == (100_000, 20_000)
    assert staff.database_for(5_000).endswith("/workplans_bench_staff_5000")
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/chosen")
    assert staff.database_for(5_000).endswith("/chosen")


def test_the_summary_shows_each_figure_beside_its_reference(bench, tmp_path, monkeypatch):
    report = bench("report")
    monkeypatch.setenv("BENCH_RESULTS", str(tmp_path / "results.jsonl"))

    report.record("api", "tasks?at_risk=1", samples=[30.0, 10.0, 20.0], reference=[5.0, 5.0], queries=4, tasks=5000)
    report.record("parser", "parse", samples=[2.0, 3.0], unit="MB/s", higher_is_better=True, reference=[600.0])

    rows = report.read(str(tmp_path / "results.jsonl"))
    assert [(r["median"], r["ratio"]) for r in rows] == [(20.0, 4.0), (2.5, 240.0)]
    table = report.table(rows)
    assert "tasks?at_risk=1" in table and "4.00×" in table and "240.00×" in table
    assert json.loads((tmp_path / "results.jsonl").read_text().splitlines()[0])["queries"] == 4


def test_interleaving_times_both_sides_alternately(bench):
    report = bench("report")
    calls = []

    mine, theirs = report.interleave(lambda: calls.append("a"), lambda: calls.append("b"), runs=3, warmup=1)

    assert calls == ["a", "b"] * 4 and len(mine) == len(theirs) == 3
    assert all(ms >= 0 for ms in mine + theirs)
