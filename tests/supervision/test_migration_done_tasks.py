"""supervision/migrations/0002: tasks marked 已完成 before the close-out existed — closed out
in archived plans, a pending close-out for the supervision office in active ones."""

import datetime
import importlib

import pytest
from django.apps import apps

from supervision.models import CloseOut
from tasks.models import ProgressUpdate, Task
from tests.fixtures.tasks import make_task
from tests.fixtures.workplans import create_plan
from workplans.choices import PlanStatus

migration = importlib.import_module("supervision.migrations.0002_existing_done_tasks")

pytestmark = pytest.mark.django_db

AT = datetime.datetime(2025, 12, 20, 2, 0, tzinfo=datetime.UTC)  # 10:00 in Shanghai


def done(task, author, note, at=AT):
    ProgressUpdate(
        task=task, author=author, status="in_progress", percent=50, created_at=at - datetime.timedelta(days=30)
    ).save()
    ProgressUpdate(task=task, author=author, status="done", percent=100, note=note, created_at=at).save()
    task.refresh_from_db()
    return task


@pytest.fixture
def archived(commission):
    plan = create_plan(commission, year=2025)
    plan.status = PlanStatus.ARCHIVED
    plan.save()
    return plan


def test_done_tasks_of_an_archived_plan_are_closed_out(archived, agency_a, staff_a):
    # given a done task with its updates, and one marked done with none
    reported = done(make_task(archived, None, "1", lead=agency_a), staff_a, "全部完成")
    silent = make_task(
        archived, None, "2", lead=agency_a, status="done", percent=100, due_on=datetime.date(2025, 9, 30)
    )

    # when
    migration.close_out_done_tasks(apps, None)

    # then
    reported.refresh_from_db()
    silent.refresh_from_db()
    assert (reported.status, reported.completed_on) == ("closed", datetime.date(2025, 12, 20))
    assert (silent.status, silent.completed_on) == ("closed", datetime.date(2025, 9, 30))
    close_out = CloseOut.objects.get(task=reported)
    assert (close_out.state, close_out.summary, close_out.submitted_by) == ("approved", "全部完成", staff_a)
    assert close_out.evidence_checked and close_out.milestones_checked and close_out.indicators_checked
    assert not CloseOut.objects.filter(task=silent).exists()


def test_done_tasks_of_an_active_plan_wait_for_the_supervision_office(plan, agency_a, staff_a):
    # given a done task of the running plan, with an empty note
    task = done(make_task(plan, None, "1", lead=agency_a), staff_a, "")

    # when run twice
    migration.close_out_done_tasks(apps, None)
    migration.close_out_done_tasks(apps, None)

    # then it stays done, with one pending close-out due at once
    task.refresh_from_db()
    assert (task.status, task.completed_on) == ("done", None)
    (close_out,) = CloseOut.objects.filter(task=task)
    assert (close_out.state, close_out.summary, close_out.submitted_by) == ("pending", "迁移：原已完成任务", staff_a)
    assert close_out.submitted_at == AT and close_out.decision_due_on == datetime.date(2025, 12, 20)


def test_other_tasks_are_left_alone(plan, archived, agency_a, staff_a):
    running = make_task(plan, None, "1", lead=agency_a, status="in_progress", percent=40)
    old = make_task(archived, None, "1", lead=agency_a, status="in_progress", percent=40)

    migration.close_out_done_tasks(apps, None)

    assert set(Task.objects.filter(pk__in=[running.pk, old.pk]).values_list("status", flat=True)) == {"in_progress"}
    assert not CloseOut.objects.exists()
