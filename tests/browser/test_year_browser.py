"""The year's end in the browser: the admin previews the rollover, keeps one task in place
as 长期推进, carries the others into a new plan of next year, closes the year, and links
the plan's tasks to a higher plan; the pages fit a phone's width."""

import os

import pytest
from playwright.sync_api import expect

from tasks.choices import TaskStatus
from tests.conftest import make_task
from workplans.choices import PlanStatus
from workplans.models import Plan

pytestmark = pytest.mark.django_db(transaction=True)
SHOTS = os.environ.get("SCREENSHOT_DIR")


def shoot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def fits_the_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_the_admin_carries_the_year_over_closes_it_and_aligns_the_next(
    page, browser_login, admin_user, plan, section, agency_a, agency_b
):
    make_task(
        plan, section, "1", lead=agency_a, heading="推进紧密型医联体建设", status=TaskStatus.IN_PROGRESS, percent=40
    )
    kept = make_task(plan, section, "2", lead=agency_b, heading="建设区域影像中心")
    make_task(plan, section, "3", lead=agency_a, heading="开展健康宣传", status=TaskStatus.CLOSED, percent=100)
    higher = Plan.objects.create(title="2027年全省卫生健康工作要点", year=2027, status=PlanStatus.ACTIVE)
    make_task(higher, None, "1", heading="全省推进医联体建设")
    make_task(higher, None, "2", heading="全省推进智慧医疗")
    browser_login(admin_user)

    # The rollover: one task kept in place, the preview recounted, then confirmed.
    page.goto(f"/console/plans/{plan.pk}/rollover/")
    expect(page.get_by_test_id("rollover-row")).to_have_count(2)
    page.locator(f'select[name="choice_{kept.pk}"]').select_option("long_term")
    page.get_by_label("新建 2027 年度计划").check()  # not the province's plan of 2027
    page.get_by_role("button", name="按所选方式重新统计").click()
    expect(page.get_by_test_id("total-long_term")).to_have_text("1")
    shoot(page, "rollover-desktop")
    page.get_by_role("button", name="确认结转").click()
    expect(page.locator(".messages")).to_contain_text("已结转 1 项任务")
    expect(page.get_by_test_id("already-carried")).to_have_count(1)
    page.set_viewport_size({"width": 390, "height": 844})
    assert fits_the_width(page)
    shoot(page, "rollover-phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    # Closing the year.
    page.goto(f"/console/plans/{plan.pk}/close/")
    expect(page.get_by_test_id("unfinished")).to_have_text("2")
    shoot(page, "close-desktop")
    page.get_by_label("我已核对以上情况").check()
    page.get_by_role("button", name="关闭本年度").click()
    expect(page.get_by_test_id("closed")).to_be_visible()

    # The new plan serves the province's.
    following = Plan.objects.get(year=2027, status=PlanStatus.DRAFT)
    page.goto(f"/console/plans/{following.pk}/alignment/")
    page.get_by_label("上级计划").select_option(str(higher.pk))
    page.get_by_role("button", name="保存上级计划").click()
    expect(page.get_by_test_id("coverage")).to_contain_text("覆盖率 0%")
    page.get_by_role("checkbox").first.check()
    page.locator("#bulk-target").select_option(label="1. 全省推进医联体建设")
    page.get_by_role("button", name="批量对应").click()
    expect(page.get_by_test_id("coverage")).to_contain_text("覆盖率 50%")
    expect(page.get_by_test_id("uncovered")).to_contain_text("全省推进智慧医疗")
    shoot(page, "alignment-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    assert fits_the_width(page)
    shoot(page, "alignment-phone")
