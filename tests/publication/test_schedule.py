"""The schedule (publication.jobs.publish_scheduled): a fresh snapshot once per day or ISO
week for the public plans on a schedule, published straight away only while the settings
and public narratives are those a person last reviewed; otherwise a draft waits for review.
Safe to run twice."""

import datetime

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from publication import services
from publication.choices import PublicField, Schedule, SnapshotState
from publication.jobs import publish_scheduled
from publication.models import PublicSnapshot
from tests.publication.conftest import make_public, publish_now

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2026, 5, 4)


def _snapshots(plan, **filters):
    return PublicSnapshot.objects.filter(plan=plan, **filters)


def test_a_daily_plan_is_republished_once_a_day_however_often_the_job_runs(client, plan, task, admin_user, staff_a):
    # given: public, reviewed and published once by hand
    make_public(plan, admin_user, schedule=Schedule.DAILY)
    first = publish_now(plan, admin_user)
    task.percent, task.status = 30, "in_progress"
    task.save()

    # when: the job runs twice on one day
    publish_scheduled(MONDAY.isoformat())
    publish_scheduled(MONDAY.isoformat())

    # then: one new snapshot, published, replacing the reviewed one
    scheduled = _snapshots(plan, period=MONDAY.isoformat()).get()
    assert scheduled.state == SnapshotState.PUBLISHED and scheduled.built_by is None
    first.refresh_from_db()
    assert first.state == SnapshotState.SUPERSEDED
    assert _snapshots(plan, state=SnapshotState.PUBLISHED).count() == 1
    assert "30%" in client.get(reverse("publication:plan_page", args=[plan.pk])).content.decode()
    assert AuditEvent.objects.filter(object_type="publication.publicsnapshot", object_id=str(scheduled.pk)).exists()

    # when: the next day
    publish_scheduled((MONDAY + datetime.timedelta(days=1)).isoformat())
    assert _snapshots(plan).count() == 3


def test_a_weekly_plan_is_republished_once_a_week(plan, task, admin_user):
    make_public(plan, admin_user, schedule=Schedule.WEEKLY)
    publish_now(plan, admin_user)

    for offset in range(7):  # Monday to Sunday of one ISO week
        publish_scheduled((MONDAY + datetime.timedelta(days=offset)).isoformat())
    assert _snapshots(plan, period="2026-W19").count() == 1

    publish_scheduled((MONDAY + datetime.timedelta(days=7)).isoformat())
    assert _snapshots(plan, period="2026-W20", state=SnapshotState.PUBLISHED).count() == 1


def test_changed_settings_wait_for_review_instead_of_going_out(client, plan, task, admin_user):
    # given: published with the lead agency hidden, then the admin makes it public
    make_public(plan, admin_user, fields=[PublicField.HEADING], schedule=Schedule.DAILY)
    published = publish_now(plan, admin_user)
    make_public(plan, admin_user, fields=[PublicField.HEADING, PublicField.LEAD_AGENCY], schedule=Schedule.DAILY)

    # when
    publish_scheduled(MONDAY.isoformat())

    # then: a draft for review; the public still sees the reviewed page
    draft = _snapshots(plan, period=MONDAY.isoformat()).get()
    assert draft.state == SnapshotState.DRAFT
    published.refresh_from_db()
    assert published.state == SnapshotState.PUBLISHED
    assert "医政医管处" not in client.get(reverse("publication:plan_page", args=[plan.pk])).content.decode()


def test_a_narrative_changed_since_the_review_waits_for_review(plan, task, admin_user, supervisor):
    make_public(plan, admin_user, schedule=Schedule.DAILY)
    services.save_narrative(task.pk, supervisor, text="第一版公开说明", version=1)
    publish_now(plan, admin_user)
    services.save_narrative(task.pk, supervisor, text="未经审核的新说明", version=2)

    publish_scheduled(MONDAY.isoformat())

    assert _snapshots(plan, period=MONDAY.isoformat()).get().state == SnapshotState.DRAFT
    assert "未经审核的新说明" not in str(_snapshots(plan, state=SnapshotState.PUBLISHED).get().data)


def test_never_reviewed_plans_manual_plans_and_plans_turned_off_are_not_published(plan, other_plan, task, admin_user):
    # given: one on a schedule but never published by a person, one manual
    make_public(plan, admin_user, schedule=Schedule.DAILY)
    make_public(other_plan, admin_user, schedule=Schedule.MANUAL)

    result = publish_scheduled(MONDAY.isoformat())

    assert result == {"day": MONDAY.isoformat(), "draft": [plan.pk]}
    assert not PublicSnapshot.objects.filter(state=SnapshotState.PUBLISHED).exists()
    assert not _snapshots(other_plan).exists()
