"""The import pages: admins only; upload -> job -> preview -> edit -> map -> confirm."""

import html
import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import Agency
from imports.choices import ImportStatus
from imports.forms import mapping_field_name
from imports.models import PlanImport
from tasks.choices import OwnerRole, TaskStatus
from tasks.models import ProgressUpdate, Task, TaskOwner
from workplans.choices import PlanStatus
from workplans.models import Plan

pytestmark = pytest.mark.django_db

PLAN_TEXT = """测试市卫生健康委员会关于印发《2026年测试市卫生健康工作要点》的通知
测卫发〔2026〕5号

2026年测试市卫生健康工作要点

一、提升医疗服务能力
1.推进城市医疗集团建设。年内组建3个城市医疗集团，6月底前完成集团章程制定。（医政医管处、市医疗保障局）
2.改善就医体验。二级以上公立医院预约诊疗率达到60%以上。（医政医管处）
二、织牢公共卫生网底
3.完善传染病监测预警。三季度末前上线多点触发监测平台。（疾病预防控制处、市衛生健康委）
4.做好免疫规划。适龄儿童免疫规划疫苗接种率保持在95%以上。（疾病预防控制处、市体育局）

测试市卫生健康委员会
2026年2月10日
"""


def plan_text(extra_tasks=0, *, change=None):
    text = PLAN_TEXT
    if change:
        text = text.replace(*change)
    if extra_tasks:
        items = "".join(
            f"{n}.开展第{n}项专项行动。年内完成专项检查{n}次。（医政医管处、疾病预防控制处）\n"
            for n in range(5, 5 + extra_tasks)
        )
        text = text.replace(
            "\n测试市卫生健康委员会\n2026年2月10日", "\n" + items + "\n测试市卫生健康委员会\n2026年2月10日"
        )
    return text


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def agencies(commission, agency_a, agency_b, outside_agency):
    return {"commission": commission, "a": agency_a, "b": agency_b, "outside": outside_agency}


@pytest.fixture
def admin_client(client, admin_user, agencies):
    client.force_login(admin_user)
    return client


def upload(client, capture, text=PLAN_TEXT, name="要点.txt", **extra):
    data = text.encode("utf-8") if isinstance(text, str) else text
    with capture(execute=True):
        return client.post(reverse("imports:upload"), {"file": SimpleUploadedFile(name, data), **extra})


