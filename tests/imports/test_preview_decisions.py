"""No silent gaps: the confirmation lists tasks without owners, indicators without names,
sections and tasks that swallowed numbered items and names mapped to nothing, and asks a
decision on each class present."""

import pytest

from imports.choices import ImportStatus
from imports.services import numbered_items
from tests.imports import test_pages as pages
from tests.imports.preview_helpers import form_data, many_owner_text, parse, preview_url
from tests.imports.test_pages import full_mapping
from workplans.models import Plan

admin_client, agencies, parsed, media = pages.admin_client, pages.agencies, pages.parsed, pages.media


# --- The rule for numbered items inside one text (no database) --------------------------


@pytest.mark.parametrize(
    "text",
    [
        "推进医联体建设。1.组建城市医疗集团；2.完善县域医共体。",
        "推进医联体建设：\n1、组建城市医疗集团\n2、完善县域医共体",
        "重点做好：（一）组建城市医疗集团；（二）完善县域医共体。",
        "重点做好：(1)组建集团 (2)完善医共体",
        "一、组建城市医疗集团。二、完善县域医共体。",
        "①组建城市医疗集团②完善县域医共体",
        "……第十项。十一、另一件事。十二、再一件事。",
    ],
)
def test_numbered_items_inside_a_text_are_found(text):
    assert len(numbered_items(text)) >= 2


@pytest.mark.parametrize(
    "text",
    [
        "二级以上公立医院预约诊疗率达到60%以上。",
        "人均预期寿命提高0.5岁，达到81.5岁。",
        "落实《条例》第（一）项的要求。",  # one marker alone cites, it does not list
        "在1、2月份完成摸底，3.5万人次参加。",
        "统一、规范、高效的监测体系。",
        "完成第1季度、第2季度的考核。",
        "1.推进城市医疗集团建设。3.完善医共体。",  # no two numbers that follow each other
        "",
    ],
)
def test_ordinary_texts_are_not_taken_for_lists(text):
    assert numbered_items(text) == []


# --- The confirmation --------------------------------------------------------------------


def confirm(client, plan_import, decisions=None, mapping=None, **meta):
    return client.post(preview_url(plan_import), form_data(mapping, decisions=decisions, action="confirm", **meta))


@pytest.mark.django_db
def test_a_missing_decision_is_refused_naming_the_class(admin_client, agencies, django_capture_on_commit_callbacks):
    plan_import = parse(admin_client, django_capture_on_commit_callbacks, many_owner_text([], ownerless=2))
    page = admin_client.get(preview_url(plan_import)).content.decode()
    assert "没有责任单位的任务（2）" in page and 'name="decision-ownerless"' in page
    # when confirmed without a decision
    response = confirm(admin_client, plan_import, mapping=full_mapping(agencies))
    # then refused, naming the class, and nothing is written
    assert response.status_code == 400
    assert "请对“没有责任单位的任务”（2处）作出决定" in response.content.decode()
    assert not Plan.objects.exists()
    plan_import.refresh_from_db()
    assert plan_import.status == ImportStatus.PARSED


@pytest.mark.django_db
@pytest.mark.parametrize("decision, exempt", [("exempt", True), ("later", False)])
def test_tasks_without_owners_are_imported_as_decided(
    admin_client, agencies, django_capture_on_commit_callbacks, decision, exempt
):
    plan_import = parse(admin_client, django_capture_on_commit_callbacks, many_owner_text([], ownerless=2))
    response = confirm(admin_client, plan_import, {"ownerless": decision}, mapping=full_mapping(agencies))
    assert response.status_code == 302, response.content.decode()[:3000]
    plan = Plan.objects.get()
    ownerless = plan.tasks.filter(task_owners__isnull=True)
    assert ownerless.count() == 2
    assert all(task.reporting_exempt is exempt for task in ownerless)
    assert not plan.tasks.filter(task_owners__isnull=False, reporting_exempt=True).exists()
    plan_import.refresh_from_db()
    assert plan_import.decisions["ownerless"] == decision


