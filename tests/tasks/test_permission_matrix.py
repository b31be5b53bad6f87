"""Who may open and do what on a task: the whole permission matrix, written down as one table.

The task is led by agency A with agency B as co-owner; both sit under the commission, whose
leader oversees them. The "other agency" side of the matrix is played by the personas of
outside_agency (a staff member and a leader), who own nothing on the task.

Each row of EXPECTED is (persona, request) → the status code for a task whose plan is
active, archived and draft. 200: the page opens; 302 for a POST: it worked and the browser
is sent back to the task page; 302 for anonymous: off to the login page; 403: refused.
"""

import copy

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from indicators.models import Reading
from tasks.choices import TaskStatus
from tasks.models import Attachment, Milestone, ProgressUpdate, Task
from tests.fixtures.accounts import create_agencies, create_personas
from tests.fixtures.shared import built_once, files_as_they_were
from tests.fixtures.tasks import PDF, REPORTED_HEADING, create_reported_task
from tests.fixtures.workplans import create_plan, create_section
from workplans.choices import PlanStatus
from workplans.models import Plan

pytestmark = pytest.mark.django_db

HEADING = REPORTED_HEADING

PERSONAS = (
    "staff_lead",  # staff of agency A, the lead
    "staff_co_owner",  # staff of agency B, co-owner
    "staff_outside",  # staff of outside_agency: owns nothing on the task
    "leader",  # leader of the commission, over A and B
    "leader_outside",  # leader of outside_agency: the task is outside their tree
    "admin",
    "auditor",
    "anonymous",
)
PAGES = ("my_tasks", "detail", "updates", "history", "attachment")
ACTIONS = ("status", "note", "reading", "file", "milestone", "assign")
REQUESTS = tuple(f"GET-{page}" for page in PAGES) + tuple(f"POST-{action}" for action in ACTIONS)
PLAN_STATUSES = (PlanStatus.ACTIVE, PlanStatus.ARCHIVED, PlanStatus.DRAFT)