@pytest.fixture
def parsed(admin_client, django_capture_on_commit_callbacks):
    response = upload(admin_client, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    return PlanImport.objects.get()


def preview_url(plan_import):
    return reverse("imports:preview", args=[plan_import.pk])


def preview_post(plan_import, mapping, action="confirm", **meta):
    data = {
        "plan-title": "2026年测试市卫生健康工作要点",
        "plan-year": "2026",
        "plan-issuer": "测试市卫生健康委员会",
        "plan-doc_number": "测卫发〔2026〕5号",
        "plan-issued_on": "2026-02-10",
        "action": action,
    }
    data.update({f"plan-{k}": v for k, v in meta.items()})
    data.update({mapping_field_name(name): str(value) for name, value in mapping.items()})
    return data


def full_mapping(agencies):
    return {
        "医政医管处": agencies["a"].pk,
        "市医疗保障局": agencies["outside"].pk,
        "疾病预防控制处": agencies["b"].pk,
        "市衛生健康委": agencies["commission"].pk,
        "市体育局": "create",
    }


# --- Who may ---------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["staff_a", "leader", "auditor"])
def test_it_is_for_admins_only(client, request, parsed, persona):
    client.force_login(request.getfixturevalue(persona))
    pk = parsed.pk
    for url in [
        reverse("imports:upload"),
        reverse("imports:status", args=[pk]),
        reverse("imports:progress", args=[pk]),
        reverse("imports:preview", args=[pk]),
        reverse("imports:task_edit", args=[pk, 0]),
    ]:
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("imports:preview", args=[pk]), {"action": "confirm"}).status_code == 403
    assert not Plan.objects.exists()


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get(reverse("imports:upload"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_plan_list_links_to_the_import_page(admin_client):
    body = admin_client.get(reverse("workplans:plan_list")).content.decode()
    assert reverse("imports:upload") in body and "导入计划" in body


# --- Upload ----------------------------------------------------------------------------


def test_it_refuses_a_file_type_it_cannot_read(admin_client, django_capture_on_commit_callbacks):
    response = upload(admin_client, django_capture_on_commit_callbacks, b"MZ\x90\x00", name="要点.exe")
    assert response.status_code == 400
    assert "不支持“exe”格式的文件" in response.content.decode()
    assert not PlanImport.objects.exists()


def test_it_refuses_a_file_over_the_size_limit(admin_client, settings, django_capture_on_commit_callbacks):
    settings.PLAN_UPLOAD_MAX_BYTES = 100
    response = upload(admin_client, django_capture_on_commit_callbacks)
    assert response.status_code == 400
    assert "文件过大" in response.content.decode()
    assert not PlanImport.objects.exists()


def test_it_refuses_an_empty_file(admin_client, django_capture_on_commit_callbacks):
    response = upload(admin_client, django_capture_on_commit_callbacks, b"")
    assert response.status_code == 400 and "空的" in response.content.decode()


def test_a_file_the_parser_cannot_read_fails_with_a_chinese_message(admin_client, django_capture_on_commit_callbacks):
    # given a .docx that is not a Word document
    response = upload(admin_client, django_capture_on_commit_callbacks, b"not a zip at all", name="坏文件.docx")
    # then the job recorded the parser's Chinese message, and nothing else was written
    plan_import = PlanImport.objects.get()
    assert plan_import.status == ImportStatus.FAILED and plan_import.error
    assert re.search(r"[\u4e00-\u9fff]", plan_import.error)
    status_page = admin_client.get(response["Location"])
    assert status_page.status_code == 200 and plan_import.error in status_page.content.decode()
    progress = admin_client.get(reverse("imports:progress", args=[plan_import.pk])).json()
    assert progress["status"] == "failed" and progress["error"] == plan_import.error and progress["next"] is None
    assert not Plan.objects.exists() and not Task.objects.exists()


def test_a_preview_of_a_failed_import_goes_back_to_its_status(admin_client, django_capture_on_commit_callbacks):
    upload(admin_client, django_capture_on_commit_callbacks, b"garbage", name="坏文件.docx")
    plan_import = PlanImport.objects.get()
    response = admin_client.get(preview_url(plan_import))
    assert response.status_code == 302 and response["Location"] == reverse("imports:status", args=[plan_import.pk])


def test_the_status_page_shows_progress_while_queued(admin_client, admin_user):
    # given an import the worker has not picked up yet
    plan_import = PlanImport.objects.create(
        file=SimpleUploadedFile("a.txt", b"x"),
        original_name="计划.txt",
        sha256="0" * 64,
        size=1,
        created_by=admin_user,
        progress=35,
        status=ImportStatus.PARSING,
    )
    page = admin_client.get(reverse("imports:status", args=[plan_import.pk]))
    body = page.content.decode()
    assert 'value="35"' in body and "解析中" in body and "js/job_status.js" in body
    assert admin_client.get(reverse("imports:progress", args=[plan_import.pk])).json() == {
        "status": "parsing",
        "status_label": "解析中",
        "percent": 35,
        "error": "",
        "next": None,
    }


# --- Upload -> preview -> edit -> map -> confirm ----------------------------------------


def test_the_whole_flow(admin_client, parsed, agencies):
    # given the upload was parsed by the job
    assert parsed.status == ImportStatus.PARSED and parsed.progress == 100
    assert parsed.original_name == "要点.txt" and parsed.size > 0 and len(parsed.sha256) == 64
    status = admin_client.get(reverse("imports:status", args=[parsed.pk]))
    assert status.status_code == 302 and status["Location"] == preview_url(parsed)
    assert admin_client.get(reverse("imports:progress", args=[parsed.pk])).json()["next"] == preview_url(parsed)

    # when the admin opens the preview
    page = admin_client.get(preview_url(parsed))
    body = page.content.decode()
    # then it shows the plan, the tasks and the owner mapping, the unknown owner highlighted
    assert page.status_code == 200
    assert "2026年测试市卫生健康工作要点" in body and "推进城市医疗集团建设" in body and "组建城市医疗集团" in body
    assert re.search(r'<tr class="unmatched" data-owner="市体育局">', body)
    assert re.search(r'<tr class="" data-owner="医政医管处">', body)
    assert f'<option value="{agencies["a"].pk}" selected data-search=' in body
    assert "还有 1 个名称没有对应单位" in body

    # when the admin confirms without mapping 市体育局
    mapping = full_mapping(agencies)
    del mapping["市体育局"]
    refused = admin_client.post(preview_url(parsed), preview_post(parsed, mapping))
    # then it is refused in Chinese and nothing is written
    assert refused.status_code == 400
    assert "责任单位“市体育局”尚未对应到单位" in refused.content.decode()
    assert not Plan.objects.exists()
    parsed.refresh_from_db()
    assert parsed.status == ImportStatus.PARSED

    # when the admin edits task 2: new heading, one more indicator
    edit_url = reverse("imports:task_edit", args=[parsed.pk, 1])
    form = admin_client.get(edit_url)
    assert form.status_code == 200 and "改善就医体验" in form.content.decode()
    edited = admin_client.post(
        edit_url,
        {
            "section": "1",
            "number": "2",
            "heading": "持续改善就医体验",
            "text": "持续改善就医体验。",
            "owners": "医政医管处、疾病预防控制处",
            "ms-TOTAL_FORMS": "1",
            "ms-INITIAL_FORMS": "0",
            "ms-0-due": "2026-05-31",
            "ms-0-text": "完成满意度调查",
            "ind-TOTAL_FORMS": "2",
            "ind-INITIAL_FORMS": "1",
            "ind-0-name": "二级以上公立医院预约诊疗率",
            "ind-0-comparator": ">=",
            "ind-0-target": "65",
            "ind-0-unit": "%",
            "ind-1-name": "门诊平均等候时间",
            "ind-1-comparator": "<=",
            "ind-1-target": "30",
            "ind-1-unit": "分钟",
        },
    )
    assert edited.status_code == 302 and edited["Location"].endswith("#task-1")

    # and maps every owner, choosing 疾病预防控制处 for 市医疗保障局 instead of the suggestion, and confirms
    mapping = full_mapping(agencies) | {"市医疗保障局": agencies["b"].pk}
    done = admin_client.post(preview_url(parsed), preview_post(parsed, mapping, activate="on"))

    # then the plan is written and the admin lands on it with a message
    plan = Plan.objects.get()
    assert done.status_code == 302 and done["Location"] == reverse("console:plan_detail", args=[plan.pk])
    assert plan.status == PlanStatus.ACTIVE and plan.issuer == agencies["commission"]
    assert plan.source_sha256 == parsed.sha256 and plan.source_file.name == parsed.file.name
    task1 = plan.tasks.get(number="1")
    assert [(o.agency, o.role) for o in task1.task_owners.order_by("order")] == [
        (agencies["a"], OwnerRole.LEAD),
        (agencies["b"], OwnerRole.CO_OWNER),
    ]
    task2 = plan.tasks.get(number="2")
    assert task2.heading == "持续改善就医体验"
    assert sorted(task2.indicators.values_list("name", flat=True)) == ["二级以上公立医院预约诊疗率", "门诊平均等候时间"]
    assert task2.milestones.get().text == "完成满意度调查"
    sports = Agency.objects.get(name="市体育局")
    assert TaskOwner.objects.get(task__number="4", agency=sports).role == OwnerRole.CO_OWNER
    parsed.refresh_from_db()
    assert parsed.status == ImportStatus.IMPORTED and parsed.plan == plan
    landing = admin_client.get(done["Location"])
    assert "已导入计划" in landing.content.decode()

    # and a second confirmation (a double click) writes nothing more
    again = admin_client.post(preview_url(parsed), preview_post(parsed, mapping))
    assert again.status_code == 302 and Plan.objects.count() == 1


def test_saving_the_mapping_keeps_it_for_later(admin_client, parsed, agencies):
    response = admin_client.post(
        preview_url(parsed),
        preview_post(parsed, full_mapping(agencies), action="save", title="2026年测试市卫生健康工作要点（修订）"),
    )
    assert response.status_code == 302
    parsed.refresh_from_db()
    assert parsed.owner_mapping["市体育局"] == "create"
    assert parsed.edited_document["plan"]["title"] == "2026年测试市卫生健康工作要点（修订）"
    assert parsed.document["plan"]["title"] == "2026年测试市卫生健康工作要点"  # the parse itself is kept
    body = admin_client.get(preview_url(parsed)).content.decode()
    assert "还有" not in body and "（修订）" in body
    assert not Plan.objects.exists()


def test_bad_plan_details_are_refused_in_chinese(admin_client, parsed, agencies):
    response = admin_client.post(
        preview_url(parsed), preview_post(parsed, full_mapping(agencies), year="二〇二六", title="")
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "年度应为四位数字" in body and "计划标题不能为空" in body
    assert not Plan.objects.exists()


def test_a_bad_task_edit_is_refused_and_nothing_is_saved(admin_client, parsed):
    edit_url = reverse("imports:task_edit", args=[parsed.pk, 0])
    response = admin_client.post(
        edit_url,
        {
            "section": "1",
            "number": "1",
            "heading": "",
            "owners": "医政医管处",
            "ms-TOTAL_FORMS": "0",
            "ms-INITIAL_FORMS": "0",
            "ind-TOTAL_FORMS": "1",
            "ind-INITIAL_FORMS": "0",
            "ind-0-name": "集团数",
            "ind-0-comparator": ">=",
            "ind-0-target": "三个",
        },
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "任务摘要不能为空" in body and "目标值应为数字" in body
    parsed.refresh_from_db()
    assert parsed.edited_document is None


def test_a_duplicate_number_blocks_confirmation(admin_client, parsed, agencies):
    # given the admin renumbers task 2 as 1 in the same section
    admin_client.post(
        reverse("imports:task_edit", args=[parsed.pk, 1]),
        {
            "section": "1",
            "number": "1",
            "heading": "改善就医体验",
            "owners": "医政医管处",
            "ms-TOTAL_FORMS": "0",
            "ms-INITIAL_FORMS": "0",
            "ind-TOTAL_FORMS": "0",
            "ind-INITIAL_FORMS": "0",
        },
    )
    # then the preview lists the problem and confirming writes nothing
    assert "序号重复" in admin_client.get(preview_url(parsed)).content.decode()
    response = admin_client.post(preview_url(parsed), preview_post(parsed, full_mapping(agencies)))
    assert response.status_code == 400 and "序号重复" in response.content.decode()
    assert not Plan.objects.exists()


def test_a_task_can_be_dropped_from_the_import(admin_client, parsed, agencies):
    admin_client.post(
        reverse("imports:task_edit", args=[parsed.pk, 3]),
        {
            "section": "2",
            "number": "4",
            "heading": "做好免疫规划",
            "owners": "",
            "delete": "on",
            "ms-TOTAL_FORMS": "0",
            "ms-INITIAL_FORMS": "0",
            "ind-TOTAL_FORMS": "0",
            "ind-INITIAL_FORMS": "0",
        },
    )
    mapping = {k: v for k, v in full_mapping(agencies).items() if k != "市体育局"}
    admin_client.post(preview_url(parsed), preview_post(parsed, mapping))
    assert sorted(Plan.objects.get().tasks.values_list("number", flat=True)) == ["1", "2", "3"]


# --- Same bytes, new versions -----------------------------------------------------------


def test_the_same_file_uploaded_again_is_recognised(admin_client, parsed, agencies, django_capture_on_commit_callbacks):
    admin_client.post(preview_url(parsed), preview_post(parsed, full_mapping(agencies)))
    plan = Plan.objects.get()
    # when
    response = upload(admin_client, django_capture_on_commit_callbacks)
    # then
    assert response.status_code == 302 and response["Location"] == reverse("console:plan_detail", args=[plan.pk])
    assert "未重复导入" in admin_client.get(response["Location"]).content.decode()
    assert PlanImport.objects.count() == 1 and Plan.objects.count() == 1 and Task.objects.count() == 4


def test_a_file_uploaded_again_before_confirmation_reopens_the_first_import(
    admin_client, parsed, django_capture_on_commit_callbacks
):
    response = upload(admin_client, django_capture_on_commit_callbacks, name="又一次.txt")
    assert response["Location"] == reverse("imports:status", args=[parsed.pk])
    assert PlanImport.objects.count() == 1


def test_a_new_version_shows_the_diff_and_keeps_progress(
    admin_client, parsed, agencies, staff_a, django_capture_on_commit_callbacks
):
    # given the plan imported and task 1 reported on
    admin_client.post(preview_url(parsed), preview_post(parsed, full_mapping(agencies), activate="on"))
    plan = Plan.objects.get()
    task1 = plan.tasks.get(number="1")
    ProgressUpdate.objects.create(task=task1, author=staff_a, status=TaskStatus.IN_PROGRESS, percent=30)
    # when a revised file is uploaded (task 2 reworded, one task added)
    revised = plan_text(1, change=("2.改善就医体验。", "2.持续改善就医体验。"))
    upload(admin_client, django_capture_on_commit_callbacks, revised, name="要点（修订）.txt")
    second = PlanImport.objects.latest("created_at")
    page = admin_client.get(preview_url(second)).content.decode()
    # then the preview shows the differences first
    assert "与已有计划的差异" in page and "确认更新计划" in page
    assert re.search(r"新增 <strong>1</strong>", page) and re.search(r"修改 <strong>1</strong>", page)
    assert "持续改善就医体验" in page
    # when confirmed
    mapping = full_mapping(agencies)
    response = admin_client.post(preview_url(second), preview_post(second, mapping))
    assert response.status_code == 302
    # then the same plan is updated and the progress on the unchanged task is kept
    assert Plan.objects.count() == 1
    task1.refresh_from_db()
    assert (task1.status, task1.percent) == (TaskStatus.IN_PROGRESS, 30)
    assert plan.tasks.get(number="2").heading == "持续改善就医体验"
    assert plan.tasks.count() == 5


def test_an_admin_can_name_the_plan_a_file_replaces(admin_client, agencies, plan, django_capture_on_commit_callbacks):
    # given a plan with another title, chosen as the one this file replaces
    upload(admin_client, django_capture_on_commit_callbacks, replaces=str(plan.pk))
    plan_import = PlanImport.objects.get()
    assert plan_import.replaces == plan
    page = admin_client.get(preview_url(plan_import)).content.decode()
    assert "与已有计划的差异" in page and plan.title in page
    assert re.search(r"新增 <strong>4</strong>", page)


# --- Bounded queries --------------------------------------------------------------------


@pytest.mark.parametrize("extra_tasks", [0, 60])
def test_the_pages_run_a_bounded_number_of_queries(
    admin_client, agencies, extra_tasks, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    upload(admin_client, django_capture_on_commit_callbacks, plan_text(extra_tasks))
    plan_import = PlanImport.objects.get()
    assert len(plan_import.document["tasks"]) == 4 + extra_tasks
    # (+8: the agency tree, 2 queries each, for the mapping table and the three pickers:
    # lead and co-owners of the selected tasks, the parent of the unmatched names)
    with django_assert_max_num_queries(20):
        assert admin_client.get(preview_url(plan_import)).status_code == 200
    # (+4: the agency tree of the lead and co-owner pickers)
    with django_assert_max_num_queries(12):
        assert admin_client.get(reverse("imports:task_edit", args=[plan_import.pk, 2])).status_code == 200
    # (progress and upload: +1 on every administrator's request, the second factor that
    # verified the session)
    with django_assert_max_num_queries(7):
        admin_client.get(reverse("imports:progress", args=[plan_import.pk]))
    with django_assert_max_num_queries(9):
        assert admin_client.get(reverse("imports:upload")).status_code == 200
    # (SQLite caps the parameters of one statement: 64 tasks of 18 columns, the baseline
    # and completion dates among them, go in two INSERTs, and so do their history rows)
    # (+2: what the page posted is saved on the import before the confirmation)
    with django_assert_max_num_queries(44):
        response = admin_client.post(preview_url(plan_import), preview_post(plan_import, full_mapping(agencies)))
    assert response.status_code == 302
    assert Task.objects.count() == 4 + extra_tasks


def test_the_preview_of_a_new_version_runs_a_bounded_number_of_queries(
    admin_client, parsed, agencies, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    admin_client.post(preview_url(parsed), preview_post(parsed, full_mapping(agencies)))
    upload(admin_client, django_capture_on_commit_callbacks, plan_text(40), name="修订.txt")
    second = PlanImport.objects.latest("created_at")
    with django_assert_max_num_queries(28):
        assert admin_client.get(preview_url(second)).status_code == 200


def test_the_progress_endpoint_is_json(admin_client, parsed):
    response = admin_client.get(reverse("imports:progress", args=[parsed.pk]))
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content)["status_label"] == "待确认"


def test_a_forged_mapping_value_is_refused_not_a_crash(admin_client, parsed, agencies):
    data = preview_post(parsed, full_mapping(agencies))
    data[mapping_field_name("医政医管处")] = "abc"
    response = admin_client.post(preview_url(parsed), data)
    assert response.status_code == 400 and "所选单位不存在" in response.content.decode()
    assert not Plan.objects.exists()


def test_a_saved_choice_of_a_deleted_agency_shows_as_unmapped(admin_client, parsed, agencies):
    gone = Agency.objects.create(name="临时单位")
    parsed.owner_mapping = {"市体育局": gone.pk}
    parsed.save()
    gone.delete()
    body = admin_client.get(preview_url(parsed)).content.decode()
    assert re.search(r'<tr class="unmatched" data-owner="市体育局">', body)


def test_the_status_page_runs_a_bounded_number_of_queries(admin_client, admin_user, django_assert_max_num_queries):
    plan_import = PlanImport.objects.create(
        file=SimpleUploadedFile("a.txt", b"x"),
        original_name="计划.txt",
        sha256="0" * 64,
        size=1,
        created_by=admin_user,
    )
    # session, user, the user's agency (top bar), the second factor that verified the
    # session, the import, the session's new expiry
    with django_assert_max_num_queries(8):
        assert admin_client.get(reverse("imports:status", args=[plan_import.pk])).status_code == 200


def test_saving_a_task_as_the_browser_posts_it_ignores_the_blank_rows(admin_client, parsed):
    # given the edit form, posted back exactly as rendered (blank extra rows included)
    edit_url = reverse("imports:task_edit", args=[parsed.pk, 0])
    body = admin_client.get(edit_url).content.decode()
    data = {}
    for name, value in re.findall(
        r'<input type="(?:text|number|date|hidden)" name="([^"]+)"(?: value="([^"]*)")?', body
    ):
        data[name] = value
    for name, value in re.findall(r'<input type="[a-z]+" name="([^"]+)"[^>]*? value="([^"]*)"', body):
        data.setdefault(name, value)
    for name, attrs, options in re.findall(r'<select name="([^"]+)"([^>]*)>(.*?)</select>', body, re.S):
        if " multiple" in attrs:
            continue  # nothing selected: a browser posts nothing
        # as a browser does: the selected option, else the first one
        selected = re.search(r'<option value="([^"]*)" selected>', options) or re.search(
            r'<option value="([^"]*)"', options
        )
        data[name] = selected.group(1)
    data = {name: html.unescape(value) for name, value in data.items()}
    data.pop("delete", None)
    data["heading"] = "推进城市医疗集团建设（修改）"
    # when
    response = admin_client.post(edit_url, data)
    # then
    assert response.status_code == 302, (data, re.findall(r"class=\"error\"[^>]*>([^<]*)<", response.content.decode()))
    parsed.refresh_from_db()
    task = parsed.edited_document["tasks"][0]
    assert task["heading"] == "推进城市医疗集团建设（修改）"
    assert len(task["milestones"]) == 1 and len(task["indicators"]) == 1
    assert task["indicators"][0]["target"] == 3


def test_an_admin_corrects_a_section_title_in_the_preview(admin_client, parsed, agencies):
    # given the preview offers every section title as a field
    body = admin_client.get(preview_url(parsed)).content.decode()
    sections = parsed.document["sections"]
    assert 'name="section-0"' in body and f'value="{sections[0]["title"]}"' in body
    # when the admin rewrites the first title and confirms
    data = preview_post(parsed, full_mapping(agencies))
    data["section-0"] = "深化医改（修订后的标题）"
    response = admin_client.post(preview_url(parsed), data)
    # then the plan carries the corrected title, and the other sections keep theirs
    assert response.status_code == 302
    plan = Plan.objects.get()
    assert plan.sections.get(label=sections[0]["path"][-1], parent=None).title == "深化医改（修订后的标题）"
    assert set(plan.sections.exclude(title="深化医改（修订后的标题）").values_list("title", flat=True)) == {
        s["title"] for s in sections[1:]
    }


def test_an_over_long_section_title_is_refused_in_chinese(admin_client, parsed, agencies):
    data = preview_post(parsed, full_mapping(agencies))
    data["section-0"] = "长" * 400
    response = admin_client.post(preview_url(parsed), data)
    assert response.status_code == 400
    assert "部分标题不能超过" in response.content.decode()
    assert not Plan.objects.exists()
