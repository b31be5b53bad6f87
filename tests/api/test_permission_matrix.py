"""The API's permission matrix for a task, written down as one table, mirroring the pages'
(tests/tasks/test_permission_matrix.py) with the API's one difference: an object outside
the caller's scope answers 404, not 403, so ids leak nothing. 403 is for a role that may not
use the endpoint (auditors) or an object the caller sees but may not change.

The task is led by agency A with agency B as co-owner, both under the commission whose
leader oversees them; the outsiders' agency owns nothing on it. Each row is
(persona, request) → the status for the task's plan being active, archived and draft.
"""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from indicators.models import Reading
from tasks.choices import TaskStatus
from tasks.models import Attachment, Milestone, ProgressUpdate, Task
from tests.api.conftest import PERSONAS, as_user, etag
from workplans.models import Plan

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ALL_PERSONAS = (*PERSONAS, "anonymous")
REQUESTS = (
    "GET-task",
    "GET-update",
    "GET-indicator",
    "GET-reading",
    "POST-status",
    "POST-note",
    "POST-reading",
    "POST-update-reading",
    "POST-file",
    "POST-milestone",
)

# fmt: off
EXPECTED = {
    # (persona,          request):               (active, archived, draft)
    ("staff_lead",       "GET-task"):            (200, 200, 404),
    ("staff_lead",       "GET-update"):          (200, 200, 404),
    ("staff_lead",       "GET-indicator"):       (200, 200, 404),
    ("staff_lead",       "GET-reading"):         (200, 200, 404),
    ("staff_lead",       "POST-status"):         (201, 403, 404),
    ("staff_lead",       "POST-note"):           (201, 403, 404),
    ("staff_lead",       "POST-reading"):        (201, 403, 404),
    ("staff_lead",       "POST-update-reading"): (201, 403, 404),
    ("staff_lead",       "POST-file"):           (201, 403, 404),
    ("staff_lead",       "POST-milestone"):      (201, 403, 404),

    ("staff_co_owner",   "GET-task"):            (200, 200, 404),
    ("staff_co_owner",   "GET-update"):          (200, 200, 404),
    ("staff_co_owner",   "GET-indicator"):       (200, 200, 404),
    ("staff_co_owner",   "GET-reading"):         (200, 200, 404),
    ("staff_co_owner",   "POST-status"):         (403, 403, 404),
    ("staff_co_owner",   "POST-note"):           (201, 403, 404),
    ("staff_co_owner",   "POST-reading"):        (201, 403, 404),
    ("staff_co_owner",   "POST-update-reading"): (201, 403, 404),
    ("staff_co_owner",   "POST-file"):           (201, 403, 404),
    ("staff_co_owner",   "POST-milestone"):      (403, 403, 404),

    ("staff_outside",    "GET-task"):            (404, 404, 404),
    ("staff_outside",    "GET-update"):          (404, 404, 404),
    ("staff_outside",    "GET-indicator"):       (404, 404, 404),
    ("staff_outside",    "GET-reading"):         (404, 404, 404),
    ("staff_outside",    "POST-status"):         (404, 404, 404),
    ("staff_outside",    "POST-note"):           (404, 404, 404),
    ("staff_outside",    "POST-reading"):        (404, 404, 404),
    ("staff_outside",    "POST-update-reading"): (404, 404, 404),
    ("staff_outside",    "POST-file"):           (404, 404, 404),
    ("staff_outside",    "POST-milestone"):      (404, 404, 404),

    ("leader",           "GET-task"):            (200, 200, 404),
    ("leader",           "GET-update"):          (200, 200, 404),
    ("leader",           "GET-indicator"):       (200, 200, 404),
    ("leader",           "GET-reading"):         (200, 200, 404),
    ("leader",           "POST-status"):         (403, 403, 404),
    ("leader",           "POST-note"):           (403, 403, 404),
    ("leader",           "POST-reading"):        (403, 403, 404),
    ("leader",           "POST-update-reading"): (403, 403, 404),
    ("leader",           "POST-file"):           (403, 403, 404),
    ("leader",           "POST-milestone"):      (403, 403, 404),

    ("leader_outside",   "GET-task"):            (404, 404, 404),
    ("leader_outside",   "GET-update"):          (404, 404, 404),
    ("leader_outside",   "GET-indicator"):       (404, 404, 404),
    ("leader_outside",   "GET-reading"):         (404, 404, 404),
    ("leader_outside",   "POST-status"):         (404, 404, 404),
    ("leader_outside",   "POST-note"):           (404, 404, 404),
    ("leader_outside",   "POST-reading"):        (404, 404, 404),
    ("leader_outside",   "POST-update-reading"): (404, 404, 404),
    ("leader_outside",   "POST-file"):           (404, 404, 404),
    ("leader_outside",   "POST-milestone"):      (404, 404, 404),

    ("admin",            "GET-task"):            (200, 200, 200),
    ("admin",            "GET-update"):          (200, 200, 200),
    ("admin",            "GET-indicator"):       (200, 200, 200),
    ("admin",            "GET-reading"):         (200, 200, 200),
    ("admin",            "POST-status"):         (201, 403, 403),
    ("admin",            "POST-note"):           (201, 403, 403),
    ("admin",            "POST-reading"):        (201, 403, 403),
    ("admin",            "POST-update-reading"): (201, 403, 403),
    ("admin",            "POST-file"):           (201, 403, 403),
    ("admin",            "POST-milestone"):      (201, 403, 403),

    ("auditor",          "GET-task"):            (403, 403, 403),
    ("auditor",          "GET-update"):          (403, 403, 403),
    ("auditor",          "GET-indicator"):       (403, 403, 403),
    ("auditor",          "GET-reading"):         (403, 403, 403),
    ("auditor",          "POST-status"):         (403, 403, 403),
    ("auditor",          "POST-note"):           (403, 403, 403),
    ("auditor",          "POST-reading"):        (403, 403, 403),
    ("auditor",          "POST-update-reading"): (403, 403, 403),
    ("auditor",          "POST-file"):           (403, 403, 403),
    ("auditor",          "POST-milestone"):      (403, 403, 403),

    ("anonymous",        "GET-task"):            (401, 401, 401),
    ("anonymous",        "GET-update"):          (401, 401, 401),
    ("anonymous",        "GET-indicator"):       (401, 401, 401),
    ("anonymous",        "GET-reading"):         (401, 401, 401),
    ("anonymous",        "POST-status"):         (401, 401, 401),
    ("anonymous",        "POST-note"):           (401, 401, 401),
    ("anonymous",        "POST-reading"):        (401, 401, 401),
    ("anonymous",        "POST-update-reading"): (401, 401, 401),
    ("anonymous",        "POST-file"):           (401, 401, 401),
    ("anonymous",        "POST-milestone"):      (401, 401, 401),
}
# fmt: on
PLAN_STATUSES = ("active", "archived", "draft")