# GET-my_tasks is the user's task list, not the task: its code does not depend on the task's
# plan (the list simply leaves archived and draft plans out, see SEES_TASK_IN_MY_TASKS).
# fmt: off
EXPECTED = {
    # (persona,          request):          (active, archived, draft)
    ("staff_lead",       "GET-my_tasks"):   (200, 200, 200),
    ("staff_lead",       "GET-detail"):     (200, 200, 403),
    ("staff_lead",       "GET-updates"):    (200, 200, 403),
    ("staff_lead",       "GET-history"):    (200, 200, 403),
    ("staff_lead",       "GET-attachment"): (200, 200, 403),
    ("staff_lead",       "POST-status"):    (302, 403, 403),
    ("staff_lead",       "POST-note"):      (302, 403, 403),
    ("staff_lead",       "POST-reading"):   (302, 403, 403),
    ("staff_lead",       "POST-file"):      (302, 403, 403),
    ("staff_lead",       "POST-milestone"): (302, 403, 403),
    ("staff_lead",       "POST-assign"):    (302, 403, 403),

    ("staff_co_owner",   "GET-my_tasks"):   (200, 200, 200),
    ("staff_co_owner",   "GET-detail"):     (200, 200, 403),
    ("staff_co_owner",   "GET-updates"):    (200, 200, 403),
    ("staff_co_owner",   "GET-history"):    (200, 200, 403),
    ("staff_co_owner",   "GET-attachment"): (200, 200, 403),
    ("staff_co_owner",   "POST-status"):    (403, 403, 403),
    ("staff_co_owner",   "POST-note"):      (302, 403, 403),
    ("staff_co_owner",   "POST-reading"):   (302, 403, 403),
    ("staff_co_owner",   "POST-file"):      (302, 403, 403),
    ("staff_co_owner",   "POST-milestone"): (403, 403, 403),
    ("staff_co_owner",   "POST-assign"):    (403, 403, 403),

    ("staff_outside",    "GET-my_tasks"):   (200, 200, 200),
    ("staff_outside",    "GET-detail"):     (403, 403, 403),
    ("staff_outside",    "GET-updates"):    (403, 403, 403),
    ("staff_outside",    "GET-history"):    (403, 403, 403),
    ("staff_outside",    "GET-attachment"): (403, 403, 403),
    ("staff_outside",    "POST-status"):    (403, 403, 403),
    ("staff_outside",    "POST-note"):      (403, 403, 403),
    ("staff_outside",    "POST-reading"):   (403, 403, 403),
    ("staff_outside",    "POST-file"):      (403, 403, 403),
    ("staff_outside",    "POST-milestone"): (403, 403, 403),
    ("staff_outside",    "POST-assign"):    (403, 403, 403),

    ("leader",           "GET-my_tasks"):   (200, 200, 200),
    ("leader",           "GET-detail"):     (200, 200, 403),
    ("leader",           "GET-updates"):    (200, 200, 403),
    ("leader",           "GET-history"):    (200, 200, 403),
    ("leader",           "GET-attachment"): (200, 200, 403),
    ("leader",           "POST-status"):    (403, 403, 403),
    ("leader",           "POST-note"):      (403, 403, 403),
    ("leader",           "POST-reading"):   (403, 403, 403),
    ("leader",           "POST-file"):      (403, 403, 403),
    ("leader",           "POST-milestone"): (403, 403, 403),
    ("leader",           "POST-assign"):    (302, 403, 403),

    ("leader_outside",   "GET-my_tasks"):   (200, 200, 200),
    ("leader_outside",   "GET-detail"):     (403, 403, 403),
    ("leader_outside",   "GET-updates"):    (403, 403, 403),
    ("leader_outside",   "GET-history"):    (403, 403, 403),
    ("leader_outside",   "GET-attachment"): (403, 403, 403),
    ("leader_outside",   "POST-status"):    (403, 403, 403),
    ("leader_outside",   "POST-note"):      (403, 403, 403),
    ("leader_outside",   "POST-reading"):   (403, 403, 403),
    ("leader_outside",   "POST-file"):      (403, 403, 403),
    ("leader_outside",   "POST-milestone"): (403, 403, 403),
    ("leader_outside",   "POST-assign"):    (403, 403, 403),

    ("admin",            "GET-my_tasks"):   (200, 200, 200),
    ("admin",            "GET-detail"):     (200, 200, 200),
    ("admin",            "GET-updates"):    (200, 200, 200),
    ("admin",            "GET-history"):    (200, 200, 200),
    ("admin",            "GET-attachment"): (200, 200, 200),
    ("admin",            "POST-status"):    (302, 403, 403),
    ("admin",            "POST-note"):      (302, 403, 403),
    ("admin",            "POST-reading"):   (302, 403, 403),
    ("admin",            "POST-file"):      (302, 403, 403),
    ("admin",            "POST-milestone"): (302, 403, 403),
    ("admin",            "POST-assign"):    (302, 403, 403),

    ("auditor",          "GET-my_tasks"):   (403, 403, 403),
    ("auditor",          "GET-detail"):     (403, 403, 403),
    ("auditor",          "GET-updates"):    (403, 403, 403),
    ("auditor",          "GET-history"):    (200, 200, 403),
    ("auditor",          "GET-attachment"): (403, 403, 403),
    ("auditor",          "POST-status"):    (403, 403, 403),
    ("auditor",          "POST-note"):      (403, 403, 403),
    ("auditor",          "POST-reading"):   (403, 403, 403),
    ("auditor",          "POST-file"):      (403, 403, 403),
    ("auditor",          "POST-milestone"): (403, 403, 403),
    ("auditor",          "POST-assign"):    (403, 403, 403),

    ("anonymous",        "GET-my_tasks"):   (302, 302, 302),
    ("anonymous",        "GET-detail"):     (302, 302, 302),
    ("anonymous",        "GET-updates"):    (302, 302, 302),
    ("anonymous",        "GET-history"):    (302, 302, 302),
    ("anonymous",        "GET-attachment"): (302, 302, 302),
    ("anonymous",        "POST-status"):    (302, 302, 302),
    ("anonymous",        "POST-note"):      (302, 302, 302),
    ("anonymous",        "POST-reading"):   (302, 302, 302),
    ("anonymous",        "POST-file"):      (302, 302, 302),
    ("anonymous",        "POST-milestone"): (302, 302, 302),
    ("anonymous",        "POST-assign"):    (302, 302, 302),
}
# fmt: on

# Cells where the app does not (yet) do what the table says: the lead reads these.

# Whose 我的任务 lists the task while its plan is active (the list never shows other plans).
SEES_TASK_IN_MY_TASKS = {"staff_lead", "staff_co_owner", "leader", "admin"}


def test_it_has_a_row_for_every_persona_and_request():
    assert set(EXPECTED) == {(persona, request) for persona in PERSONAS for request in REQUESTS}


def _cases():
    for column, plan_status in enumerate(PLAN_STATUSES):
        for persona in PERSONAS:
            for request in REQUESTS:
                code = EXPECTED[persona, request][column]
                yield pytest.param(plan_status, persona, request, code, id=f"{plan_status}-{persona}-{request}-{code}")


@pytest.fixture(scope="module")
def module_world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The reported task (tests/fixtures/tasks.py: an evidence file, an open milestone and an
    indicator) and every persona (tests/fixtures/accounts.py), plus anonymous: built once
    for the module's 264 cases (tests/fixtures/shared.py)."""
    media = tmp_path_factory.mktemp("media")

    def build():
        agencies = create_agencies()
        users = create_personas(agencies)
        plan = create_plan(agencies["commission"])
        reported = create_reported_task(
            plan, create_section(plan), agencies["agency_a"], agencies["agency_b"], users["staff_lead"], media
        )
        return {
            "task": reported.task,
            "plan": plan,
            "milestone": reported.milestone,
            "indicator": reported.indicator,
            "attachment": reported.attachment,
            "users": {**users, "anonymous": None},
            "media": media,
        }

    yield from built_once(django_db_blocker, build)


