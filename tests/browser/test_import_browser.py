"""An admin imports a Word plan through the pages: upload, wait, correct a mapping, confirm."""

import io
import re
from unittest import mock

import pytest
from docx import Document

from imports import jobs
from imports.models import PlanImport
from tasks.choices import OwnerRole
from tasks.models import Task, TaskOwner
from workplans.models import Plan

pytestmark = pytest.mark.django_db(transaction=True)

PARAGRAPHS = [
    "测试市卫生健康委员会关于印发《2026年测试市卫生健康工作要点》的通知",
    "测卫发〔2026〕12号",
    "2026年测试市卫生健康工作要点",
    "一、深化医药卫生体制改革",
    "1.推进紧密型医疗集团建设。年内组建4个紧密型医疗集团，9月底前完成集团章程制定。（医政医管处、市医疗保障局）",
    "2.推进公立医院高质量发展。三级公立医院平均住院日控制在8天以内。（医政医管处）",
    "二、强化公共卫生服务",
    "3.提升疾病监测预警能力。二季度末前建成传染病智慧化预警平台。（疾病预防控制处、市衛生健康委）",
    "测试市卫生健康委员会",
    "2026年3月2日",
]


def plan_docx() -> bytes:
    document = Document()
    for text in PARAGRAPHS:
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_an_admin_imports_a_word_plan_and_corrects_an_owner(
    page, browser_login, admin_user, commission, agency_a, agency_b, outside_agency
):
    # given an admin on the plan list
    browser_login(admin_user)
    page.goto("/plans/")
    page.get_by_role("link", name="导入计划").click()
    page.wait_for_url("**/plans/imports/new/")

    # when they upload the Word file (the worker is held back, so the status page waits)
    with mock.patch("imports.services.flow.queue_parse", autospec=True):
        page.get_by_label("计划文件").set_input_files(
            {
                "name": "2026年工作要点.docx",
                "mimeType": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "buffer": plan_docx(),
            }
        )
        page.get_by_role("button", name="上传并解析").click()
        page.wait_for_url(re.compile(r"/plans/imports/\d+/$"))
    assert page.get_by_text("排队中").is_visible()
    assert page.locator("#import-progress-bar").is_visible()

    # and the parse job runs: the page polling the progress notices and opens the preview
    jobs.parse_plan_import(PlanImport.objects.get().pk)
    page.wait_for_url(re.compile(r"/plans/imports/\d+/preview/$"))

    # then the preview shows the plan, its tasks, and the suggested owner mapping
    assert page.get_by_role("heading", name=re.compile("导入预览")).is_visible()
    assert page.get_by_text("推进紧密型医疗集团建设", exact=True).is_visible()
    select = page.get_by_label("“市医疗保障局”对应的单位")
    assert select.input_value() == str(outside_agency.pk)
    assert page.get_by_label("“市衛生健康委”对应的单位").input_value() == str(commission.pk)

    # when the admin corrects task 2's heading on its edit page
    page.locator("#task-1").get_by_role("link", name="修改").click()
    page.wait_for_url(re.compile(r"/plans/imports/\d+/tasks/1/$"))
    page.get_by_label("任务摘要").fill("推进公立医院高质量发展（修订）")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(re.compile(r"/plans/imports/\d+/preview/#task-1$"))
    assert page.get_by_text("推进公立医院高质量发展（修订）", exact=True).is_visible()
    select = page.get_by_label("“市医疗保障局”对应的单位")

    # and corrects that mapping to another agency, and confirms
    select.select_option(label="疾病预防控制处")
    page.get_by_label(re.compile("确认后立即启用")).check()
    page.get_by_role("button", name="确认导入").first.click()

    # then they land on the new plan with a success message
    page.wait_for_url(re.compile(r"/console/plans/\d+/$"))
    assert page.get_by_text(re.compile("已导入计划“2026年测试市卫生健康工作要点”")).is_visible()

    # and the Django admin's task list shows the imported tasks
    page.goto("/admin/tasks/task/")
    for heading in ["推进紧密型医疗集团建设", "推进公立医院高质量发展（修订）", "提升疾病监测预警能力"]:
        assert page.get_by_role("link", name=re.compile(re.escape(heading))).is_visible()

    # and in the database the corrected agency is task 1's co-owner, the suggestion is not
    plan = Plan.objects.get()
    task1 = Task.objects.get(plan=plan, number="1")
    owners = list(TaskOwner.objects.filter(task=task1).order_by("order").values_list("agency_id", "role"))
    assert owners == [(agency_a.pk, OwnerRole.LEAD), (agency_b.pk, OwnerRole.CO_OWNER)]
    assert not TaskOwner.objects.filter(agency=outside_agency).exists()
    assert plan.doc_number == "测卫发〔2026〕12号" and plan.status == "active"
    assert Task.objects.get(plan=plan, number="2").indicators.get().comparator == "<="
