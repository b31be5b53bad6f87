"""The people in the browser: the admin reads the agency tree (with its staffing warning),
imports two users from a sheet and hands out their initial passwords, and a new user is
made to choose their own password at the first sign-in; the pages fit a phone's width."""

import io
import os

import openpyxl
import pytest
from playwright.sync_api import expect

from tests.conftest import make_task

pytestmark = pytest.mark.django_db(transaction=True)
SHOTS = os.environ.get("SCREENSHOT_DIR")


def shoot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def fits_the_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def sheet(tmp_path):
    workbook = openpyxl.Workbook()
    rows = workbook.active
    rows.append(["登录名", "姓名", "单位", "角色", "手机号", "邮箱", "单位审核人"])
    rows.append(["zhaoliu", "赵六", "疾病预防控制处", "经办人", "13800138000", "", "否"])
    rows.append(["sunqi", "孙七", "不存在的处", "经办人", "", "", ""])
    path = tmp_path / "users.xlsx"
    out = io.BytesIO()
    workbook.save(out)
    path.write_bytes(out.getvalue())
    return path


def test_the_admin_keeps_the_tree_imports_users_and_a_new_user_sets_a_password(
    page, browser_login, tmp_path, admin_user, plan, section, agency_a, agency_b, staff_a
):
    make_task(plan, section, "1", lead=agency_a, co_owners=[agency_b])
    browser_login(admin_user)

    # The tree: B owns a task of the active plan and has nobody to report it.
    page.goto("/console/agencies/")
    expect(page.locator(".banner.warn")).to_contain_text("疾病预防控制处")
    shoot(page, "agencies-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    assert fits_the_width(page)
    shoot(page, "agencies-phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    # The import: one good row, one bad, the good one created.
    page.goto("/console/users/import/")
    page.get_by_label("用户表").set_input_files(str(sheet(tmp_path)))
    page.get_by_role("button", name="上传并预览").click()
    expect(page.locator("tr.bad")).to_contain_text("找不到单位“不存在的处”")
    shoot(page, "user-import-preview")
    page.get_by_role("button", name="确认创建 1 个账户").click()
    password = page.locator("td code").inner_text()
    with page.expect_download() as download:
        page.get_by_role("button", name="下载账号和初始密码（.xlsx）").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    page.set_viewport_size({"width": 390, "height": 844})
    assert fits_the_width(page)
    shoot(page, "user-import-done-phone")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("button", name="退出").click()

    # The new user signs in and is made to choose their own password first.
    page.goto("/accounts/login/")
    page.get_by_label("登录名").fill("zhaoliu")
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/accounts/password/**")
    page.get_by_label("原密码").fill(password)
    page.get_by_label("新密码", exact=True).fill("Ny8#vB3$pQw6")
    page.get_by_label("再次输入新密码").fill("Ny8#vB3$pQw6")
    shoot(page, "password-change")
    page.get_by_role("button", name="修改密码").click()
    expect(page.locator(".messages")).to_contain_text("密码已修改")
    page.goto("/accounts/profile/")
    expect(page.locator("h1")).to_have_text("个人信息")
    page.set_viewport_size({"width": 390, "height": 844})
    assert fits_the_width(page)
    shoot(page, "profile-phone")
