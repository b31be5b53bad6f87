"""Playwright driving Debian's /usr/bin/chromium, headless, against the live test server.

Without Chromium the browser tests skip, except where REQUIRE_BROWSER=1 (CI), where its
absence is a failure. Every request the page makes outside 127.0.0.1/localhost is
recorded, and a test fails if there is one: the site must work with no internet.
"""

import os
from urllib.parse import urlparse

import pytest

from accounts.two_factor.services import required_for
from tests.conftest import PASSWORD, chromium_available
from tests.fixtures.accounts import give_authenticator, totp_code

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def browser_second_step(page, device):
    """On the second step of a sign-in, type the code the authenticator shows now."""
    page.get_by_label("验证码").fill(totp_code(device))
    page.get_by_role("button", name="验证并登录").click()
    page.wait_for_load_state("networkidle")


# tryfirst: before tests/conftest.py's hook, which marks every browser test `system`.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="package")
def browser():
    if not chromium_available():
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {CHROMIUM} is missing (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread; the ORM calls the
    # tests make around it are still synchronous and safe. Only while browser tests run.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(locale="zh-CN", base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15000)
    outside = []

    def watch(request):
        host = urlparse(request.url).hostname
        if host and host not in LOCAL_HOSTS:
            outside.append(request.url)

    page.on("request", watch)
    yield page
    context.close()
    assert outside == [], f"requests left 127.0.0.1: {outside}"


@pytest.fixture
def browser_login(page):
    """Log in through the login page as a person would; one of the three administrators
    (or anyone, with OTP_REQUIRED_FOR_ALL) then types the code their authenticator app
    shows (computed with pyotp) on the second step, unless `second_factor=False`."""

    def do_login(user, password=PASSWORD, second_factor=True):
        owes_code = second_factor and required_for(user)
        if owes_code:
            device = give_authenticator(user)
        page.goto("/accounts/login/")
        page.get_by_label("登录名").fill(user.username)
        page.get_by_label("密码").fill(password)
        page.get_by_role("button", name="登录").click()
        page.wait_for_load_state("networkidle")
        if owes_code and "/accounts/two-factor/verify/" in page.url:
            browser_second_step(page, device)

    return do_login