@pytest.fixture
def world(module_world, db, settings):
    settings.MEDIA_ROOT = module_world["media"]
    with files_as_they_were(module_world["media"]):
        yield copy.deepcopy(module_world)


def _snapshot(task):
    task = Task.objects.get(pk=task.pk)
    return {
        "updates": ProgressUpdate.objects.filter(task=task).count(),
        "readings": Reading.objects.count(),
        "attachments": Attachment.objects.count(),
        "state": (task.status, task.percent, task.version),
        "responsible": set(task.responsible_users.values_list("pk", flat=True)),
        "milestones_done": Milestone.objects.filter(task=task, done_on__isnull=False).count(),
    }


def _files_on_disk(media):
    return sorted(str(p.relative_to(media)) for p in media.rglob("*") if p.is_file())


def _post_data(world, action):
    task = Task.objects.get(pk=world["task"].pk)
    data = {"version": task.version}
    if action == "status":
        data.update(status=TaskStatus.IN_PROGRESS, percent=40)
    elif action == "note":
        data.update(note="本月完成两家社区卫生服务中心的评估")
    elif action == "reading":
        indicator = world["indicator"]
        data[f"reading_{indicator.pk}_value"] = "58.5"
        data[f"reading_{indicator.pk}_as_of"] = timezone.localdate().isoformat()
    elif action == "file":
        data["files"] = SimpleUploadedFile("评估报告.pdf", PDF, content_type="application/pdf")
    elif action == "milestone":
        data.update(status=task.status, percent=task.percent, milestones=[world["milestone"].pk])
    return data


def _request(client, world, request):
    method, name = request.split("-", 1)
    task = world["task"]
    if method == "GET":
        url = {
            "my_tasks": reverse("tasks:my_tasks"),
            "detail": reverse("tasks:task_detail", args=[task.pk]),
            "updates": reverse("tasks:task_updates", args=[task.pk]),
            "history": reverse("tasks:task_history", args=[task.pk]),
            "attachment": reverse("tasks:attachment_download", args=[world["attachment"].pk]),
        }[name]
        return client.get(url)
    if name == "assign":
        return client.post(
            reverse("tasks:task_responsible", args=[task.pk]), {"users": [world["users"]["staff_lead"].pk]}
        )
    return client.post(reverse("tasks:task_report", args=[task.pk]), _post_data(world, name))


@pytest.mark.parametrize("plan_status, persona, request_name, expected", list(_cases()))
def test_it_answers_every_persona_as_the_table_says(client, world, plan_status, persona, request_name, expected):
    # given
    Plan.objects.filter(pk=world["plan"].pk).update(status=plan_status)
    user = world["users"][persona]
    if user is not None:
        client.force_login(user)
    task = world["task"]
    before = _snapshot(task)
    disk_before = _files_on_disk(world["media"])

    # when
    response = _request(client, world, request_name)
    # Reading a FileResponse to the end lets the test client close the file.
    body = b"".join(response.streaming_content) if response.streaming else response.content

    # then
    assert response.status_code == expected
    method, name = request_name.split("-", 1)
    if user is None:
        assert response.url.startswith(reverse("accounts:login"))
    elif expected == 302:
        assert response.url.startswith(reverse("tasks:task_detail", args=[task.pk]) + "#")
    elif expected == 200 and name == "my_tasks":
        listed = plan_status == PlanStatus.ACTIVE and persona in SEES_TASK_IN_MY_TASKS
        assert (HEADING in body.decode()) is listed
    elif expected == 200 and name == "attachment":
        assert response["Content-Disposition"].startswith("attachment")
        assert body == PDF

    after = _snapshot(task)
    if method == "GET" or expected != 302 or user is None:
        assert after == before, "a refused or read-only request changed the database"
        assert _files_on_disk(world["media"]) == disk_before, "a refused request left a file behind"
        return
    _assert_action_done(name, before, after, world)


def _assert_action_done(action, before, after, world):
    status, percent, version = before["state"]
    assert after["state"][2] == version + (0 if action == "assign" else 1)
    if action == "assign":
        assert after["responsible"] == {world["users"]["staff_lead"].pk}
        assert after["updates"] == before["updates"]
        return
    assert after["updates"] == before["updates"] + 1
    expected_state = (TaskStatus.IN_PROGRESS, 40) if action == "status" else (status, percent)
    assert after["state"][:2] == expected_state
    assert after["readings"] == before["readings"] + (action == "reading")
    assert after["attachments"] == before["attachments"] + (action == "file")
    assert after["milestones_done"] == before["milestones_done"] + (action == "milestone")
    assert after["responsible"] == before["responsible"]
