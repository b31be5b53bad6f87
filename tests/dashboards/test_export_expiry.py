"""An export file is handed out only while the person asking may still see everything in it,
and is kept EXPORT_RETENTION_DAYS (7): then the beat job deletes the file, the row says
已过期, and a download says so instead of serving it."""

import datetime

import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from audit.choices import EventType
from audit.models import AuditEvent
from core.roles import Role
from dashboards.exports import expiry
from dashboards.jobs import expire_exports
from dashboards.models import Export, ExportKind, ExportStatus
from tests.conftest import make_task, make_user
from workplans.choices import PlanStatus
from workplans.models import Plan

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def plan_of_a_and_b(commission, agency_a, agency_b):
    year = timezone.localdate().year
    plan = Plan.objects.create(title=f"{year}年工作要点", year=year, issuer=commission, status=PlanStatus.ACTIVE)
    make_task(plan, None, "1", lead=agency_a, heading="医政的任务", due_on=datetime.date(year, 12, 31))
    make_task(plan, None, "2", lead=agency_b, heading="疾控的任务", due_on=datetime.date(year, 12, 31))
    return plan


def export_ledger(client, user, capture, **data) -> Export:
    client.force_login(user)
    with capture(execute=True):
        response = client.post(reverse("dashboards:export_ledger"), data)
    assert response.status_code == 303
    export = Export.objects.filter(requested_by=user).latest("pk")
    assert export.status == ExportStatus.DONE
    return export


def download(client, export):
    return client.get(reverse("dashboards:export_download", args=[export.pk]))


def done_export(user, *, finished_days_ago: float, name="ledger.xlsx") -> Export:
    export = Export.objects.create(
        kind=ExportKind.LEDGER,
        requested_by=user,
        year=timezone.localdate().year,
        status=ExportStatus.DONE,
        filename="台账.xlsx",
        scope_agencies=None,
        finished_at=timezone.now() - datetime.timedelta(days=finished_days_ago),
    )
    export.file.save(name, ContentFile(b"PK\x03\x04 the file"), save=True)
    return export


# --- The requester's scope, checked again at download ----------------------------------


def test_a_leader_whose_scope_shrank_cannot_download_what_they_exported_before(
    client, leader, agency_a, plan_of_a_and_b, django_capture_on_commit_callbacks
):
    # given: the commission's leader exported a ledger covering agencies A and B
    export = export_ledger(client, leader, django_capture_on_commit_callbacks)
    assert download(client, export).status_code == 200
    exported_before = AuditEvent.objects.filter(event_type=EventType.EXPORT).count()

    # when: they are moved to agency A alone, and ask for the file again
    leader.agency = agency_a
    leader.save()
    response = download(client, export)

    # then: refused, in Chinese, with no file, no 导出 event, and the refusal named
    assert response.status_code == 403
    assert not getattr(response, "streaming", False)
    page = response.content.decode()
    assert "您的数据权限范围已变化" in page
    assert b"PK\x03\x04" not in response.content
    assert response.wsgi_request.denial_reason == "export_scope"
    assert AuditEvent.objects.filter(event_type=EventType.EXPORT).count() == exported_before


def test_a_leader_whose_scope_grew_still_downloads(
    client, agency_a, commission, plan_of_a_and_b, django_capture_on_commit_callbacks
):
    leader_a = make_user("leader_a", Role.LEADER, agency_a)
    export = export_ledger(client, leader_a, django_capture_on_commit_callbacks)
    assert export.scope_agencies == [agency_a.pk]

    leader_a.agency = commission
    leader_a.save()
    response = download(client, export)

    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"PK")


def test_a_leader_can_no_longer_download_a_plan_that_left_their_scope(
    client, agency_a, agency_b, plan_of_a_and_b, django_capture_on_commit_callbacks
):
    leader_a = make_user("leader_a", Role.LEADER, agency_a)
    export = export_ledger(client, leader_a, django_capture_on_commit_callbacks, plan=str(plan_of_a_and_b.pk))

    # A's task is handed to B: the plan has nothing of A's any more.
    plan_of_a_and_b.tasks.get(number="1").task_owners.update(agency=agency_b)
    response = download(client, export)

    assert response.status_code == 403
    assert response.wsgi_request.denial_reason == "export_scope"


