"""The read replica (core.replica, config.replica): leaders' dashboards and API lists read the
replica; sign-in, every write and the pages right after a user's own write read the primary.

The "replica" here is a second connection to the test database (as settings' TEST MIRROR does
for a configured replica): which connection ran a query tells where the router sent it.
"""

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from core import replica
from tasks.choices import TaskStatus


@pytest.fixture
def with_replica(transactional_db, settings):
    connections.settings[replica.REPLICA] = {**connections["default"].settings_dict}
    settings.DATABASE_ROUTERS = ["core.replica.ReplicaRouter"]
    settings.REPLICA_PIN_SECONDS = 60
    # Connected here: the test case only lets connections it knew at its start connect later.
    connections[replica.REPLICA].connect()
    yield connections[replica.REPLICA]
    connections[replica.REPLICA].close()
    del connections[replica.REPLICA]
    del connections.settings[replica.REPLICA]


def tables(queries) -> str:
    return " ".join(q["sql"] for q in queries)


def on_each(path, client):
    """The response and the queries each connection ran for one GET."""
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections[replica.REPLICA]) as copy,
    ):
        response = client.get(path)
    return response, primary.captured_queries, copy.captured_queries


def test_a_leaders_dashboard_reads_the_replica_but_not_who_the_leader_is(with_replica, client, leader, task):
    client.force_login(leader)

    response, primary, copy = on_each("/dashboard/", client)

    assert response.status_code == 200
    assert '"tasks_task"' in tables(copy)
    # identity, session and access stay on the primary
    assert primary and '"accounts_user"' not in tables(copy) and '"django_session"' not in tables(copy)


def test_an_api_list_reads_the_replica(with_replica, client, staff_a, task):
    client.force_login(staff_a)

    response, _, copy = on_each("/api/v1/tasks/", client)

    assert response.status_code == 200
    assert response.json()["results"][0]["id"] == task.pk
    assert '"tasks_task"' in tables(copy)


def test_a_just_saved_task_and_the_pages_after_it_read_the_primary(with_replica, client, staff_a, task):
    client.force_login(staff_a)

    saved = client.post(
        f"/tasks/{task.pk}/report/",
        {"version": task.version, "status": TaskStatus.IN_PROGRESS, "percent": 30, "note": "已部署"},
    )
    assert saved.status_code == 302

    page, _, copy = on_each(saved["Location"], client)
    assert page.status_code == 200 and "已部署" in page.content.decode()
    assert copy == []
    # even a list the replica serves to others comes from the primary while the pin lasts
    listed, primary, copy = on_each("/api/v1/tasks/", client)
    assert listed.json()["results"][0]["percent"] == 30
    assert copy == [] and '"tasks_task"' in tables(primary)


def test_the_pin_is_the_writers_own(with_replica, client, staff_a, staff_b, task):
    replica.pin_to_primary(staff_a.pk)
    client.force_login(staff_b)

    _, _, copy = on_each("/api/v1/tasks/", client)

    assert '"tasks_task"' in tables(copy)


def test_a_refused_write_pins_nothing(with_replica, client, staff_outside, task):
    client.force_login(staff_outside)

    refused = client.post(f"/tasks/{task.pk}/report/", {"version": task.version, "percent": 30})

    assert refused.status_code in (403, 404)
    assert not replica.is_pinned(staff_outside.pk)


def test_without_a_replica_nothing_changes(transactional_db, client, leader, task):
    client.force_login(leader)

    assert not replica.configured()
    assert client.get("/dashboard/").status_code == 200


def test_the_router_writes_and_migrates_on_the_primary_only():
    router = replica.ReplicaRouter()
    from tasks.models import Task

    assert router.db_for_write(Task) == "default"
    assert router.allow_migrate("default", "tasks") and not router.allow_migrate("replica", "tasks")
    # outside a replica block every read is the primary's
    assert router.db_for_read(Task) == "default"


def test_an_export_reads_its_rows_from_the_replica_and_writes_on_the_primary(with_replica, leader, task):
    from dashboards.exports import runner
    from dashboards.models import Export, ExportStatus

    export = Export.objects.create(kind="ledger", requested_by=leader, plan=task.plan, year=task.plan.year)

    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections[replica.REPLICA]) as copy,
    ):
        assert runner.run_export(export.pk) == "done", Export.objects.get(pk=export.pk).error

    assert '"tasks_task"' in tables(copy)
    assert all(not q["sql"].startswith(("UPDATE", "INSERT")) for q in copy)
    assert 'UPDATE "dashboards_export"' in tables(primary)
    assert Export.objects.get(pk=export.pk).status == ExportStatus.DONE
