"""Changes to audited data: every simple-history record is an event with the changed
fields, a role change is 角色变更, admin actions are 管理操作, imports and exports are
recorded, all stamped with the request that made them."""

import datetime

import pytest
import time_machine
from django.contrib.auth.models import Group

from accounts.models import AgencyAlias
from audit.choices import EventType
from audit.models import AuditEvent
from core.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(datetime.datetime(2026, 11, 24, 4, 0, tzinfo=datetime.UTC), tick=False):
        yield


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_a_progress_report_through_the_page_is_recorded_with_old_and_new_values(client, staff_a, task):
    # given staff of the lead agency
    client.force_login(staff_a)
    # when they report 60 % in progress
    response = client.post(
        f"/tasks/{task.pk}/report/",
        {"version": task.version, "status": "in_progress", "percent": 60, "note": "起草"},
        REMOTE_ADDR="10.1.2.3",
    )
    assert response.status_code == 302
    # then the new report and the task's change are recorded, by them, from their address,
    # in the request that did it
    update = AuditEvent.objects.get(event_type=EventType.CREATE, object_type="tasks.progressupdate")
    change = AuditEvent.objects.get(event_type=EventType.UPDATE, object_type="tasks.task")
    for event in (update, change):
        assert (event.user_id, event.username, event.user_role, event.ip_address) == (
            staff_a.pk,
            "staff_a",
            "staff",
            "10.1.2.3",
        )
        assert event.request_id == response["X-Request-ID"]
    assert change.object_id == str(task.pk)
    assert change.detail["changes"]["status"] == {"old": "not_started", "new": "in_progress"}
    assert change.detail["changes"]["percent"] == {"old": 0, "new": 60}
    assert change.detail["changes"]["version"] == {"old": 1, "new": 2}


def test_a_role_change_is_its_own_event_with_old_and_new_role(staff_a, security_admin):
    # when the security admin makes staff_a a leader
    staff_a.role = Role.LEADER
    staff_a._history_user = security_admin
    staff_a.save()
    # then one 角色变更 event says who did it and what the role was and became
    event = AuditEvent.objects.get(event_type=EventType.ROLE_CHANGE)
    assert event.get_event_type_display() == "角色变更"
    assert (event.user_id, event.object_type, event.object_id) == (security_admin.pk, "accounts.user", str(staff_a.pk))
    assert event.detail["changes"]["role"] == {"old": "staff", "new": "leader"}


def test_a_change_of_groups_is_a_permission_change(staff_a):
    group = Group.objects.create(name="专项督查")
    staff_a.groups.add(group)
    event = AuditEvent.objects.get(event_type=EventType.PERMISSION_CHANGE)
    assert (event.object_id, event.detail["ids"], event.detail["action"]) == (str(staff_a.pk), [group.pk], "add")


def test_an_admin_edit_is_an_admin_action_and_a_change(client, admin_user, agency_a):
    # given an alias
    alias = AgencyAlias.objects.create(agency=agency_a, name="医政处")
    client.force_login(admin_user)
    # when the admin renames it in the Django admin
    response = client.post(
        f"/admin/accounts/agencyalias/{alias.pk}/change/",
        {"agency": agency_a.pk, "name": "医政医管"},
        REMOTE_ADDR="10.3.3.3",
    )
    assert response.status_code == 302
    # then there is a 修改 with old and new name and a 管理操作, both the admin's
    change = AuditEvent.objects.get(event_type=EventType.UPDATE, object_type="accounts.agencyalias")
    assert change.detail["changes"]["name"] == {"old": "医政处", "new": "医政医管"}
    action = AuditEvent.objects.get(event_type=EventType.ADMIN_ACTION)
    assert (action.user_id, action.ip_address, action.object_type, action.object_id) == (
        admin_user.pk,
        "10.3.3.3",
        "accounts.agencyalias",
        str(alias.pk),
    )
    assert action.detail["action"] == "修改" and action.request_id == response["X-Request-ID"]


def test_a_bulk_delete_in_the_admin_records_every_object(client, admin_user, agency_a):
    aliases = [AgencyAlias.objects.create(agency=agency_a, name=f"别名{n}") for n in range(3)]
    client.force_login(admin_user)
    response = client.post(
        "/admin/accounts/agencyalias/",
        {"action": "delete_selected", "post": "yes", "_selected_action": [a.pk for a in aliases]},
    )
    assert response.status_code == 302 and not AgencyAlias.objects.exists()
    actions = AuditEvent.objects.filter(event_type=EventType.ADMIN_ACTION)
    assert sorted(actions.values_list("object_id", flat=True)) == sorted(str(a.pk) for a in aliases)
    assert {a.detail["action"] for a in actions} == {"删除"}
    assert AuditEvent.objects.filter(event_type=EventType.DELETE, object_type="accounts.agencyalias").count() == 3


def test_an_export_download_is_recorded(client, leader, task, django_capture_on_commit_callbacks):
    from dashboards.models import Export

    client.force_login(leader)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/dashboard/exports/ledger/", {"year": 2026})
    export = Export.objects.get()
    response = client.get(f"/dashboard/exports/{export.pk}/download/")
    assert response.status_code == 200
    event = AuditEvent.objects.get(event_type=EventType.EXPORT)
    assert (event.user_id, event.object_type, event.object_id, event.detail["kind"]) == (
        leader.pk,
        "dashboards.export",
        str(export.pk),
        "ledger",
    )


def test_an_evidence_download_is_recorded_before_the_file_leaves(client, staff_a, staff_b, task):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tasks.models import Attachment

    # given a report with a PDF by the lead agency's staff
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    client.force_login(staff_a)
    client.post(
        f"/tasks/{task.pk}/report/",
        {
            "version": task.version,
            "status": "in_progress",
            "percent": 10,
            "files": [SimpleUploadedFile("方案.pdf", pdf)],
        },
    )
    attachment = Attachment.objects.get()
    # when the co-owner's staff download it
    client.force_login(staff_b)
    response = client.get(f"/tasks/attachments/{attachment.pk}/", REMOTE_ADDR="10.7.7.7")
    assert response.status_code == 200
    # then the trail says who took which file, from where
    event = AuditEvent.objects.get(event_type=EventType.EXPORT)
    assert (event.username, event.ip_address, event.object_type) == ("staff_b", "10.7.7.7", "tasks.attachment")
    assert event.detail["file"] == "方案.pdf" and event.detail["task"] == task.pk


def test_no_evidence_file_leaves_when_its_download_cannot_be_recorded(client, staff_a, task, monkeypatch):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import DatabaseError

    from tasks.models import Attachment

    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    client.force_login(staff_a)
    client.post(
        f"/tasks/{task.pk}/report/",
        {
            "version": task.version,
            "status": "in_progress",
            "percent": 10,
            "files": [SimpleUploadedFile("方案.pdf", pdf)],
        },
    )
    attachment = Attachment.objects.get()

    # given an audit store that fails
    def refuse(*args, **kwargs):
        raise DatabaseError("audit store down")

    monkeypatch.setattr("workbench.views.record_evidence_download", refuse)
    client.raise_request_exception = False
    # when the file is asked for, then it does not leave
    response = client.get(f"/tasks/attachments/{attachment.pk}/")
    assert response.status_code == 500
    assert pdf not in b"".join(getattr(response, "streaming_content", [response.content]))
