"""The audit trail is kept: no page, admin screen or revert changes or removes it."""

import pytest


def history_models():
    from simple_history.models import registered_models

    return [model.history.model for model in registered_models.values() if hasattr(model, "history")]


def test_no_audit_record_model_is_editable_in_the_admin(db):
    from django.contrib import admin

    registered = set(admin.site._registry)
    assert not [m for m in history_models() if m in registered]


def test_reverting_from_the_admin_history_is_disabled(client, admin_user, staff_a, task):
    from tasks.models import ProgressUpdate

    # given a task moved on by a progress update
    ProgressUpdate(task=task, author=staff_a, status="in_progress", percent=50).save()
    first = task.history.earliest()
    client.force_login(admin_user)
    # when an admin opens the first version and posts it back ("revert")
    url = f"/admin/tasks/task/{task.pk}/history/{first.history_id}/"
    response = client.post(url, {"heading": task.heading, "plan": task.plan_id, "due_on": "2026-12-31"})
    # then nothing changes: the task still follows its progress log, and the trail is intact
    task.refresh_from_db()
    assert (task.status, task.percent) == ("in_progress", 50)
    # (the trail's pages in the Django admin are no one's: the system admin does not read
    # the audit trail, 三员分立)
    assert response.status_code == 403
    assert task.history.count() == 2


def test_the_trail_outlives_the_task(client, admin_user, staff_a, task):
    from tasks.models import Task

    task_id = task.pk
    client.force_login(admin_user)
    Task.objects.filter(pk=task_id).delete()
    records = Task.history.filter(id=task_id)
    assert [r.history_type for r in records.order_by("history_date")] == ["+", "-"]


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_the_task_history_page_only_reads(client, admin_user, task, method):
    client.force_login(admin_user)
    response = getattr(client, method)(f"/tasks/{task.pk}/history/")
    # Refused by the access policy (GET only) before the view, which would answer 405.
    assert response.status_code == 403
    assert task.history.count() == 1


def test_evidence_files_are_part_of_the_record(staff_a, task, settings, tmp_path):
    from django.core.exceptions import ValidationError
    from django.core.files.uploadedfile import SimpleUploadedFile

    from supervision.evidence import check_evidence_file
    from supervision.progress import EvidenceInput, report_progress
    from tasks.models import Attachment

    settings.MEDIA_ROOT = tmp_path
    pdf = SimpleUploadedFile("验收报告.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    report_progress(
        task.pk,
        staff_a,
        based_on_version=task.version,
        note="附验收报告",
        evidence=[EvidenceInput(pdf, check_evidence_file(pdf))],
    )
    attachment = Attachment.objects.get()
    attachment.original_name = "改名.pdf"
    with pytest.raises(ValidationError, match="佐证材料只能新增，不能修改。"):
        attachment.save()
    with pytest.raises(ValidationError, match="佐证材料只能新增，不能删除。"):
        attachment.delete()
    with pytest.raises(ValidationError, match="佐证材料只能新增，不能删除。"):
        Attachment.objects.all().delete()
    with pytest.raises(ValidationError, match="佐证材料只能新增，不能修改。"):
        Attachment.objects.update(original_name="x.pdf")
    assert Attachment.objects.get().original_name == "验收报告.pdf"
