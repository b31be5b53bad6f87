"""Nothing an admin can type reaches a 500 on the console or the import preview's new
endpoints: every route, as GET and as POST with junk, with ids that exist and ids that do
not, answers below 500, and junk changes no task's owners (the delete, whose POST is the
confirmation its page asks for, runs last)."""

import pytest
from django.urls import get_resolver, reverse

from console.models import UserImport
from imports.choices import ImportStatus
from imports.models import PlanImport
from tasks.models import Task, TaskOwner
from tests.fixtures.tasks import make_task

pytestmark = pytest.mark.django_db

JUNK = [
    {},
    {
        "action": "confirm",
        "tasks": ["x", "-1", "999999"],
        "lead": "abc",
        "co_owners": ["", "0"],
        "due_on": "2026-13-45",
    },
    {"section": "99999", "number": "x" * 500, "heading": "", "after": "nope", "other": "1e9", "confirm": "maybe"},
    {
        "target": "-5",
        "parent": "1; drop table",
        "name": "\x00",
        "higher_plan": "[]",
        "choice-1": "???",
        "new_title": "",
    },
    {"mode": "sideways", "responsible": ["a"], "exempt": "2", "file": "not a file", "logins": "forged", "kind": "exe"},
]


def _console_routes():
    names = []
    for pattern in get_resolver().url_patterns:
        if getattr(pattern, "namespace", None) == "console":
            for sub in pattern.url_patterns:
                for inner in getattr(sub, "url_patterns", [sub]):
                    names.append((inner.name, list(inner.pattern.converters)))
    return names


def test_every_console_route_answers_junk_without_a_500(client, admin_user, plan, section, agency_a, agency_b, staff_a):
    client.force_login(admin_user)
    make_task(plan, section, "0", heading="另一项任务")  # so that no two kinds of object share an id
    task = make_task(plan, section, "1", lead=agency_a, co_owners=[agency_b])
    user_import = UserImport.objects.create(original_name="x.csv", rows=[], created_by=admin_user)
    ids = {"plans": plan.pk, "tasks": task.pk, "agencies": agency_b.pk, "import": user_import.pk}
    # The delete last: its POST deletes (its GET page is the question).
    routes = sorted(_console_routes(), key=lambda route: route[0] == "plan_task_delete")
    assert len(routes) >= 25
    owners_before = sorted(TaskOwner.objects.values_list("task_id", "agency_id", "role"))
    for name, params in routes:
        for pk in ("real", 987654):
            kwargs = {}
            for param in params:
                if pk == "real":
                    # the object the id names: the path's segment before it (plans/tasks/<pk>/ is a task)
                    parts = reverse(f"console:{name}", kwargs={param: 1}).split("/")
                    kwargs[param] = ids[parts[parts.index("1") - 1]]
                else:
                    kwargs[param] = pk
            url = reverse(f"console:{name}", kwargs=kwargs)
            assert client.get(url).status_code < 500, url
            for data in JUNK:
                response = client.post(url, data)
                assert response.status_code < 500, (url, data, response.status_code)
                if name != "plan_task_delete":  # its POST is the confirmation (its GET asks)
                    now = sorted(TaskOwner.objects.values_list("task_id", "agency_id", "role"))
                    assert now == owners_before, (url, data, response.status_code)
    assert not Task.objects.filter(pk=task.pk).exists()


def test_the_import_preview_endpoints_answer_junk_without_a_500(client, admin_user, commission):
    client.force_login(admin_user)
    plan_import = PlanImport.objects.create(
        file="imports/x.txt",
        original_name="x.txt",
        sha256="e" * 64,
        status=ImportStatus.PARSED,
        document={"plan": {"title": "计划", "year": 2026}, "sections": [], "tasks": []},
        created_by=admin_user,
    )
    for name in ("autosave", "bulk_owners", "create_unmatched", "preview"):
        url = reverse(f"imports:{name}", args=[plan_import.pk])
        for data in JUNK:
            response = client.post(url, data)
            assert response.status_code < 500, (url, data, response.status_code)
