"""Writing progress through the API: the task page's rules (tasks.services.report_progress),
the task's ETag against lost updates, and bad input that changes nothing."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from indicators.models import Reading
from tasks.choices import TaskStatus
from tasks.models import Attachment, Milestone, ProgressUpdate, Task
from tests.api.conftest import as_user, etag

pytestmark = pytest.mark.django_db

URL = "/api/v1/progress-updates/"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def task(world):
    return world["tasks"]["task_ab"]


def post(api, data, if_match=None, **kwargs):
    headers = {} if if_match is None else {"HTTP_IF_MATCH": if_match}
    return api.post(URL, data, format=kwargs.pop("format", "json"), **headers, **kwargs)


def state(task):
    task = Task.objects.get(pk=task.pk)
    return task.status, task.percent, task.version, ProgressUpdate.objects.filter(task=task).count()


def test_the_lead_changes_status_with_the_task_s_etag_and_gets_the_next_one(api, world, task):
    as_user(api, world["users"]["staff_lead"])
    tag = api.get(f"/api/v1/tasks/{task.pk}/")["ETag"]

    response = post(api, {"task": task.pk, "status": "in_progress", "percent": 45, "note": "集团章程已起草"}, tag)

    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["percent"], body["status_before"], body["percent_before"]) == (
        "in_progress",
        45,
        "in_progress",
        30,
    )
    assert body["task_etag"] == api.get(f"/api/v1/tasks/{task.pk}/")["ETag"] != tag
    assert body["task_version"] == Task.objects.get(pk=task.pk).version


def test_changing_state_without_if_match_is_428_and_changes_nothing(api, world, task):
    as_user(api, world["users"]["staff_lead"])
    before = state(task)
    for data in ({"status": "lagging"}, {"percent": 50}, {"milestones": [world["milestone"].pk]}):
        response = post(api, {"task": task.pk, **data})
        assert response.status_code == 428
        assert response.json()["code"] == "precondition_required" and "If-Match" in response.json()["detail"]
    assert state(task) == before


def test_a_stale_etag_is_412_with_the_current_state_and_what_changed(api, world, task):
    # given the lead read the task, then a colleague saved a change
    as_user(api, world["users"]["staff_lead"])
    old_tag = etag(task)
    ProgressUpdate(
        task=task, author=world["users"]["staff_lead"], status="lagging", percent=35, note="经费未到位"
    ).save()
    before = state(task)

    # when the lead saves on top of what they read
    response = post(api, {"task": task.pk, "status": "in_progress", "percent": 60}, old_tag)

    # then nothing is written and the answer says what the task is now, and why
    assert response.status_code == 412
    body = response.json()
    assert body["code"] == "stale_version" and body["detail"] == "任务已被他人更新：请按当前状态重新填报。"
    assert (body["task"]["status"], body["task"]["percent"]) == ("lagging", 35)
    assert response["ETag"] == body["task"]["etag"] == etag(task)
    assert [u["note"] for u in body["updates_since"]] == ["经费未到位"]
    assert state(task) == before


def test_a_weak_etag_or_one_of_a_list_matches(api, world, task):
    as_user(api, world["users"]["staff_lead"])
    assert post(api, {"task": task.pk, "percent": 40}, "W/" + etag(task)).status_code == 201
    assert post(api, {"task": task.pk, "percent": 55}, f'"nonsense", {etag(task)}').status_code == 201
    assert post(api, {"task": task.pk, "percent": 60}, '"nonsense"').status_code == 412
    assert state(task)[:2] == ("in_progress", 55)


@pytest.mark.parametrize("if_match", ["*", "*, W/*", " * "])
@pytest.mark.parametrize("data", [{"percent": 50}, {"note": "仅说明"}])
def test_if_match_star_is_refused_on_a_task_write(api, world, task, if_match, data):
    """`*` matches whatever the task is now, so it would overwrite a colleague's change
    unseen: a task write names the version it is based on."""
    as_user(api, world["users"]["staff_lead"])
    before = state(task)

    response = post(api, {"task": task.pk, **data}, if_match)

    assert response.status_code == 428
    assert response.json()["detail"] == "If-Match 不能为 *：请带上读取时得到的 ETag，以免覆盖他人的修改。"
    assert state(task) == before


def test_a_change_saved_between_the_check_and_the_lock_is_still_caught(api, world, task, monkeypatch):
    """The If-Match is compared when the request arrives; report_progress compares again
    under the task's row lock, so an update landing in between still answers 412."""
    import workbench.api

    real = workbench.api.report_progress

    def colleague_first(*args, **kwargs):
        ProgressUpdate(task=task, author=world["users"]["staff_lead"], status="lagging", percent=35).save()
        return real(*args, **kwargs)

    monkeypatch.setattr(workbench.api, "report_progress", colleague_first)
    as_user(api, world["users"]["staff_lead"])
    response = post(api, {"task": task.pk, "status": "in_progress", "percent": 60}, etag(task))
    assert response.status_code == 412
    assert (response.json()["task"]["status"], response.json()["task"]["percent"]) == ("lagging", 35)
    assert Task.objects.get(pk=task.pk).status == "lagging"


