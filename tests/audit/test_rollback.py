"""If the audit record cannot be written, the change it records does not happen: the
answer is an error and nothing changed (task, progress log, history, the admin's log,
an import)."""

import datetime

import pytest
import time_machine
from django.contrib.admin.models import LogEntry
from django.db import DatabaseError

from accounts.models import Agency, AgencyAlias
from audit.models import AuditEvent
from imports.choices import ImportStatus
from imports.models import PlanImport
from tasks.models import ProgressUpdate, Task
from tests.imports.test_pages import full_mapping, preview_post, preview_url, upload
from workplans.models import Plan

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def audit_store_down(monkeypatch):
    """From here on, every audit write fails as a database error would."""

    def refuse(self, *args, **kwargs):
        raise DatabaseError("audit store unavailable")

    def arm():
        monkeypatch.setattr(AuditEvent, "save", refuse)

    return arm


def test_a_progress_report_is_not_saved_when_its_audit_record_fails(client, staff_a, task, audit_store_down):
    # given staff of the lead agency on the task page, and the audit store failing
    client.force_login(staff_a)
    client.raise_request_exception = False
    history_before = Task.history.count()
    audit_store_down()
    # when they save a report
    with time_machine.travel(datetime.datetime(2026, 11, 24, 4, 0, tzinfo=datetime.UTC), tick=False):
        data = {"version": task.version, "status": "in_progress", "percent": 60, "note": "起草"}
        response = client.post(f"/tasks/{task.pk}/report/", data)
    # then it is an error and the task, its log and its history are as they were
    assert response.status_code == 500
    task.refresh_from_db()
    assert (task.status, task.percent, task.version) == ("not_started", 0, 1)
    assert not ProgressUpdate.objects.exists()
    assert Task.history.count() == history_before


def test_an_admin_edit_is_not_saved_when_its_audit_record_fails(client, admin_user, agency_a, audit_store_down):
    alias = AgencyAlias.objects.create(agency=agency_a, name="医政处")
    client.force_login(admin_user)
    client.raise_request_exception = False
    history_before, log_before = AgencyAlias.history.count(), LogEntry.objects.count()
    audit_store_down()
    data = {"agency": agency_a.pk, "name": "医政医管"}
    response = client.post(f"/admin/accounts/agencyalias/{alias.pk}/change/", data)
    assert response.status_code == 500
    alias.refresh_from_db()
    assert alias.name == "医政处"
    assert (AgencyAlias.history.count(), LogEntry.objects.count()) == (history_before, log_before)


def test_an_import_is_not_confirmed_when_its_audit_record_fails(
    client,
    admin_user,
    commission,
    agency_a,
    agency_b,
    outside_agency,
    audit_store_down,
    django_capture_on_commit_callbacks,
):
    # given an uploaded and parsed plan
    agencies = {"commission": commission, "a": agency_a, "b": agency_b, "outside": outside_agency}
    client.force_login(admin_user)
    assert upload(client, django_capture_on_commit_callbacks).status_code == 302
    parsed = PlanImport.objects.get()
    agencies_before, history_before = Agency.objects.count(), Agency.history.count()
    client.raise_request_exception = False
    audit_store_down()
    # when the admin confirms it (creating one agency on the way)
    response = client.post(preview_url(parsed), preview_post(parsed, full_mapping(agencies)))
    # then it is an error, and no plan, no agency, no history was written
    assert response.status_code == 500
    assert not Plan.objects.exists() and not Task.objects.exists()
    assert (Agency.objects.count(), Agency.history.count()) == (agencies_before, history_before)
    parsed.refresh_from_db()
    assert parsed.status == ImportStatus.PARSED


def test_an_api_write_is_not_saved_when_its_audit_record_fails(staff_a, task, audit_store_down):
    from rest_framework.test import APIClient

    api = APIClient(raise_request_exception=False)
    api.force_authenticate(staff_a)
    audit_store_down()
    response = api.post(
        "/api/v1/progress-updates/",
        {"task": task.pk, "status": "in_progress", "percent": 45},
        format="json",
        HTTP_IF_MATCH=f'"task-{task.pk}-v{task.version}"',
    )
    assert response.status_code == 500
    task.refresh_from_db()
    assert (task.status, task.percent, task.version) == ("not_started", 0, 1)
    assert not ProgressUpdate.objects.exists()


def test_a_5xx_answer_that_did_not_raise_rolls_back_too(rf, agency_a):
    # given a view that writes and then answers 500 without raising
    from django.http import HttpResponse

    from audit.middleware import AtomicUnsafeRequestsMiddleware

    def view(request):
        AgencyAlias.objects.create(agency=agency_a, name="临时")
        return HttpResponse(status=503)

    # when it runs behind the middleware
    response = AtomicUnsafeRequestsMiddleware(view)(rf.post("/"))
    # then its write is gone
    assert response.status_code == 503 and not AgencyAlias.objects.filter(name="临时").exists()
