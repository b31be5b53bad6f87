"""jobs.parse_plan_import: claims its row once, writes progress, stores the parse or the error."""

import datetime
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from imports import jobs
from imports.choices import ImportStatus
from imports.models import PlanImport
from imports.parsing import ParseError

pytestmark = pytest.mark.django_db

TEXT = "2026年测试市卫生健康工作要点\n一、提升医疗服务能力\n1.改善就医体验。预约诊疗率达到60%以上。（医政医管处）\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def queued(admin_user):
    return PlanImport.objects.create(
        file=SimpleUploadedFile("plan.txt", TEXT.encode()),
        original_name="要点.txt",
        sha256="1" * 64,
        size=len(TEXT.encode()),
        created_by=admin_user,
    )


def test_it_parses_a_queued_import(queued):
    # when
    outcome = jobs.parse_plan_import(queued.pk)
    # then
    queued.refresh_from_db()
    assert outcome == "parsed"
    assert queued.status == ImportStatus.PARSED and queued.progress == 100
    assert queued.document["tasks"][0]["owners"] == ["医政医管处"]
    assert queued.error == ""


def test_a_second_run_does_nothing(queued):
    jobs.parse_plan_import(queued.pk)
    with mock.patch.object(jobs, "parse_bytes", autospec=True) as parse:
        assert jobs.parse_plan_import(queued.pk) == "skipped"
    parse.assert_not_called()


def test_a_row_another_worker_is_parsing_is_left_alone(queued):
    PlanImport.objects.filter(pk=queued.pk).update(status=ImportStatus.PARSING, progress=40)
    assert jobs.parse_plan_import(queued.pk) == "skipped"
    queued.refresh_from_db()
    assert queued.status == ImportStatus.PARSING and queued.progress == 40


def test_a_row_whose_worker_died_is_taken_over(queued):
    # given a claim far older than any parse may take, with no progress written since
    stale = timezone.now() - jobs.STALE_CLAIM_AFTER - datetime.timedelta(seconds=5)
    PlanImport.objects.filter(pk=queued.pk).update(status=ImportStatus.PARSING, updated_at=stale)
    assert jobs.parse_plan_import(queued.pk) == "parsed"


def test_it_writes_progress_as_it_goes(queued):
    seen = []

    def fake_parse(data, filename, progress=None, **limits):
        for value in (0, 20, 40, 70):
            progress(value)
            seen.append(PlanImport.objects.get(pk=queued.pk).progress)
        return {"plan": {}, "sections": [], "tasks": [], "warnings": []}

    with mock.patch.object(jobs, "parse_bytes", side_effect=fake_parse), mock.patch.object(jobs, "PROGRESS_EVERY", 0):
        jobs.parse_plan_import(queued.pk)
    assert seen == [0, 20, 40, 70]
    queued.refresh_from_db()
    assert queued.progress == 100


def test_progress_writes_are_throttled(queued):
    PlanImport.objects.filter(pk=queued.pk).update(status=ImportStatus.PARSING)
    write = jobs._progress_writer(queued.pk)
    with mock.patch.object(jobs.PlanImport.objects, "filter", wraps=jobs.PlanImport.objects.filter) as query:
        for value in range(99):
            write(value)
    assert query.call_count <= 3  # the first, and one per PROGRESS_EVERY at most


def test_a_parse_error_is_recorded_in_chinese(queued):
    with mock.patch.object(jobs, "parse_bytes", side_effect=ParseError("文件中没有可识别的文字内容")):
        assert jobs.parse_plan_import(queued.pk) == "failed"
    queued.refresh_from_db()
    assert queued.status == ImportStatus.FAILED and queued.error == "文件中没有可识别的文字内容"
    assert queued.document is None


def test_a_parse_that_runs_too_long_is_recorded_as_failed(queued):
    from celery.exceptions import SoftTimeLimitExceeded

    with mock.patch.object(jobs, "parse_bytes", side_effect=SoftTimeLimitExceeded()):
        jobs.parse_plan_import(queued.pk)
    queued.refresh_from_db()
    assert queued.status == ImportStatus.FAILED and "解析超时" in queued.error


def test_a_parser_bug_is_recorded_not_left_parsing(queued):
    with mock.patch.object(jobs, "parse_bytes", side_effect=KeyError("boom")):
        jobs.parse_plan_import(queued.pk)
    queued.refresh_from_db()
    assert queued.status == ImportStatus.FAILED and "内部错误" in queued.error


def test_the_time_limit_comes_from_settings():
    assert jobs.parse_plan_import.soft_time_limit == jobs.PARSE_TIME_LIMIT
    assert jobs.parse_plan_import.acks_late is True


def test_it_holds_the_file_to_the_configured_size_limit(queued, settings):
    settings.PLAN_UPLOAD_MAX_BYTES = 64
    assert jobs.parse_plan_import(queued.pk) == "failed"
    queued.refresh_from_db()
    assert queued.status == ImportStatus.FAILED and "文件过大" in queued.error
