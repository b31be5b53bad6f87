"""A person logs in with a browser and lands on the page for their role."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_staff_log_in_and_see_their_tasks(page, browser_login, staff_a, task):
    # when
    browser_login(staff_a)
    # then
    assert page.url.endswith("/tasks/mine/")
    assert page.get_by_role("heading", name="我的任务").is_visible()
    assert page.get_by_text(task.heading).is_visible()
    assert page.locator("html").get_attribute("lang") == "zh-hans"


def test_a_wrong_password_shows_a_chinese_error(page, browser_login, staff_a):
    browser_login(staff_a, password="wrong-Password-1")
    assert page.get_by_role("alert").inner_text().startswith("登录名或密码不正确")


def test_a_leader_logs_in_and_out(page, browser_login, leader):
    browser_login(leader)
    assert page.get_by_role("heading", name="督办总览").is_visible()
    page.get_by_role("button", name="退出").click()
    page.wait_for_url("**/accounts/login/")
    page.goto("/dashboard/")
    assert "/accounts/login/" in page.url