@pytest.mark.django_db
def test_unnamed_indicators_are_dropped_when_so_decided(admin_client, parsed, agencies):
    # given the parse left an indicator of task 1 without a name
    document = parsed.document
    document["tasks"][0]["indicators"].append({"name": "", "comparator": ">=", "target": 6, "unit": "个"})
    parsed.edited_document = document
    parsed.save()
    page = admin_client.get(preview_url(parsed)).content.decode()
    assert "没有名称的量化指标（1）" in page
    refused = confirm(admin_client, parsed, mapping=full_mapping(agencies))
    assert refused.status_code == 400 and "请对“没有名称的量化指标”（1处）作出决定" in refused.content.decode()
    # when the admin decides to drop it
    response = confirm(admin_client, parsed, {"unnamed_indicators": "drop"}, mapping=full_mapping(agencies))
    # then the plan has the named indicators only
    assert response.status_code == 302, response.content.decode()[:3000]
    task = Plan.objects.get().tasks.get(number="1")
    assert task.indicators.count() == 1 and task.indicators.get().name


@pytest.mark.django_db
def test_a_task_that_swallowed_numbered_items_needs_a_look(admin_client, parsed, agencies):
    document = parsed.document
    document["tasks"][1]["text"] = "改善就医体验：（一）推行预约诊疗；（二）优化就诊流程；（三）推广床旁结算。"
    parsed.edited_document = document
    parsed.save()
    page = admin_client.get(preview_url(parsed)).content.decode()
    assert "含有多个编号事项的部分或任务" in page and "（一） （二） （三）" in page
    assert confirm(admin_client, parsed, mapping=full_mapping(agencies)).status_code == 400
    response = confirm(admin_client, parsed, {"swallowed": "keep"}, mapping=full_mapping(agencies))
    assert response.status_code == 302
    assert Plan.objects.get().tasks.count() == 4


@pytest.mark.django_db
def test_names_mapped_to_nothing_are_left_out_when_so_decided(admin_client, parsed, agencies):
    # given 市体育局 left at “— 请选择 —” and 市医疗保障局 left out on purpose
    mapping = full_mapping(agencies) | {"市体育局": "", "市医疗保障局": "skip"}
    refused = confirm(admin_client, parsed, mapping=mapping)
    body = refused.content.decode()
    assert refused.status_code == 400 and "请对“没有对应到任何单位的名称”（2处）作出决定" in body
    assert "市体育局（1项任务）" in body
    # when decided: both left out, the tasks keep their other owners
    response = confirm(admin_client, parsed, {"unmapped": "skip"}, mapping=mapping)
    assert response.status_code == 302, response.content.decode()[:3000]
    plan = Plan.objects.get()
    assert list(plan.tasks.get(number="4").owners.values_list("pk", flat=True)) == [agencies["b"].pk]
    assert list(plan.tasks.get(number="1").owners.values_list("pk", flat=True)) == [agencies["a"].pk]


@pytest.mark.django_db
def test_a_forged_decision_is_refused_in_chinese(admin_client, parsed, agencies):
    response = confirm(admin_client, parsed, {"ownerless": "<b>delete everything</b>"}, mapping=full_mapping(agencies))
    assert response.status_code == 400 and "请选择列出的处理方式" in response.content.decode()
    assert not Plan.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("decision, activated", [("exempt", True), ("later", False)])
def test_activating_on_confirmation_asks_what_the_activation_check_asks(
    admin_client, agencies, django_capture_on_commit_callbacks, decision, activated
):
    # given two tasks without owners, and the admin asking to activate on confirmation
    plan_import = parse(admin_client, django_capture_on_commit_callbacks, many_owner_text([], ownerless=2))
    response = confirm(
        admin_client, plan_import, {"ownerless": decision}, mapping=full_mapping(agencies), activate="on"
    )
    if activated:
        # marked 无需填报, nobody owes them a report: the plan goes live
        assert response.status_code == 302
        assert Plan.objects.get().status == "active"
    else:
        # left for owners later: nobody would report them, so nothing is imported yet
        assert response.status_code == 400
        assert "有 2 项任务没有牵头单位，不能在导入时直接启用" in response.content.decode()
        assert not Plan.objects.exists()
        plan_import.refresh_from_db()
        assert plan_import.status == ImportStatus.PARSED and plan_import.decisions["ownerless"] == "later"
