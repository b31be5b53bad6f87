"""Issue 19's walk-through: an admin imports a plan of 20 tasks naming 12 owners, gives the 8
unowned tasks an owner in one bulk step, maps the names nothing matched, has one
confirmation refused and finds every choice intact after a reload, confirms, activates the
plan on its console page (the check names the owner agency without staff), and the staff of
an owner agency find their tasks. The plan text is written here, in the published style."""

import re
from unittest import mock

import pytest
from playwright.sync_api import expect

from accounts.models import Agency
from core.roles import Role
from imports import jobs
from imports.models import PlanImport
from tasks.choices import OwnerRole
from tasks.models import Task, TaskOwner
from tests.fixtures.accounts import PASSWORD, make_user
from workplans.choices import PlanStatus
from workplans.models import Plan

pytestmark = pytest.mark.django_db(transaction=True)

# Eight owners written as the agencies are named, four that nothing matches.
MATCHED = [
    "医政医管处",
    "疾病预防控制处",
    "基层卫生健康处",
    "妇幼健康处",
    "老龄健康处",
    "职业健康处",
    "科技教育处",
    "财务处",
]
UNMATCHED = {  # as the plan writes it → the agency the clerk maps it to
    "甲子区卫生健康局": "中医药管理处",
    "乙丑区卫生健康局": "人事处",
    "丙寅区卫生健康局": "规划发展与信息化处",
    "丁卯区卫生健康局": "测试市医疗保障局",
}
UNSTAFFED = "老龄健康处"


def plan_text() -> str:
    owners = MATCHED + list(UNMATCHED)
    lines = [
        "测试市卫生健康委员会关于印发《2026年测试市卫生健康工作要点》的通知",
        "测卫发〔2026〕19号",
        "",
        "2026年测试市卫生健康工作要点",
        "",
        "一、提升医疗服务能力",
    ]
    for n in range(1, 21):
        if n == 8:
            lines.append("二、织牢公共卫生网底")
        if n == 15:
            lines.append("三、加强综合保障")
        owner = f"（{owners[n - 1]}）" if n <= len(owners) else ""
        lines.append(f"{n}.推进第{n}项重点工作。年内完成第{n}项工作任务。{owner}")
    lines += ["", "测试市卫生健康委员会", "2026年2月10日", ""]
    return "\n".join(lines)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def bureau(commission, agency_a, agency_b, outside_agency):
    """The owner agencies, each with a staff member but the one that has none yet."""
    agencies = {agency_a.name: agency_a, agency_b.name: agency_b, outside_agency.name: outside_agency}
    for name in [*MATCHED[2:], *list(UNMATCHED.values())[:3]]:
        agencies[name] = Agency.objects.create(name=name, parent=commission)
    staff = {}
    for number, (name, agency) in enumerate(agencies.items()):
        if name != UNSTAFFED:
            staff[name] = make_user(f"staff{number:02d}", Role.STAFF, agency)
    return agencies, staff


