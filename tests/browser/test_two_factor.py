"""An administrator enrols an authenticator in the browser (the test plays the phone: it
reads the key off the page and computes the code with pyotp), signs in with it, and gets
nowhere with the password alone."""

import pyotp
import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from tests.browser.conftest import browser_second_step
from tests.fixtures.accounts import totp_code

pytestmark = [pytest.mark.system, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VERIFY = "/accounts/two-factor/verify/"


def sign_out(page):
    page.get_by_role("button", name="退出").click()
    page.wait_for_url("**/accounts/login/")


def test_an_administrator_enrols_then_signs_in_with_the_code_and_not_without(page, browser_login, admin_user):
    # given: the system admin's first sign-in, password only
    browser_login(admin_user, second_factor=False)
    assert "/accounts/two-factor/enrol/" in page.url
    expect(page.get_by_role("heading", name="启用两步验证")).to_be_visible()
    qr = page.get_by_role("img", name="绑定验证器的二维码")
    expect(qr).to_be_visible()
    assert page.evaluate("(img) => img.naturalWidth", qr.element_handle()) > 0  # drawn here, no outside service

    # when: the phone scans the key and the first code is typed
    key = page.locator("code.secret").inner_text().replace(" ", "")
    page.get_by_label("验证码").fill(pyotp.TOTP(key).now())
    page.get_by_role("button", name="完成绑定").click()

    # then: ten recovery codes, shown once, and then the admin's own page
    expect(page.get_by_role("heading", name="保存恢复码")).to_be_visible()
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    page.get_by_role("link", name="我已保存，继续").click()
    page.wait_for_url("**/plans/")
    device = TOTPDevice.objects.get(user=admin_user, confirmed=True)

    # when: signing in again with the password alone
    sign_out(page)
    browser_login(admin_user, second_factor=False)
    # then: the second step, and no page, admin or API is reached without the code
    assert VERIFY in page.url
    for path in ("/plans/", "/admin/", "/dashboard/"):
        page.goto(path)
        assert VERIFY in page.url, path
    api = page.request.get("/api/v1/tasks/")
    assert api.status == 403 and "两步验证" in api.json()["detail"]
    # and a wrong code is refused
    wrong = "000000" if totp_code(device) != "000000" else "111111"
    page.get_by_label("验证码").fill(wrong)
    page.get_by_role("button", name="验证并登录").click()
    expect(page.get_by_role("alert")).to_contain_text("验证码不正确")
    assert VERIFY in page.url

    # when: the right code, once the wait after a wrong one (one second) is over
    page.wait_for_timeout(1200)
    browser_second_step(page, device)

    # then: in, on the page asked for
    assert page.url.endswith("/dashboard/")
    page.goto("/plans/")
    expect(page.get_by_role("heading", name="工作计划")).to_be_visible()
