"""Progress updates are append-only and the task follows the latest one."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from tasks.choices import TaskStatus, can_transition
from tasks.models import ProgressUpdate, Task

pytestmark = pytest.mark.django_db


def report(task, author, status, percent, **extra):
    return ProgressUpdate.objects.create(task=task, author=author, status=status, percent=percent, **extra)


def test_the_task_follows_its_latest_update(task, staff_a):
    # when
    report(task, staff_a, TaskStatus.IN_PROGRESS, 30, note="已启动")
    report(task, staff_a, TaskStatus.IN_PROGRESS, 55)
    # then
    task.refresh_from_db()
    assert (task.status, task.percent) == (TaskStatus.IN_PROGRESS, 55)
    assert task.version == 3
    assert task.last_progress_at is not None


def test_a_back_dated_update_does_not_override_a_newer_one(task, staff_a):
    report(task, staff_a, TaskStatus.IN_PROGRESS, 60)
    report(task, staff_a, TaskStatus.NOT_STARTED, 0, created_at=timezone.now() - datetime.timedelta(days=3))
    task.refresh_from_db()
    assert (task.status, task.percent) == (TaskStatus.IN_PROGRESS, 60)


def test_an_update_cannot_be_changed(task, staff_a):
    update = report(task, staff_a, TaskStatus.IN_PROGRESS, 30)
    update.percent = 90
    with pytest.raises(ValidationError):
        update.save()
    with pytest.raises(ValidationError):
        ProgressUpdate.objects.filter(pk=update.pk).update(percent=90)
    assert ProgressUpdate.objects.get(pk=update.pk).percent == 30


def test_an_update_cannot_be_deleted(task, staff_a):
    update = report(task, staff_a, TaskStatus.IN_PROGRESS, 30)
    with pytest.raises(ValidationError):
        update.delete()
    with pytest.raises(ValidationError):
        ProgressUpdate.objects.all().delete()
    assert ProgressUpdate.objects.count() == 1


def test_task_changes_from_updates_are_in_the_audit_trail(task, staff_a):
    report(task, staff_a, TaskStatus.IN_PROGRESS, 40)
    latest = task.history.latest()
    assert (latest.status, latest.percent, latest.version) == (TaskStatus.IN_PROGRESS, 40, 2)
    assert latest.prev_record.percent == 0


def test_a_task_without_a_due_date_is_due_at_the_plan_year_end(plan, section):
    task = Task.objects.create(plan=plan, section=section, number="9", heading="无时限的任务")
    assert task.due_on == datetime.date(plan.year, 12, 31)


@pytest.mark.parametrize(
    "current, new, allowed",
    [
        (TaskStatus.NOT_STARTED, TaskStatus.IN_PROGRESS, True),
        (TaskStatus.IN_PROGRESS, TaskStatus.DONE, True),
        (TaskStatus.IN_PROGRESS, TaskStatus.NOT_STARTED, False),
        # 已完成 waits for its close-out: only the decision (or a withdrawal) moves it on,
        # and 已销号 only a leader's reopening (supervision.closeout), never a report.
        (TaskStatus.DONE, TaskStatus.IN_PROGRESS, False),
        (TaskStatus.DONE, TaskStatus.LAGGING, False),
        (TaskStatus.CLOSED, TaskStatus.IN_PROGRESS, False),
        (TaskStatus.ON_HOLD, TaskStatus.DONE, False),
        (TaskStatus.LAGGING, TaskStatus.LAGGING, True),
    ],
)
def test_status_transitions_are_written_down_once(current, new, allowed):
    assert can_transition(current, new) is allowed
