"""The browser fixtures of tests/browser (Playwright on /usr/bin/chromium, the live server,
logging in through the form), shared with the security tests."""

from tests.browser.conftest import browser, browser_login, page  # noqa: F401
