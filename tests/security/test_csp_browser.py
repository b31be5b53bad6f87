"""The Content-Security-Policy in a real browser: every role opens its main pages and none
of them trips the policy (no inline script, style or handler left anywhere), the charts are
still drawn, the HTMX report form still posts (and so still carries its CSRF token), and
the API docs (Swagger UI, Redoc) work under it."""

import contextlib
import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from core.roles import Role
from indicators.models import Indicator
from tasks.models import ProgressUpdate
from tests.conftest import PASSWORD, make_task, make_user
from workplans.choices import PlanStatus
from workplans.models import Plan, Section

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHARTS = ("#chart-status", "#chart-agencies", "#chart-trend", "#chart-indicators")
# Recorded before any page script runs (an init script is outside the page's policy).
LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " "
                    + (e.sourceFile || "") + ":" + e.lineNumber);
});
"""


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def watched(page):
    """The page, with every CSP violation and console error it reports collected."""
    page.add_init_script(LISTEN)
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))

    def violations():
        found = list(errors)
        with contextlib.suppress(Exception):
            found += page.evaluate("window.__csp || []")
        return found

    page.violations = violations
    return page


@pytest.fixture
def workload(commission, agency_a, agency_b):
    today = timezone.localdate()
    plan = Plan.objects.create(
        title=f"{today.year}年测试市卫生健康工作要点", year=today.year, issuer=commission, status=PlanStatus.ACTIVE
    )
    section = Section.objects.create(plan=plan, label="一", title="提升服务能力")
    task = make_task(
        plan,
        section,
        "1",
        lead=agency_a,
        co_owners=[agency_b],
        heading="推进医师轮岗派驻",
        due_on=today + datetime.timedelta(days=40),
    )
    make_task(
        plan, section, "2", lead=agency_b, heading="完成流感监测哨点扩容", due_on=today - datetime.timedelta(days=3)
    )
    Indicator.objects.create(
        plan=plan, task=task, name="每千人口医师数", comparator=">=", target=Decimal("3.09"), unit="人"
    )
    return task


def visit(page, path):
    page.goto(path)
    page.wait_for_load_state("networkidle")
    assert page.violations() == [], f"{path}: {page.violations()}"


def test_it_lets_staff_report_without_a_policy_violation(watched, browser_login, workload, staff_a):
    page = watched
    # given staff of the lead agency, signed in
    browser_login(staff_a)
    expect(page).to_have_url(re.compile(r"/tasks/mine/$"))
    assert page.violations() == []

    # when they open the task page and submit this cycle's report
    visit(page, f"/tasks/{workload.pk}/")
    page.get_by_role("combobox", name="任务状态").select_option(label="进行中")
    page.get_by_label("完成百分比").fill("30")
    page.get_by_label("本期进展").fill("已选派 6 名医师。")
    page.get_by_label("存在问题").fill("人员不足。")
    page.get_by_label("下步计划").fill("下月补齐。")
    page.get_by_role("button", name="提交", exact=True).click()

    # then it saved (the CSRF token went with the form), with no violation
    expect(page.get_by_text("本期报送已提交。")).to_be_visible()
    assert ProgressUpdate.objects.filter(task=workload, percent=30).count() == 1
    assert page.violations() == []

    # and the inbox, the token page and the language switch (an inline handler before) work
    visit(page, "/notifications/")
    visit(page, "/api/tokens/")
    page.get_by_label("Language").select_option("en")
    page.wait_for_load_state("networkidle")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert page.violations() == []


def test_it_draws_a_leaders_charts_under_the_policy(watched, browser_login, workload, leader):
    page = watched
    # given a leader, signed in
    browser_login(leader)

    # when they open the overview
    visit(page, "/dashboard/")

    # then the four charts are drawn by the locally served ECharts
    for chart in CHARTS:
        expect(page.locator(f"{chart} svg").first).to_be_attached()
    assert page.evaluate("typeof window.echarts") == "object"
    # and hovering a chart (its tooltip is HTML) reports nothing either
    box = page.locator("#chart-status svg").first.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2 + 40, box["y"] + box["height"] / 2)
    page.mouse.move(box["x"] + box["width"] / 2 - 40, box["y"] + box["height"] / 2 - 10)
    page.wait_for_timeout(300)
    assert page.violations() == []
    visit(page, "/tasks/mine/")
    visit(page, f"/tasks/{workload.pk}/")


def test_it_shows_the_admins_pages_under_the_policy(watched, browser_login, workload, admin_user):
    page = watched
    # given an admin, signed in
    browser_login(admin_user)

    # when they open the plan list, the import upload, the overview and the delivery log
    for path in ("/plans/", "/plans/imports/new/", "/dashboard/", "/notifications/deliveries/", "/tasks/mine/"):
        visit(page, path)

    # then the upload form is there and nothing was refused
    page.goto("/plans/imports/new/")
    expect(page.locator("input[type=file]")).to_be_attached()
    assert page.violations() == []


def test_it_shows_the_auditors_and_security_admins_pages_under_the_policy(
    watched, browser_login, workload, auditor, commission
):
    page = watched
    # given the auditor, signed in, on their landing page
    browser_login(auditor)
    visit(page, page.url)
    visit(page, "/notifications/")
    page.get_by_role("button", name="退出").click()
    page.wait_for_load_state("networkidle")

    # when the security admin signs in and looks around (the role arrives with this issue)
    if not hasattr(Role, "SECURITY"):
        pytest.skip("Role.SECURITY does not exist yet")
    browser_login(make_user("security", Role.SECURITY, commission))
    visit(page, page.url)
    visit(page, "/notifications/")

    # then nothing was refused
    assert page.violations() == []


def test_it_serves_the_api_docs_under_the_policy(watched, browser_login, staff_a):
    page = watched
    # given staff, signed in
    browser_login(staff_a)

    # when they open Swagger UI
    visit(page, "/api/docs/")

    # then it loaded the schema (from its own ?script, not an inline script) and lists the endpoints
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    expect(page.get_by_text("/api/v1/tasks/").first).to_be_visible()
    assert page.violations() == []


REDOCLY_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


def test_it_serves_redoc_under_the_policy_and_blocks_its_only_outside_image(browser, live_server, staff_a):
    # Redoc's menu footer always draws Redocly's logo from their CDN; the policy blocks it
    # (the page hides the broken image itself), so nothing leaves the intranet. That one
    # blocked image is the only report allowed; this test has its own page to say so.
    context = browser.new_context(locale="zh-CN", base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15000)
    page.add_init_script(LISTEN)
    errors, outside_done = [], []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "requestfinished",
        lambda request: (
            "127.0.0.1" not in request.url and "localhost" not in request.url and outside_done.append(request.url)
        ),
    )
    try:
        # given staff, signed in
        page.goto("/accounts/login/")
        page.get_by_label("登录名").fill(staff_a.username)
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.wait_for_load_state("networkidle")
        # when they open Redoc
        page.goto("/api/redoc/")
        # then it draws the schema with no inline script
        expect(page.get_by_text("/api/v1/tasks/").first).to_be_attached()
        expect(page.locator("h1").first).to_be_visible()
        page.wait_for_load_state("networkidle")
        reported = errors + page.evaluate("window.__csp")
        unexpected = [r for r in reported if REDOCLY_LOGO not in r]
        assert unexpected == []
        # and the one outside image was blocked by the policy, not fetched
        assert outside_done == []
    finally:
        context.close()
