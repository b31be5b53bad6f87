"""The admin's plan page in the browser: the activation check finds the tasks nobody leads,
"select them all" ticks them on the plan page, one bulk step gives them an owner, and the
plan is activated; the pages fit a phone's width."""

import os

import pytest
from playwright.sync_api import expect

from tests.conftest import make_task
from workplans.choices import PlanStatus
from workplans.models import Plan, Section

pytestmark = pytest.mark.django_db(transaction=True)
SHOTS = os.environ.get("SCREENSHOT_DIR")


def shoot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def fits_the_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_the_admin_gives_the_unowned_tasks_an_owner_and_activates_the_plan(
    page, browser_login, admin_user, commission, agency_a, agency_b, staff_a
):
    plan = Plan.objects.create(
        title="2026年测试市卫生健康工作要点", year=2026, issuer=commission, status=PlanStatus.DRAFT
    )
    first = Section.objects.create(plan=plan, label="一", title="提升医疗服务能力", order=0)
    second = Section.objects.create(plan=plan, label="二", title="织牢公共卫生网底", order=1)
    make_task(plan, first, "1", lead=agency_a, co_owners=[agency_b], heading="推进城市医疗集团建设", order=0)
    make_task(plan, first, "2", heading="改善就医体验", order=1)
    make_task(plan, second, "3", heading="完善传染病监测预警", order=2)
    make_task(plan, second, "4", heading="总体要求", reporting_exempt=True, order=3)
    browser_login(admin_user)

    page.goto(f"/console/plans/{plan.pk}/activate/")
    expect(page.get_by_test_id("unowned").locator("li")).to_have_count(2)
    shoot(page, "plan-activate-desktop")
    expect(page.get_by_role("button", name="启用计划")).to_be_disabled()
    page.get_by_role("link", name="全部选中，去批量设置").click()

    expect(page.locator('input[name="tasks"]:checked')).to_have_count(2)
    page.get_by_label("牵头单位", exact=True).select_option(str(agency_a.pk))
    shoot(page, "plan-detail-desktop")
    page.get_by_role("button", name="设置责任单位").click()
    expect(page.locator(".messages")).to_contain_text("已处理 2 项任务")
    expect(page.locator("tr.unowned")).to_have_count(0)

    page.set_viewport_size({"width": 390, "height": 844})
    assert fits_the_width(page)
    shoot(page, "plan-detail-phone")

    page.get_by_role("link", name="完善传染病监测预警").click()
    expect(page.get_by_label("任务摘要")).to_have_value("完善传染病监测预警")
    assert fits_the_width(page)
    shoot(page, "plan-task-phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.goto(f"/console/plans/{plan.pk}/activate/")
    expect(page.get_by_test_id("unstaffed")).to_contain_text("疾病预防控制处")
    page.get_by_role("button", name="启用计划").click()
    expect(page.get_by_test_id("plan-status")).to_have_text("执行中")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.ACTIVE
