"""Reporting progress on the task page: status rules, completion notes, evidence files,
milestones, indicator readings, 责任人, and bad input that changes nothing."""

import datetime
import decimal
import re

import pytest
import time_machine

from tests.conftest import make_user

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(datetime.datetime(2026, 11, 24, 4, 0, tzinfo=datetime.UTC), tick=False):
        yield


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def indicator(task):
    from indicators.models import Indicator

    return Indicator.objects.create(
        task=task, name="每千人口床位数", comparator=">=", target=decimal.Decimal("6.5"), unit="张"
    )


@pytest.fixture
def milestone(task):
    from tasks.models import Milestone

    return Milestone.objects.create(task=task, due_on=datetime.date(2026, 9, 30), text="完成实施方案")


def url(task, name="task_report"):
    from django.urls import reverse

    return reverse(f"tasks:{name}", args=[task.pk])


def post(client, task, **data):
    data.setdefault("version", task.version)
    return client.post(url(task), data)


def errors(response) -> list[str]:
    return re.findall(r'class="error">([^<]+)<', response.content.decode())


def counts(task):
    from indicators.models import Reading
    from tasks.models import Attachment, ProgressUpdate

    task.refresh_from_db()
    return (
        task.status,
        task.percent,
        task.version,
        ProgressUpdate.objects.count(),
        Reading.objects.count(),
        Attachment.objects.count(),
    )


def test_it_saves_status_percent_note_file_milestone_and_reading_in_one_update(
    client, staff_a, task, indicator, milestone, media
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(staff_a)
    # when lead staff report everything at once
    response = post(
        client,
        task,
        status="in_progress",
        percent=60,
        note="已完成方案起草",
        files=[SimpleUploadedFile("实施方案.pdf", PDF)],
        milestones=[milestone.pk],
        **{f"reading_{indicator.pk}_value": "6.62", f"reading_{indicator.pk}_as_of": "2026-11-20"},
    )
    # then it is one update carrying all of it, and the task follows it
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.status, task.percent, task.version) == ("in_progress", 60, 2)
    update = task.progress_updates.get()
    assert (update.author, update.note, update.status_before, update.percent_before) == (
        staff_a,
        "已完成方案起草",
        "not_started",
        0,
    )
    attachment = update.attachments.get()
    assert (attachment.original_name, attachment.kind, attachment.size) == ("实施方案.pdf", "pdf", len(PDF))
    assert attachment.file.read() == PDF and attachment.file.name.startswith("evidence/2026/11/")
    reading = update.readings.get()
    assert (reading.value, reading.as_of, reading.reporter) == (
        decimal.Decimal("6.62"),
        datetime.date(2026, 11, 20),
        staff_a,
    )
    milestone.refresh_from_db()
    assert (milestone.done_on, milestone.done_by_update) == (datetime.date(2026, 11, 24), update)
    # and the task page shows it
    html = client.get(url(task, "task_detail")).content.decode()
    assert "已完成方案起草" in html and "实施方案.pdf" in html and "6.62张" in html


def test_the_evidence_downloads_with_its_name_and_the_type_found_by_content(client, staff_a, staff_b, task, media):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(staff_a)
    post(client, task, status="in_progress", percent=10, files=[SimpleUploadedFile("报告.pdf", PDF)])
    attachment = task.attachments.get()
    client.force_login(staff_b)  # co-owner: may read
    response = client.get(f"/tasks/attachments/{attachment.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "attachment;" in response["Content-Disposition"]


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("病毒.docx", b"MZ\x90\x00" + b"\x00" * 200, "不是"),
        ("网页.pdf", b"<html><script>alert(1)</script></html>", "不是"),
        ("程序.exe", b"MZ" + b"\x00" * 100, "不在可上传范围"),
    ],
)
def test_a_refused_file_refuses_the_whole_update(client, staff_a, task, media, name, content, message):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(staff_a)
    before = counts(task)
    response = post(
        client, task, status="in_progress", percent=30, note="附件有问题", files=[SimpleUploadedFile(name, content)]
    )
    assert response.status_code == 400
    assert any(name in e and message in e for e in errors(response)), errors(response)
    assert counts(task) == before
    assert not any(media.rglob("*.*")), "no file is left in storage"