def test_an_admin_downloads_any_export(client, leader, admin_user, plan_of_a_and_b, django_capture_on_commit_callbacks):
    export = export_ledger(client, leader, django_capture_on_commit_callbacks)
    client.force_login(admin_user)
    assert download(client, export).status_code == 200


# --- Expiry ----------------------------------------------------------------------------


def test_exports_are_kept_seven_days_by_default_and_swept_by_beat():
    assert django_settings.EXPORT_RETENTION_DAYS == 7
    entry = next(e for e in django_settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == expire_exports.name)
    assert entry["options"]["expires"] > 0


def test_the_job_deletes_old_files_and_marks_them_expired_once(leader, settings):
    # given: a file finished eight days ago, and one finished yesterday
    old = done_export(leader, finished_days_ago=8, name="old.xlsx")
    recent = done_export(leader, finished_days_ago=1, name="recent.xlsx")
    storage, old_name = old.file.storage, old.file.name
    assert storage.exists(old_name)

    # when: beat runs the job, twice
    assert expire_exports.delay().get() == 1
    assert expire_exports.delay().get() == 0

    # then: the old file is gone and its row says 已过期; the recent one is untouched
    old.refresh_from_db()
    recent.refresh_from_db()
    assert not storage.exists(old_name)
    assert (old.status, old.get_status_display(), old.file.name) == (ExportStatus.EXPIRED, "已过期", "")
    assert old.expired_at is not None
    assert recent.status == ExportStatus.DONE and storage.exists(recent.file.name)
    deleted = AuditEvent.objects.filter(event_type=EventType.DELETE, object_id=str(old.pk))
    assert deleted.count() == 1
    assert deleted.get().detail["reason"] == "retention"


def test_the_retention_is_a_setting(leader, settings):
    settings.EXPORT_RETENTION_DAYS = 30
    old = done_export(leader, finished_days_ago=8)
    assert expire_exports.delay().get() == 0
    old.refresh_from_db()
    assert old.status == ExportStatus.DONE


def test_a_file_left_by_a_run_that_died_is_deleted_by_the_next(leader, monkeypatch):
    # given: a run marked the row expired and died before deleting the file
    old = done_export(leader, finished_days_ago=8)
    name = old.file.name
    monkeypatch.setattr(expiry, "_delete_files", lambda now: 0)
    assert expiry.expire_exports() == 1
    old.refresh_from_db()
    assert old.status == ExportStatus.EXPIRED and old.file.storage.exists(name)
    monkeypatch.undo()

    # when: the next run comes
    assert expiry.expire_exports() == 0

    # then: the file is gone, and the row was expired (and audited) once
    old.refresh_from_db()
    assert not old.file and not old.file.storage.exists(name)
    assert AuditEvent.objects.filter(event_type=EventType.DELETE, object_id=str(old.pk)).count() == 1


@pytest.mark.parametrize("swept", [True, False])
def test_downloading_an_expired_export_says_so(client, leader, swept):
    # An old file is refused even before the job has swept it (beat may be late).
    export = done_export(leader, finished_days_ago=8)
    if swept:
        expire_exports.delay()
    client.force_login(leader)

    response = download(client, export)

    assert response.status_code == 410
    page = response.content.decode()
    assert "已过期" in page and "请重新导出" in page
    assert b"PK\x03\x04" not in response.content
    assert not AuditEvent.objects.filter(event_type=EventType.EXPORT).exists()


def test_the_export_list_and_status_page_show_an_expired_export(client, leader):
    export = done_export(leader, finished_days_ago=8)
    expire_exports.delay()
    client.force_login(leader)

    overview = client.get(reverse("dashboards:overview")).content.decode()
    status = client.get(reverse("dashboards:export_status", args=[export.pk])).content.decode()
    progress = client.get(reverse("dashboards:export_progress", args=[export.pk])).json()

    assert "已过期" in overview
    assert "已过期" in status and reverse("dashboards:export_download", args=[export.pk]) not in status
    assert (progress["status"], progress["next"]) == ("expired", None)
