"""On a 390 px phone (issue 19, everyday friction): 我的任务, the task page and the leader's
dashboard need no sideways scrolling and keep the header to one line, the menu folded behind
a button that works from the keyboard (and without JS the menu simply shows); the task text
comes before the form, the saved message takes the focus, and the dashboard is its key
figures with the tables behind tabs."""

import datetime
import os
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.conftest import make_task

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= 390"
TASK = "推进紧密型县域医共体建设"


@pytest.fixture
def shots(tmp_path):
    """Where the screenshots go: SCREENSHOT_DIR when set (to look at by hand), else the test's tmp."""
    folder = os.environ.get("SCREENSHOT_DIR") or str(tmp_path)
    os.makedirs(folder, exist_ok=True)

    def shot(page, name):
        page.screenshot(path=os.path.join(folder, f"phone-{name}.png"), full_page=True)

    return shot


@pytest.fixture
def workload(plan, section, agency_a, agency_b):
    today = timezone.localdate()
    task = make_task(
        plan,
        section,
        "1",
        lead=agency_a,
        co_owners=[agency_b],
        heading=TASK,
        text="以县域为单位推进紧密型医共体建设，年底前实现全市县域全覆盖，统一管理、统一药品目录。",
        due_on=today + datetime.timedelta(days=40),
    )
    from tasks.models import Milestone

    Milestone.objects.create(task=task, due_on=today - datetime.timedelta(days=5), text="印发实施方案")
    for n in range(2, 6):
        make_task(plan, section, str(n), lead=agency_b, co_owners=[agency_a], due_on=today + datetime.timedelta(days=n))
    return task


def header_is_one_line(page):
    header = page.locator("header.topbar").bounding_box()
    brand = page.locator("header.topbar .brand").bounding_box()
    toggle = page.locator(".menu-toggle").bounding_box()
    assert header is not None and brand is not None and toggle is not None
    # the brand and the menu button share one row, and the header is about one line high
    assert abs((brand["y"] + brand["height"] / 2) - (toggle["y"] + toggle["height"] / 2)) < 8
    assert header["height"] <= 56, header
    assert brand["x"] + brand["width"] <= toggle["x"] + 1


def test_my_tasks_on_a_phone(page, browser_login, workload, staff_a, shots):
    page.set_viewport_size(PHONE)
    browser_login(staff_a)
    expect(page.get_by_role("heading", name="我的任务")).to_be_visible()

    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    header_is_one_line(page)
    toggle = page.get_by_role("button", name="菜单")
    nav = page.locator("nav.mainnav")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(nav).to_be_hidden()
    card = page.locator("table.task-list tbody tr", has_text=TASK)
    expect(card.get_by_test_id("milestone-overdue")).to_have_text("已逾期")
    shots(page, "my-tasks")

    # the menu opens and closes from the keyboard
    toggle.focus()
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(nav.get_by_role("link", name="我的任务")).to_be_visible()
    shots(page, "my-tasks-menu")
    page.keyboard.press("Escape")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(nav).to_be_hidden()
    assert page.evaluate("document.activeElement.classList.contains('menu-toggle')")

    # wide, the menu shows without the button
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(toggle).to_be_hidden()
    expect(nav.get_by_role("link", name="我的任务")).to_be_visible()
    shots(page, "my-tasks-desktop")


def test_the_task_page_on_a_phone(page, browser_login, workload, staff_a, shots):
    page.set_viewport_size(PHONE)
    browser_login(staff_a)
    page.goto(f"/tasks/{workload.pk}/")

    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    header_is_one_line(page)
    text = page.locator("#task-text").bounding_box()
    form = page.locator(".task-primary form").first.bounding_box()
    assert text is not None and form is not None and text["y"] < form["y"]
    expect(page.locator("#milestones li:has-text('印发实施方案') [data-testid=milestone-overdue]")).to_be_visible()
    shots(page, "task")

    # when they submit this cycle's report from the phone
    page.get_by_label("完成百分比").fill("30")
    page.get_by_label("本期进展").fill("已完成两个县的医共体章程审议。")
    page.get_by_label("存在问题").fill("个别县编制调整未到位。")
    page.get_by_label("下步计划").fill("下月完成其余县章程审议。")
    page.get_by_role("button", name="提交", exact=True).click()

    # then the saved message is where their eyes are: focused, and in view
    message = page.locator("#task-message")
    expect(message).to_contain_text("本期报送已提交。")
    expect(message).to_be_focused()
    expect(message).to_be_in_viewport()
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    shots(page, "task-saved")


def test_the_dashboard_on_a_phone(page, browser_login, workload, leader, agency_a, shots):
    page.set_viewport_size(PHONE)
    browser_login(leader)
    expect(page.get_by_role("heading", name="督办总览")).to_be_visible()

    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    header_is_one_line(page)
    tabs = page.get_by_role("tablist", name="督办总览的各部分")
    expect(tabs).to_be_visible()
    # the key figures first; one part at a time below them
    expect(page.locator(".tiles")).to_be_visible()
    expect(page.locator("#by-agency")).to_be_hidden()
    shots(page, "dashboard")

    tabs.get_by_role("tab", name="按单位").click()
    expect(page.locator("#by-agency")).to_be_visible()
    expect(page.locator("#by-agency tbody tr", has_text=agency_a.name)).to_be_visible()
    expect(page.locator("#charts")).to_be_hidden()
    expect(page.get_by_test_id("shared-task-footnote")).to_be_visible()
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    shots(page, "dashboard-by-agency")

    # the arrow keys move between tabs
    page.keyboard.press("ArrowRight")
    expect(tabs.get_by_role("tab", name="按计划")).to_be_focused()
    expect(tabs.get_by_role("tab", name="按计划")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#by-plan")).to_be_visible()

    # wide, every part shows and the tabs go
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(tabs).to_have_count(0)
    for part in ("#charts", "#reporting", "#by-agency", "#by-plan", "#indicators"):
        expect(page.locator(part)).to_be_visible()


def test_without_javascript_the_menu_and_every_part_show(browser, live_server, workload, leader):
    from tests.fixtures.accounts import PASSWORD

    context = browser.new_context(locale="zh-CN", base_url=live_server.url, java_script_enabled=False, viewport=PHONE)
    page = context.new_page()
    try:
        page.goto("/accounts/login/")
        page.get_by_label("登录名").fill(leader.username)
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.goto("/dashboard/")
        expect(page.locator(".menu-toggle")).to_be_hidden()
        expect(page.locator("nav.mainnav").get_by_role("link", name="督办总览")).to_be_visible()
        expect(page.locator("#by-agency")).to_be_visible()
        expect(page.get_by_role("tablist")).to_have_count(0)
        assert re.search(r"/dashboard/", page.url)
    finally:
        context.close()


def test_the_leader_list_with_its_owner_columns(page, browser_login, workload, leader, shots):
    page.set_viewport_size(PHONE)
    browser_login(leader)
    page.goto("/tasks/mine/")

    card = page.locator("table.task-list tbody tr", has_text=TASK)
    expect(card.locator("td.owner-lead")).to_have_text("医政医管处")
    expect(card.locator("td.owner-co")).to_have_text("疾病预防控制处")
    expect(card.locator("td.own-role")).to_have_text("—")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    header_is_one_line(page)
    shots(page, "leader-list")
    page.set_viewport_size({"width": 1280, "height": 800})
    shots(page, "leader-list-desktop")
