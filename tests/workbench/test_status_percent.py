"""Status and percent agree: 未开始 is 0 %, 已完成 is 100 %, and a percent never goes down
without a note saying why, on the task page and in the service behind it and the API."""

import datetime
import re

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from supervision.progress import report_progress
from tasks.choices import TaskStatus
from tasks.models import ProgressUpdate, Task

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(datetime.datetime(2026, 11, 24, 4, 0, tzinfo=datetime.UTC), tick=False):
        yield


def at(task, status, percent, author):
    ProgressUpdate(task=task, author=author, status=status, percent=percent, note="起点").save()
    task.refresh_from_db()
    return task


def errors(response) -> list[str]:
    return re.findall(r'class="error">([^<]+)<', response.content.decode())


def test_it_refuses_a_percent_on_a_task_not_started(task, staff_a):
    # when the lead leaves the status at 未开始 but reports 20 %
    with pytest.raises(ValidationError) as refused:
        report_progress(task.pk, staff_a, based_on_version=task.version, status=TaskStatus.NOT_STARTED, percent=20)

    # then nothing is written and the message says what to do
    assert "进行中" in refused.value.message_dict["percent"][0]
    task.refresh_from_db()
    assert (task.status, task.percent, task.progress_updates.count()) == (TaskStatus.NOT_STARTED, 0, 0)


def test_done_is_recorded_at_100_percent(task, staff_a):
    update = report_progress(
        task.pk, staff_a, based_on_version=task.version, status=TaskStatus.DONE, percent=80, note="已全部完成"
    )

    assert (update.status, update.percent) == (TaskStatus.DONE, 100)


def test_a_lower_percent_without_a_note_is_refused(task, staff_a):
    task = at(task, TaskStatus.IN_PROGRESS, 60, staff_a)

    with pytest.raises(ValidationError) as refused:
        report_progress(task.pk, staff_a, based_on_version=task.version, percent=40)

    assert refused.value.message_dict["note"] == ["进度从 60% 降为 40%，请在进展说明中写明原因。"]
    task.refresh_from_db()
    assert task.percent == 60


def test_a_lower_percent_with_a_note_is_kept_with_what_it_was(task, staff_a):
    task = at(task, TaskStatus.IN_PROGRESS, 60, staff_a)

    update = report_progress(
        task.pk, staff_a, based_on_version=task.version, percent=40, note="复核发现两家机构未达标，重新计算"
    )

    assert (update.percent_before, update.percent, update.note) == (60, 40, "复核发现两家机构未达标，重新计算")


def test_reopening_a_finished_task_at_a_lower_percent_needs_a_note(task, staff_a):
    task = at(task, TaskStatus.DONE, 100, staff_a)

    with pytest.raises(ValidationError) as refused:
        report_progress(task.pk, staff_a, based_on_version=task.version, status=TaskStatus.IN_PROGRESS, percent=90)

    assert "note" in refused.value.message_dict


def test_the_task_page_says_why_a_lower_percent_is_refused(client, task, staff_a):
    task = at(task, TaskStatus.IN_PROGRESS, 60, staff_a)
    client.force_login(staff_a)

    response = client.post(
        f"/tasks/{task.pk}/report/", {"version": task.version, "status": TaskStatus.IN_PROGRESS, "percent": 30}
    )

    assert response.status_code == 400
    assert "进度从 60% 降为 30%，请在进展说明中写明原因。" in errors(response)
    task.refresh_from_db()
    assert task.percent == 60


@pytest.mark.parametrize(
    "status, percent, constraint",
    [
        (TaskStatus.NOT_STARTED, 10, "task_not_started_is_0_percent"),
        (TaskStatus.DONE, 90, "task_done_is_100_percent"),
    ],
)
def test_the_database_refuses_a_task_whose_status_and_percent_disagree(task, status, percent, constraint):
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        Task.objects.filter(pk=task.pk).update(status=status, percent=percent)


def test_the_database_refuses_a_progress_update_not_started_with_a_percent(task, staff_a):
    with pytest.raises(IntegrityError, match="progress_not_started_is_0_percent"), transaction.atomic():
        ProgressUpdate(task=task, author=staff_a, status=TaskStatus.NOT_STARTED, percent=10).save()
