"""No lost updates: two people reporting on one task from pages loaded at the same version."""

import html
import re
import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from core.roles import Role
from supervision.progress import StaleVersion, report_progress
from tasks.choices import TaskStatus
from tasks.models import ProgressUpdate, Task
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

FIRST_NOTE = "已完成全市摸底，进入评估阶段"
SECOND_NOTE = "两家中心评估推迟"


@pytest.fixture
def staff_a2(agency_a):
    return make_user("staff_a2", Role.STAFF, agency_a, full_name="李四")


@pytest.fixture
def first(staff_a):
    staff_a.full_name = "张三"
    staff_a.save(update_fields=["full_name"])
    client = Client()
    client.force_login(staff_a)
    return client


@pytest.fixture
def second(staff_a2):
    client = Client()
    client.force_login(staff_a2)
    return client


def _input(page: str, name: str) -> str:
    """The opening tag of the form field `name` on the page."""
    match = re.search(rf'<(?:input|select|textarea)\b[^>]*\bname="{name}"[^>]*>', page)
    assert match, f"no field {name!r} on the page"
    return match.group()


def _version_on(page: str) -> int:
    return int(re.search(r'\bvalue="(\d+)"', _input(page, "version")).group(1))


def _load(client, task) -> int:
    """The task's version as the page showed it. The lead's staff see the period report
    panel (supervision.report_views), which carries it as `task_version`; a co-owner's
    input panel carries none (its input never changes the state), so the task's own."""
    response = client.get(reverse("tasks:task_detail", args=[task.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    if 'name="task_version"' in page:
        return int(re.search(r'\bvalue="(\d+)"', _input(page, "task_version")).group(1))
    return Task.objects.get(pk=task.pk).version


def _report(client, task, **data):
    return client.post(reverse("tasks:task_report", args=[task.pk]), data)


def _note_on(page: str) -> str:
    match = re.search(r'<textarea[^>]*\bname="note"[^>]*>(.*?)</textarea>', page, re.DOTALL)
    assert match, "no note field on the page"
    return html.unescape(match.group(1))


def _conflict_section(page: str) -> str:
    match = re.search(r'<section class="conflict"[^>]*>(.*?)</section>', page, re.DOTALL)
    assert match, "no conflict section on the page"
    return html.unescape(match.group(1))


def test_it_refuses_a_stale_change_with_409_and_lets_it_be_reapplied(first, second, task, staff_a, staff_a2):
    # given: both open the task page at version 1
    first_version, second_version = _load(first, task), _load(second, task)
    assert first_version == second_version == 1

    # when: the first saves, then the second saves from the old page
    saved = _report(first, task, version=first_version, status=TaskStatus.IN_PROGRESS, percent=40, note=FIRST_NOTE)
    stale = _report(second, task, version=second_version, status=TaskStatus.LAGGING, percent=30, note=SECOND_NOTE)

    # then: the second is told what happened and gets their own values back on the new version
    assert saved.status_code == 302
    assert stale.status_code == 409
    page = stale.content.decode()
    conflict = _conflict_section(page)
    assert "张三" in conflict
    assert "40%" in conflict
    assert FIRST_NOTE in conflict
    assert _version_on(page) == 2
    assert re.search(r'<option value="lagging"[^>]*\bselected\b', page)
    assert 'value="30"' in _input(page, "percent")
    assert SECOND_NOTE in _note_on(page)
    task.refresh_from_db()
    assert (task.status, task.percent, task.version) == (TaskStatus.IN_PROGRESS, 40, 2)
    assert ProgressUpdate.objects.filter(task=task).count() == 1

    # when: the second sends the form of the 409 page again
    again = _report(second, task, version=_version_on(page), status=TaskStatus.LAGGING, percent=30, note=SECOND_NOTE)

    # then: it is saved on top of the first, and the history holds both, chained
    assert again.status_code == 302
    task.refresh_from_db()
    assert (task.status, task.percent, task.version) == (TaskStatus.LAGGING, 30, 3)
    updates = list(ProgressUpdate.objects.filter(task=task).order_by("id"))
    assert [(u.author, u.status_before, u.percent_before, u.status, u.percent, u.note) for u in updates] == [
        (staff_a, TaskStatus.NOT_STARTED, 0, TaskStatus.IN_PROGRESS, 40, FIRST_NOTE),
        (staff_a2, TaskStatus.IN_PROGRESS, 40, TaskStatus.LAGGING, 30, SECOND_NOTE),
    ]
    assert [u.based_on_version for u in updates] == [1, 2]


def test_it_never_lets_a_co_owner_note_conflict_or_change_the_state(first, client, task, staff_b):
    # given: the co-owner opens the page, then the lead moves the task on
    client.force_login(staff_b)
    co_owner_version = _load(client, task)
    _report(first, task, version=_load(first, task), status=TaskStatus.IN_PROGRESS, percent=40, note=FIRST_NOTE)

    # when: the co-owner saves a note from the old page
    response = _report(client, task, version=co_owner_version, note="配合处已提供名单")

    # then: accepted, and the lead's status and percent stand
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.status, task.percent, task.version) == (TaskStatus.IN_PROGRESS, 40, 3)
    note = ProgressUpdate.objects.filter(task=task).latest()
    assert (note.author, note.status, note.percent, note.based_on_version) == (staff_b, TaskStatus.IN_PROGRESS, 40, 1)
    assert (note.status_before, note.percent_before) == (TaskStatus.IN_PROGRESS, 40)


def _submission_on(client, task) -> str:
    page = client.get(reverse("tasks:task_detail", args=[task.pk])).content.decode()
    return re.search(r'\bvalue="([0-9a-f]{32})"', _input(page, "submission")).group(1)


@pytest.mark.parametrize("note", [FIRST_NOTE, ""], ids=["with-note", "without-note"])
def test_a_form_posted_twice_is_one_update(first, task, note):
    # given: a report is saved, and the browser sends the very same form again (a double
    # click, or a retry after the answer was lost)
    data = {
        "version": _load(first, task),
        "submission": _submission_on(first, task),
        "status": TaskStatus.IN_PROGRESS,
        "percent": 40,
        "note": note,
    }
    assert _report(first, task, **data).status_code == 302

    # when
    retry = _report(first, task, **data)

    # then: the retry gets the same answer, and the log holds the report once
    assert retry.status_code == 302
    task.refresh_from_db()
    assert (task.status, task.percent, task.version) == (TaskStatus.IN_PROGRESS, 40, 2)
    assert ProgressUpdate.objects.filter(task=task).count() == 1


def test_the_same_values_sent_from_a_new_form_are_a_note_on_an_unchanged_state(first, task):
    # given: a report is saved; then a second form, loaded before it, sends the same values
    version = _load(first, task)
    data = {"version": version, "status": TaskStatus.IN_PROGRESS, "percent": 40, "note": FIRST_NOTE}
    assert _report(first, task, **data).status_code == 302

    # when
    again = _report(first, task, **data)

    # then: its values are the task's current state, so nothing can be lost: no 409; the log
    # records what was sent, a note on an unchanged state
    assert again.status_code == 302
    task.refresh_from_db()
    assert (task.status, task.percent, task.version) == (TaskStatus.IN_PROGRESS, 40, 3)
    updates = list(ProgressUpdate.objects.filter(task=task).order_by("id"))
    assert [(u.status_before, u.percent_before, u.status, u.percent, u.note) for u in updates] == [
        (TaskStatus.NOT_STARTED, 0, TaskStatus.IN_PROGRESS, 40, FIRST_NOTE),
        (TaskStatus.IN_PROGRESS, 40, TaskStatus.IN_PROGRESS, 40, FIRST_NOTE),
    ]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's row locks to race for real")
@pytest.mark.django_db(transaction=True)
def test_it_lets_exactly_one_of_two_simultaneous_reports_win(task, staff_a, staff_a2):
    # given: two people, both on version 1, sending different values at the same moment
    barrier = threading.Barrier(2)
    outcomes = {}

    def send(user, status, percent):
        try:
            barrier.wait(timeout=10)
            report_progress(task.pk, user, based_on_version=1, status=status, percent=percent, note=f"{user.pk}")
            outcomes[user.username] = "saved"
        except StaleVersion:
            outcomes[user.username] = "stale"
        except Exception as error:
            outcomes[user.username] = repr(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=send, args=(staff_a, TaskStatus.IN_PROGRESS, 40)),
        threading.Thread(target=send, args=(staff_a2, TaskStatus.LAGGING, 30)),
    ]

    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # then
    assert sorted(outcomes.values()) == ["saved", "stale"], outcomes
    winner = staff_a if outcomes["staff_a"] == "saved" else staff_a2
    task = Task.objects.get(pk=task.pk)
    assert task.version == 2
    expected = (TaskStatus.IN_PROGRESS, 40) if winner == staff_a else (TaskStatus.LAGGING, 30)
    assert (task.status, task.percent) == expected
    assert list(ProgressUpdate.objects.filter(task=task).values_list("author", flat=True)) == [winner.pk]