def test_too_many_files_are_refused(client, staff_a, task, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.EVIDENCE_MAX_FILES = 2
    client.force_login(staff_a)
    files = [SimpleUploadedFile(f"{n}.pdf", PDF) for n in range(3)]
    response = post(client, task, note="三个文件", files=files)
    assert response.status_code == 400
    assert "一次最多上传 2 个文件" in " ".join(errors(response))


def test_completing_a_task_asks_for_a_note(client, staff_a, task):
    client.force_login(staff_a)
    before = counts(task)
    response = post(client, task, status="done", percent=100, note="  ")
    assert response.status_code == 400
    assert "标记为已完成时，请填写完成情况说明。" in errors(response)
    assert counts(task) == before
    # with a note it is done, and at 100% whatever percent was sent
    assert post(client, task, status="done", percent=80, note="全部完成，验收通过").status_code == 302
    task.refresh_from_db()
    assert (task.status, task.percent) == ("done", 100)


def test_a_transition_not_allowed_is_refused_with_the_rule_named(client, staff_a, task):
    from tasks.models import ProgressUpdate

    ProgressUpdate(task=task, author=staff_a, status="on_hold", percent=20).save()
    task.refresh_from_db()
    client.force_login(staff_a)
    before = counts(task)
    # on hold cannot go straight to done
    response = post(client, task, status="done", percent=100, note="完成")
    assert response.status_code == 400
    assert counts(task) == before
    # the form does not even offer it
    assert any(e.startswith("选择一个有效的选项。 done 不在可用的选项中。") for e in errors(response)), errors(response)


def test_the_service_refuses_a_transition_not_allowed_whatever_sends_it(staff_a, task):
    from django.core.exceptions import ValidationError

    from supervision.progress import report_progress
    from tasks.models import ProgressUpdate

    ProgressUpdate(task=task, author=staff_a, status="on_hold", percent=20).save()
    task.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        report_progress(task.pk, staff_a, based_on_version=task.version, status="done", percent=100, note="完成")
    assert refused.value.message_dict["status"] == ["任务状态不能从“暂缓”改为“已完成”。"]
    task.refresh_from_db()
    assert (task.status, task.progress_updates.count()) == ("on_hold", 1)


def test_the_form_only_offers_allowed_statuses():
    from tasks.choices import ALLOWED_TRANSITIONS, TaskStatus, can_transition

    for current in TaskStatus.values:
        for new in TaskStatus.values:
            assert can_transition(current, new) == (new == current or new in ALLOWED_TRANSITIONS[current])
    assert not can_transition(TaskStatus.ON_HOLD, TaskStatus.DONE)


@pytest.mark.parametrize(
    "value, as_of, message",
    [
        ("abc", "2026-11-20", "不是数字"),
        ("6.5张", "2026-11-20", "不是数字"),
        ("-1", "2026-11-20", "不能为负数"),
        ("1.23456", "2026-11-20", "最多保留 4 位小数"),
        ("12345678901", "2026-11-20", "数值过大"),
        ("6.6", "2026-12-01", "不能晚于今天"),
        ("6.6", "2025-12-31", "计划年度内"),
        ("6.6", "", "请填写统计日期"),
    ],
)
def test_a_bad_reading_is_refused_with_a_clear_message_and_nothing_saved(
    client, staff_a, task, indicator, value, as_of, message
):
    client.force_login(staff_a)
    before = counts(task)
    response = post(
        client,
        task,
        note="填报指标",
        **{f"reading_{indicator.pk}_value": value, f"reading_{indicator.pk}_as_of": as_of},
    )
    assert response.status_code == 400
    assert any(message in e for e in errors(response)), errors(response)
    assert counts(task) == before
    # the page keeps what was typed, so it can be corrected
    assert f'value="{value}"' in response.content.decode()


def test_a_percentage_indicator_refuses_more_than_100(staff_a, task):
    from indicators.models import Indicator
    from indicators.services import check_reading

    rate = Indicator.objects.create(task=task, name="预约诊疗率", comparator=">=", target=65, unit="%")
    with pytest.raises(Exception, match="百分比不能超过 100"):
        check_reading(rate, "120", "2026-11-01", today=datetime.date(2026, 11, 24))
    assert check_reading(rate, "61.2%", "2026-11-01", today=datetime.date(2026, 11, 24))[0] == decimal.Decimal("61.2")
    growth = Indicator.objects.create(task=task, name="门诊费用增长率", comparator="<=", target=5, unit="%")
    assert check_reading(growth, "-1.5", "2026-11-01", today=datetime.date(2026, 11, 24))[0] == decimal.Decimal("-1.5")


def test_a_reading_of_another_tasks_indicator_is_ignored_by_the_form(client, staff_a, task, plan, agency_b):
    from indicators.models import Indicator, Reading
    from tests.conftest import make_task

    foreign = Indicator.objects.create(task=make_task(plan, None, "9", lead=agency_b), name="别的指标", target=1)
    client.force_login(staff_a)
    response = post(
        client,
        task,
        note="只写说明",
        **{f"reading_{foreign.pk}_value": "5", f"reading_{foreign.pk}_as_of": "2026-11-20"},
    )
    assert response.status_code == 302
    assert not Reading.objects.exists()


def test_an_empty_report_is_refused(client, staff_a, task):
    client.force_login(staff_a)
    response = post(client, task, status=task.status, percent=task.percent, note="")
    assert response.status_code == 400
    assert "没有需要保存的内容" in " ".join(errors(response))


def test_a_co_owner_adds_a_note_without_touching_status(client, staff_a, staff_b, task):
    from tasks.models import ProgressUpdate

    ProgressUpdate(task=task, author=staff_a, status="in_progress", percent=40).save()
    client.force_login(staff_b)
    html = client.get(url(task, "task_detail")).content.decode()
    assert 'name="status"' not in html and 'name="percent"' not in html
    assert "本单位为配合单位" in html
    response = post(client, task, version=1, note="配合单位已提供数据")  # even on a stale version
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.status, task.percent) == ("in_progress", 40)
    assert task.progress_updates.first().note == "配合单位已提供数据"