def test_a_co_owner_note_needs_no_etag_and_never_undoes_a_change(api, world, task):
    ProgressUpdate(task=task, author=world["users"]["staff_lead"], status="lagging", percent=35).save()
    as_user(api, world["users"]["staff_co_owner"])
    response = post(api, {"task": task.pk, "note": "配合完成调研"})
    assert response.status_code == 201
    assert (response.json()["status"], response.json()["percent"]) == ("lagging", 35)
    assert state(task)[:2] == ("lagging", 35)


def test_a_sent_etag_is_checked_even_for_a_note(api, world, task):
    as_user(api, world["users"]["staff_co_owner"])
    old_tag = etag(task)
    ProgressUpdate(task=task, author=world["users"]["staff_lead"], status="lagging", percent=35).save()
    assert post(api, {"task": task.pk, "note": "配合完成调研"}, old_tag).status_code == 412


def test_finishing_fills_in_100_percent_and_asks_for_a_note(api, world, task):
    as_user(api, world["users"]["staff_lead"])
    response = post(api, {"task": task.pk, "status": "done"}, etag(task))
    assert response.status_code == 400
    assert response.json()["errors"] == {"note": ["标记为已完成时，请填写完成情况说明。"]}
    response = post(
        api, {"task": task.pk, "status": "done", "note": "两个集团均已组建", "explanation": "指标年底统计"}, etag(task)
    )
    assert response.status_code == 201 and response.json()["percent"] == 100


def test_done_is_100_percent_whatever_percent_comes_with_it(api, world, task):
    """The page's form and the API share one rule (supervision.progress.report_progress):
    已完成 is recorded at 100 %."""
    as_user(api, world["users"]["staff_lead"])
    response = post(
        api,
        {"task": task.pk, "status": "done", "percent": 90, "note": "好了", "explanation": "指标年底统计"},
        etag(task),
    )
    assert response.status_code == 201, response.json()
    assert (response.json()["status"], response.json()["percent"]) == ("done", 100)
    assert state(task)[:2] == ("done", 100)


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"status": "not_started"}, "status", "任务状态不能从“进行中”改为“未开始”。"),
        ({"percent": 101}, "percent", None),
        ({"status": "teleported"}, "status", None),
        ({"note": "x" * 2001}, "note", None),
        ({"milestones": ["first"]}, "milestones", None),
    ],
)
def test_bad_input_is_400_in_chinese_and_writes_nothing(api, world, task, data, field, message):
    as_user(api, world["users"]["staff_lead"])
    before = state(task)
    response = post(api, {"task": task.pk, **data}, etag(task))
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and body["detail"] == "提交的内容有误，请按提示修改。"
    assert field in body["errors"]
    text = str(body["errors"][field])
    assert any("\u4e00" <= ch <= "\u9fff" for ch in text), text
    if message:
        assert body["errors"][field] == [message]
    assert state(task) == before


def test_another_task_s_milestone_or_indicator_is_refused(api, world, task):
    other = Milestone.objects.create(task=world["tasks"]["task_a"], due_on=datetime.date(2026, 12, 1), text="别的节点")
    as_user(api, world["users"]["staff_lead"])
    before = state(task)
    response = post(api, {"task": task.pk, "milestones": [other.pk]}, etag(task))
    assert response.status_code == 400 and response.json()["errors"] == {
        "milestones": ["所选时间节点不属于此任务或已完成。"]
    }
    response = post(api, {"task": task.pk, "readings": [{"indicator": world["indicators"]["ind_b"].pk, "value": "3"}]})
    assert response.status_code == 400
    assert response.json()["errors"] == {"readings": [{"indicator": ["所填指标不属于此任务。"]}]}
    assert state(task) == before


