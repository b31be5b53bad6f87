"""The assessment (考核) in the browser: the admin sets up the scheme with its defaults and
turns it on, a leader reads the ranking, opens an agency's items and adds an evaluation
with its reason, and the admin freezes the year and downloads the result."""

import io

import openpyxl
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from assessment.models import Scheme
from supervision.choices import ReportState
from supervision.models import PeriodReport
from tasks.choices import TaskStatus
from tests.conftest import make_task
from workplans.choices import PlanStatus, ReportingCycle
from workplans.cycles import cycle_for, previous_cycle
from workplans.models import Plan

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world(commission, agency_a, agency_b, staff_a):
    """A quarterly plan of this year: A reported the last quarter on time, B never did."""
    today = timezone.localdate()
    plan = Plan.objects.create(
        title=f"{today.year}年测试市卫生健康工作要点",
        year=today.year,
        issuer=commission,
        status=PlanStatus.ACTIVE,
        reporting_cycle=ReportingCycle.QUARTERLY,
        report_due_day=5,
    )
    last = previous_cycle(cycle_for(plan.reporting_cycle, 5, today), plan.reporting_cycle, 5)
    reported = make_task(plan, None, "1", lead=agency_a, heading="推进医共体建设", status=TaskStatus.IN_PROGRESS)
    make_task(plan, None, "2", lead=agency_b, heading="建设慢病管理中心", status=TaskStatus.IN_PROGRESS)
    PeriodReport.objects.create(
        task=reported,
        period_start=last.start,
        period_end=last.end,
        period_label=last.label,
        due_on=last.due_on,
        state=ReportState.ACCEPTED,
        revision=1,
        author=staff_a,
        submitted_at=timezone.now().replace(year=last.due_on.year, month=last.due_on.month, day=last.due_on.day),
    )
    return plan


def sign_out(page):
    page.context.clear_cookies()


def test_an_admin_sets_up_a_leader_evaluates_and_the_year_is_frozen(
    world, page, browser_login, admin_user, leader, agency_b
):
    # The admin creates the scheme at its default points and turns it on.
    browser_login(admin_user)
    page.goto("/assessment/")
    page.get_by_role("link", name="设置考核方案").click()
    page.get_by_role("button", name="按默认分值创建考核方案").click()
    page.get_by_role("button", name="启用考核方案").click()
    expect(page.get_by_test_id("scheme-state")).to_have_text("已启用")
    sign_out(page)

    # A leader reads the ranking: A, who reported, above B, who did not.
    browser_login(leader)
    page.goto("/assessment/")
    page.get_by_role("link", name=world.title).click()
    rows = page.get_by_test_id("standing-row")
    expect(rows.nth(0)).to_contain_text("医政医管处")
    expect(rows.nth(1)).to_contain_text("疾病预防控制处")

    # B's items say why each point was taken, linked to the task.
    page.get_by_role("link", name="疾病预防控制处").click()
    expect(page.get_by_test_id("item-row").first).to_contain_text("未报送")
    expect(page.get_by_role("link", name="2. 建设慢病管理中心").first).to_be_visible()

    # The leader's evaluation needs a reason, then counts with it.
    page.goto(f"/assessment/{world.pk}/evaluate/")
    page.get_by_label("被评价单位").select_option(label="疾病预防控制处")
    page.get_by_label("评价分").fill("2")
    page.get_by_label("评价理由").fill("   ")
    page.get_by_role("button", name="提交评价").click()
    expect(page.get_by_role("alert").first).to_be_visible()
    page.get_by_label("评价理由").fill("慢病中心选址工作主动作为。")
    page.get_by_role("button", name="提交评价").click()
    page.goto(f"/assessment/{world.pk}/agency/{agency_b.pk}/")
    expect(page.get_by_test_id("item-row").filter(has_text="慢病中心选址工作主动作为")).to_have_count(1)
    sign_out(page)

    # The admin freezes the year and downloads the result.
    browser_login(admin_user)
    page.goto(f"/assessment/{world.pk}/freeze/")
    page.get_by_role("checkbox").check()
    page.get_by_role("button", name="冻结", exact=True).click()
    expect(page.get_by_test_id("frozen")).to_be_visible()
    assert Scheme.objects.get(plan=world).state == "frozen"
    with page.expect_download() as waiting:
        page.get_by_role("link", name="导出 Excel").click()
    book = openpyxl.load_workbook(io.BytesIO(waiting.value.path().read_bytes()))
    cells = {cell for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for cell in row}
    assert {"医政医管处", "疾病预防控制处"} <= cells
    assert any(isinstance(cell, str) and "慢病中心选址工作主动作为" in cell for cell in cells)