def test_htmx_saves_without_a_full_page_and_returns_the_main_panel(client, staff_a, task):
    response = None
    client.force_login(staff_a)
    response = client.post(
        url(task),
        {"version": task.version, "status": "in_progress", "percent": 25, "note": "快速"},
        headers={"HX-Request": "true"},
        follow=True,
    )
    assert response.status_code == 200
    assert 'id="task-main"' in response.content.decode()
    task.refresh_from_db()
    assert task.percent == 25


def test_lead_staff_name_the_responsible_people(client, staff_a, task, agency_a, agency_b):
    colleague = make_user("colleague_a", "staff", agency_a, full_name="张责任")
    outsider = make_user("someone_b", "staff", agency_b)
    client.force_login(staff_a)
    response = client.post(url(task, "task_responsible"), {"users": [colleague.pk]})
    assert response.status_code == 302
    assert list(task.responsible_users.all()) == [colleague]
    # only people of the lead agency can be named
    response = client.post(url(task, "task_responsible"), {"users": [outsider.pk]})
    assert response.status_code == 400
    assert list(task.responsible_users.all()) == [colleague]
    html = client.get(url(task, "task_detail")).content.decode()
    assert "张责任" in html


@pytest.mark.parametrize("updates, readings", [(2, 1), (80, 40)])
def test_the_task_page_runs_a_bounded_number_of_queries(
    client, django_assert_max_num_queries, staff_a, task, indicator, milestone, updates, readings
):
    from indicators.models import Reading
    from tasks.models import ProgressUpdate

    for n in range(updates):
        ProgressUpdate(task=task, author=staff_a, status="in_progress", percent=n % 100, note=f"第{n}次").save()
    for n in range(readings):
        Reading.objects.create(indicator=indicator, value=n, as_of=datetime.date(2026, 1, 1), reporter=staff_a)
    task.responsible_users.set([staff_a])
    client.force_login(staff_a)
    # 35: the period report panel and the reports' thread (supervision.report_views) add
    # this cycle's report, the co-owners' input and the thread, each a fixed number; 39:
    # escalation's panel (escalation.views.task_panel) its notices, urges, instructions and
    # hold, one query each; 40: the tasks it was carried into (tasks/_task_links.html).
    with django_assert_max_num_queries(40):
        response = client.get(url(task, "task_detail"))
    assert response.status_code == 200


def test_evidence_is_not_served_by_its_storage_url(client, staff_a, outside_agency, task, media):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(staff_a)
    post(client, task, note="附材料", files=[SimpleUploadedFile("内部材料.pdf", PDF)])
    stored = task.attachments.get().file.name
    # someone of another agency who learnt the path gets nothing
    client.force_login(make_user("outsider", "staff", outside_agency))
    assert client.get(f"/media/{stored}").status_code == 404
    assert client.get(f"/tasks/attachments/{task.attachments.get().pk}/").status_code == 403