def test_an_admin_takes_a_plan_from_upload_to_the_staff_alone(
    page, browser, live_server, browser_login, admin_user, bureau
):
    agencies, staff = bureau
    browser_login(admin_user)

    # the admin uploads the plan and the parse job reads it
    page.goto("/plans/imports/new/")
    with mock.patch("imports.services.flow.queue_parse", autospec=True):
        page.get_by_label("计划文件").set_input_files(
            {"name": "2026年工作要点.txt", "mimeType": "text/plain", "buffer": plan_text().encode("utf-8")}
        )
        page.get_by_role("button", name="上传并解析").click()
        page.wait_for_url(re.compile(r"/plans/imports/\d+/$"))
    plan_import = PlanImport.objects.get()
    jobs.parse_plan_import(plan_import.pk)
    page.wait_for_url(re.compile(r"/plans/imports/\d+/preview/$"))
    assert len(PlanImport.objects.get().document["tasks"]) == 20

    # the eight matched names are suggested, the four others wait for a choice
    for name in MATCHED:
        expect(page.get_by_label(f"“{name}”对应的单位")).to_have_value(str(agencies[name].pk))
    for name in UNMATCHED:
        expect(page.get_by_label(f"“{name}”对应的单位")).to_have_value("")

    # one bulk step gives the 8 unowned tasks (13–20) their lead
    for index in range(12, 20):
        page.locator(f"#task-{index} input[name='bulk-tasks']").check()
    expect(page.locator("#bulk-count")).to_have_text("已选 8 项任务")
    page.locator("#id_bulk-lead").select_option(str(agencies["医政医管处"].pk))
    page.get_by_role("button", name="设置所选任务的责任单位").click()
    page.wait_for_url(re.compile(r"/preview/#tasks$"))
    expect(page.get_by_text(re.compile("已为8项任务设置责任单位"))).to_be_visible()

    # three of the four names are mapped (each saved as it is chosen) ...
    chosen = list(UNMATCHED.items())[:3]
    for name, agency_name in chosen:
        page.get_by_label(f"“{name}”对应的单位").select_option(str(agencies[agency_name].pk))
        page.locator("#autosave-status", has_text="已自动保存").wait_for()

    # ... and the confirmation is refused: a name still maps to nothing
    page.get_by_role("button", name="确认导入").first.click()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_text(re.compile("没有对应到任何单位的名称")).first).to_be_visible()
    assert not Plan.objects.exists()

    # a reload finds every choice intact: the three mappings and the eight bulk owners
    page.goto(f"/plans/imports/{plan_import.pk}/preview/")
    for name, agency_name in chosen:
        expect(page.get_by_label(f"“{name}”对应的单位")).to_have_value(str(agencies[agency_name].pk))
    for index in range(12, 20):
        expect(page.locator(f"#task-{index}")).to_contain_text("医政医管处")

    # the last name is mapped and the plan confirmed: the admin lands on its console page
    last, last_agency = list(UNMATCHED.items())[3]
    page.get_by_label(f"“{last}”对应的单位").select_option(str(agencies[last_agency].pk))
    page.locator("#autosave-status", has_text="已自动保存").wait_for()
    page.get_by_role("button", name="确认导入").first.click()
    page.wait_for_url(re.compile(r"/console/plans/\d+/$"))
    plan = Plan.objects.get()
    assert plan.status == PlanStatus.DRAFT and plan.tasks.count() == 20
    assert not Task.objects.filter(plan=plan, task_owners__isnull=True).exists()

    # the activation check names the owner agency nobody can report for, then the plan goes live
    page.goto(f"/console/plans/{plan.pk}/activate/")
    expect(page.get_by_test_id("unstaffed")).to_contain_text(UNSTAFFED)
    page.get_by_role("button", name="启用计划").click()
    expect(page.get_by_test_id("plan-status")).to_have_text("执行中")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.ACTIVE

    # every owner is where the clerk put it
    leads = dict(
        TaskOwner.objects.filter(task__plan=plan, role=OwnerRole.LEAD).values_list("task__number", "agency__name")
    )
    assert leads == {
        **{str(n): name for n, name in enumerate(MATCHED, start=1)},
        **{str(n): name for n, name in enumerate(UNMATCHED.values(), start=9)},
        **{str(n): "医政医管处" for n in range(13, 21)},
    }

    # and the staff of 医政医管处 find their nine tasks on 我的任务
    context = browser.new_context(locale="zh-CN", base_url=live_server.url)
    staff_page = context.new_page()
    staff_page.goto("/accounts/login/")
    staff_page.get_by_label("登录名").fill(staff["医政医管处"].username)
    staff_page.get_by_label("密码").fill(PASSWORD)
    staff_page.get_by_role("button", name="登录").click()
    staff_page.goto("/tasks/mine/")
    for n in (1, 13, 20):
        expect(staff_page.get_by_role("link", name=re.compile(f"推进第{n}项重点工作"))).to_be_visible()
    expect(staff_page.get_by_role("link", name=re.compile("推进第2项重点工作"))).to_have_count(0)
    context.close()