@pytest.fixture
def world(shared_world):
    """The API's world (tests/api/conftest.py), built once for this module's tests."""
    return shared_world


def test_it_has_a_row_for_every_persona_and_request():
    assert set(EXPECTED) == {(persona, request) for persona in ALL_PERSONAS for request in REQUESTS}


def test_the_api_answers_404_exactly_where_the_pages_answer_403_for_an_unseen_task():
    """Cross-check with the pages' table: a GET the page refuses is a 404 here (the object is
    not in the caller's scope), except for auditors and anonymous callers, refused by role."""
    from tests.tasks import test_permission_matrix as pages

    for (persona, request), codes in EXPECTED.items():
        if request != "GET-task" or persona in {"auditor", "anonymous"}:
            continue
        page = pages.EXPECTED[persona, "GET-detail"]
        assert [404 if code == 403 else code for code in page] == list(codes), persona


def _cases():
    for column, plan_status in enumerate(PLAN_STATUSES):
        for persona in ALL_PERSONAS:
            for request in REQUESTS:
                code = EXPECTED[persona, request][column]
                yield pytest.param(plan_status, persona, request, code, id=f"{plan_status}-{persona}-{request}-{code}")


def _snapshot(task):
    task = Task.objects.get(pk=task.pk)
    return {
        "updates": ProgressUpdate.objects.count(),
        "readings": Reading.objects.count(),
        "attachments": Attachment.objects.count(),
        "state": (task.status, task.percent, task.version),
        "milestones_done": Milestone.objects.filter(done_on__isnull=False).count(),
    }


