"""Reporting quotas (tasks/quotas.py): evidence bytes a day and reports a minute, per user
and per agency, refused with 429 and a Chinese message on the page and in the API."""

import datetime

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from supervision.evidence import check_evidence_files
from supervision.progress import EvidenceInput, report_progress
from tasks.models import Attachment, ProgressUpdate
from tasks.quotas import QuotaExceeded
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
NOON = datetime.datetime(2026, 11, 24, 4, 0, tzinfo=datetime.UTC)  # 12:00 in Asia/Shanghai


@pytest.fixture(autouse=True)
def now():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def quotas(settings):
    settings.REPORTS_PER_USER_MINUTE = 3
    settings.REPORTS_PER_AGENCY_MINUTE = 5
    settings.EVIDENCE_BYTES_PER_USER_DAY = 3 * len(PDF)
    settings.EVIDENCE_BYTES_PER_AGENCY_DAY = 5 * len(PDF)
    return settings


def pdf(name="a.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def note(task, user, text="进展", **kwargs):
    task.refresh_from_db()
    return report_progress(task.pk, user, based_on_version=task.version, note=text, **kwargs)


def with_file(task, user):
    evidence = [EvidenceInput(uploaded, kind) for uploaded, kind in check_evidence_files([pdf()])]
    return note(task, user, evidence=evidence)


def test_a_user_s_reports_a_minute_are_limited_and_the_wait_is_told(quotas, task, staff_a, now):
    for n in range(3):
        note(task, staff_a, f"第{n}次")
        now.shift(datetime.timedelta(seconds=10))

    # when a fourth comes 30 s after the first
    with pytest.raises(QuotaExceeded) as refused:
        note(task, staff_a, "第4次")

    # then it is refused until the first has left the minute, and nothing is written
    assert refused.value.retry_after == 30
    assert refused.value.message == "您每分钟最多提交 3 次进展填报，请 30 秒后再试。"
    assert ProgressUpdate.objects.count() == 3
    now.shift(datetime.timedelta(seconds=31))
    note(task, staff_a, "第4次")


def test_an_agency_s_reports_a_minute_are_limited_across_its_people(quotas, task, staff_a, agency_a):
    colleague = make_user("staff_a2", "staff", agency_a)
    for user in (staff_a, staff_a, staff_a, colleague, colleague):
        try:
            note(task, user)
        except QuotaExceeded:
            pytest.fail("refused before the limit")
    with pytest.raises(QuotaExceeded, match="本单位每分钟最多提交 5 次"):
        note(task, colleague)


def test_a_user_s_evidence_bytes_a_day_are_limited_until_midnight(quotas, task, staff_a, now):
    quotas.REPORTS_PER_USER_MINUTE = quotas.REPORTS_PER_AGENCY_MINUTE = 0  # off
    for _n in range(3):
        with_file(task, staff_a)

    with pytest.raises(QuotaExceeded) as refused:
        with_file(task, staff_a)

    assert "今天已上传佐证材料" in refused.value.message and "本次填报未保存" in refused.value.message
    assert refused.value.retry_after == 12 * 3600  # noon to midnight, Beijing time
    assert Attachment.objects.count() == 3
    # a note without files still goes through
    note(task, staff_a, "只写说明")
    # and the next day the files do too
    now.shift(datetime.timedelta(hours=12))
    with_file(task, staff_a)


def test_an_agency_s_evidence_bytes_a_day_are_limited_across_its_people(quotas, task, staff_a, agency_a):
    quotas.REPORTS_PER_USER_MINUTE = quotas.REPORTS_PER_AGENCY_MINUTE = 0
    colleague = make_user("staff_a2", "staff", agency_a)
    for user in (staff_a, staff_a, colleague, colleague, colleague):
        with_file(task, user)
    with pytest.raises(QuotaExceeded, match="本单位今天已上传佐证材料"):
        with_file(task, staff_a)


def test_the_task_page_answers_429_with_the_message_and_keeps_nothing(quotas, client, task, staff_a):
    quotas.REPORTS_PER_USER_MINUTE = quotas.REPORTS_PER_AGENCY_MINUTE = 0
    client.force_login(staff_a)
    for _n in range(3):
        with_file(task, staff_a)
    task.refresh_from_db()

    response = client.post(f"/tasks/{task.pk}/report/", {"version": task.version, "note": "再传一份", "files": [pdf()]})

    assert response.status_code == 429
    assert response["Retry-After"] == str(12 * 3600)
    page = response.content.decode()
    assert "今天已上传佐证材料" in page
    assert ProgressUpdate.objects.filter(note="再传一份").count() == 0


def test_the_api_answers_429_json_with_retry_after(quotas, task, staff_a):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(staff_a)
    for n in range(3):
        assert (
            api.post("/api/v1/progress-updates/", {"task": task.pk, "note": f"第{n}次"}, format="json").status_code
            == 201
        )

    response = api.post("/api/v1/progress-updates/", {"task": task.pk, "note": "第4次"}, format="json")

    assert response.status_code == 429
    assert response.json() == {"detail": "您每分钟最多提交 3 次进展填报，请 60 秒后再试。", "code": "quota_exceeded"}
    assert response["Retry-After"] == "60"


def test_the_defaults_are_set():
    from django.conf import settings

    assert settings.EVIDENCE_BYTES_PER_USER_DAY == 200 * 1024 * 1024
    assert settings.EVIDENCE_BYTES_PER_AGENCY_DAY == 2 * 1024 * 1024 * 1024
    assert (settings.REPORTS_PER_USER_MINUTE, settings.REPORTS_PER_AGENCY_MINUTE) == (20, 60)