def test_readings_are_checked_like_the_page_and_one_bad_one_refuses_all(api, world, task):
    indicator = world["indicators"]["ind_ab"]
    as_user(api, world["users"]["staff_lead"])
    readings = [
        {"indicator": indicator.pk, "value": "2", "as_of": "2026-11-01"},
        {"indicator": indicator.pk, "value": "两个", "as_of": "2026-11-01"},
        {"indicator": indicator.pk, "value": "3", "as_of": "2026-12-25"},
    ]
    response = post(api, {"task": task.pk, "note": "填报指标", "readings": readings})
    assert response.status_code == 400
    errors = response.json()["errors"]["readings"]
    assert errors[0] == {}
    assert errors[1] == {"value": ["“两个”不是数字，请填写数值（如 3.09），单位“个”不用填写。"]}
    assert errors[2] == {"as_of": ["统计日期不能晚于今天。"]}
    assert Reading.objects.filter(indicator=indicator).count() == 1


def test_evidence_files_are_checked_by_content(api, world, task, settings):
    as_user(api, world["users"]["staff_co_owner"])
    fake = SimpleUploadedFile("报告.pdf", b"MZ this is an executable", content_type="application/pdf")
    response = post(api, {"task": task.pk, "note": "上传材料", "files": [fake]}, format="multipart")
    assert response.status_code == 400 and "files" in response.json()["errors"]
    assert Attachment.objects.count() == 0
    assert not any(p.is_file() for p in settings.MEDIA_ROOT.rglob("*"))

    good = SimpleUploadedFile("评估报告.pdf", PDF, content_type="application/pdf")
    response = post(api, {"task": task.pk, "note": "上传材料", "files": [good]}, format="multipart")
    assert response.status_code == 201
    [attachment] = response.json()["attachments"]
    assert attachment["original_name"] == "评估报告.pdf" and attachment["kind"] == "pdf"
    download = api.get(attachment["download_url"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF


def test_the_log_is_append_only(api, world):
    as_user(api, world["users"]["admin"])
    url = f"{URL}{world['updates']['update_ab'].pk}/"
    for method in (api.put, api.patch, api.delete):
        response = method(url, {"note": "改写历史"}, format="json")
        assert response.status_code == 405
    assert ProgressUpdate.objects.get(pk=world["updates"]["update_ab"].pk).note == "完成摸底"


def test_the_write_is_in_the_audit_trail_with_who_and_from_where(api, world, task):
    as_user(api, world["users"]["staff_lead"])
    post(api, {"task": task.pk, "percent": 40}, etag(task), REMOTE_ADDR="10.1.2.3")
    record = Task.objects.get(pk=task.pk).history.latest()
    assert (record.history_user, record.ip_address, record.percent) == (world["users"]["staff_lead"], "10.1.2.3", 40)


def test_status_transitions_follow_the_one_table(api, world, task):
    from tasks.choices import ALLOWED_TRANSITIONS

    as_user(api, world["users"]["staff_lead"])
    assert TaskStatus.ON_HOLD in ALLOWED_TRANSITIONS[TaskStatus.IN_PROGRESS]
    assert post(api, {"task": task.pk, "status": "on_hold"}, etag(task)).status_code == 201
    assert TaskStatus.DONE not in ALLOWED_TRANSITIONS[TaskStatus.ON_HOLD]
    response = post(api, {"task": task.pk, "status": "done", "note": "完成"}, etag(task))
    assert response.status_code == 400 and response.json()["errors"]["status"] == ["任务状态不能从“暂缓”改为“已完成”。"]


def test_too_many_files_is_a_json_400_and_writes_nothing(api, world, task, settings):
    as_user(api, world["users"]["staff_co_owner"])
    files = [SimpleUploadedFile(f"{n}.pdf", PDF, content_type="application/pdf") for n in range(20)]
    response = post(api, {"task": task.pk, "note": "很多材料", "files": files}, format="multipart")
    assert response.status_code == 400
    assert response.json() == {"detail": "请求过大：一次最多上传 10 个文件，每个不超过 20 MB。", "code": "too_large"}
    assert Attachment.objects.count() == 0