def _request(api, world, request):
    task = Task.objects.get(pk=world["tasks"]["task_ab"].pk)
    indicator = world["indicators"]["ind_ab"]
    headers = {"HTTP_IF_MATCH": etag(task)}
    method, name = request.split("-", 1)
    if method == "GET":
        target = {
            "task": f"/api/v1/tasks/{task.pk}/",
            "update": f"/api/v1/progress-updates/{world['updates']['update_ab'].pk}/",
            "indicator": f"/api/v1/indicators/{indicator.pk}/",
            "reading": f"/api/v1/readings/{world['readings']['reading_ab'].pk}/",
        }[name]
        return api.get(target)
    if name == "reading":
        return api.post(
            "/api/v1/readings/", {"indicator": indicator.pk, "value": "2", "as_of": "2026-11-20"}, format="json"
        )
    data = {"task": task.pk}
    if name == "status":
        data.update(status=TaskStatus.IN_PROGRESS, percent=40)
    elif name == "note":
        data.update(note="本月完成两家社区卫生服务中心的评估")
    elif name == "update-reading":
        data.update(readings=[{"indicator": indicator.pk, "value": "2", "as_of": "2026-11-20"}])
    elif name == "milestone":
        data.update(milestones=[world["milestone"].pk])
    elif name == "file":
        data["files"] = [SimpleUploadedFile("评估报告.pdf", PDF, content_type="application/pdf")]
        return api.post("/api/v1/progress-updates/", data, format="multipart", **headers)
    return api.post("/api/v1/progress-updates/", data, format="json", **headers)


@pytest.mark.parametrize("plan_status, persona, request_name, expected", list(_cases()))
def test_it_answers_every_persona_as_the_table_says(api, world, plan_status, persona, request_name, expected):
    # given
    Plan.objects.filter(pk=world["plans"]["plan"].pk).update(status=plan_status)
    as_user(api, world["users"].get(persona))
    task = world["tasks"]["task_ab"]
    before = _snapshot(task)

    # when
    response = _request(api, world, request_name)

    # then
    assert response.status_code == expected, response.content
    body = response.json()
    after = _snapshot(task)
    if expected != 201:
        assert after == before, "a refused or read-only request changed the database"
        if expected >= 400:
            assert set(body) >= {"detail", "code"} and any("\u4e00" <= ch <= "\u9fff" for ch in body["detail"])
        if expected == 404:
            assert body["code"] == "not_found"
        return
    _assert_action_done(request_name.split("-", 1)[1], before, after)


def _assert_action_done(action, before, after):
    status, percent, version = before["state"]
    assert after["updates"] == before["updates"] + 1
    assert after["state"][2] == version + 1
    expected_state = (TaskStatus.IN_PROGRESS, 40) if action == "status" else (status, percent)
    assert after["state"][:2] == expected_state
    assert after["readings"] == before["readings"] + (action in {"reading", "update-reading"})
    assert after["attachments"] == before["attachments"] + (action == "file")
    assert after["milestones_done"] == before["milestones_done"] + (action == "milestone")


def test_a_draft_plan_is_hidden_from_its_own_agency_until_published(api, world):
    as_user(api, world["users"]["staff_lead"])
    draft_task = world["tasks"]["task_draft"]
    assert api.get(f"/api/v1/tasks/{draft_task.pk}/").status_code == 404
    Plan.objects.filter(pk=world["plans"]["draft"].pk).update(status="active")
    assert api.get(f"/api/v1/tasks/{draft_task.pk}/").status_code == 200


def test_a_reading_is_recorded_as_a_progress_update_with_the_page_s_audit(api, world):
    as_user(api, world["users"]["staff_co_owner"])
    indicator = world["indicators"]["ind_ab"]
    response = api.post(
        "/api/v1/readings/",
        {"indicator": indicator.pk, "value": "２", "as_of": "2026-11-20", "note": "两家集团均已挂牌"},
        format="json",
    )
    assert response.status_code == 201
    reading = Reading.objects.get(pk=response.json()["id"])
    assert (reading.value, reading.note, reading.reporter) == (2, "两家集团均已挂牌", world["users"]["staff_co_owner"])
    update = reading.progress_update
    assert update.author == world["users"]["staff_co_owner"] and update.task == world["tasks"]["task_ab"]
    assert reading.history.get().history_user == world["users"]["staff_co_owner"]
    assert update.created_at == reading.created_at
    assert datetime.date(2026, 11, 20) == reading.as_of
