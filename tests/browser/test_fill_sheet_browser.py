"""The Excel round trip in the browser: a lead agency's staff member goes from 我的任务 to the
sheet page, downloads the sheet, fills it (openpyxl standing in for Excel), imports it,
reads the preview and confirms; the report is then in the task's thread."""

import datetime
import io

import openpyxl
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from supervision.choices import ReportState
from supervision.models import PeriodReport
from tasks.choices import TaskStatus
from tests.conftest import make_task
from workbench import sheets
from workplans.choices import PlanStatus
from workplans.models import Plan, Section

pytestmark = pytest.mark.django_db(transaction=True)

HEADING = "推进县域医共体建设"


@pytest.fixture
def task(commission, agency_a, staff_a):
    today = timezone.localdate()
    plan = Plan.objects.create(
        title=f"{today.year}年测试市卫生健康重点工作安排", year=today.year, issuer=commission, status=PlanStatus.ACTIVE
    )
    section = Section.objects.create(plan=plan, label="一", title="深化医改")
    return make_task(
        plan,
        section,
        "1",
        lead=agency_a,
        heading=HEADING,
        status=TaskStatus.IN_PROGRESS,
        percent=40,
        due_on=today + datetime.timedelta(days=200),
    )


def test_staff_fill_the_sheet_in_excel_and_confirm_its_preview(page, browser_login, task, staff_a, tmp_path):
    # given staff of the lead agency on 我的任务
    browser_login(staff_a)
    page.goto("/tasks/mine/")
    page.get_by_role("link", name="用 Excel 填报表批量报送").click()

    # when they download their sheet and fill it in
    with page.expect_download() as download:
        page.get_by_role("link", name="下载填报表").click()
    assert download.value.suggested_filename.endswith("填报表.xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes()))
    sheet = workbook.worksheets[0]
    row = sheets.FIRST_ROW
    assert sheet.cell(row, 3).value == HEADING
    values = {
        "status": "进行中",
        "percent": 65,
        "progress": "完成两个县的试点",
        "problems": "无",
        "next_steps": "全面推开",
    }
    for key, value in values.items():
        sheet.cell(row, sheets.COLUMNS.index(key) + 1).value = value
    filled = tmp_path / "填报表.xlsx"
    buffer = io.BytesIO()
    workbook.save(buffer)
    filled.write_bytes(buffer.getvalue())

    # and import it
    page.get_by_label("填好的填报表").set_input_files(str(filled))
    page.get_by_role("button", name="导入并预览").click()

    # then the preview shows the change, and confirming sends the report
    preview = page.locator("[data-testid=preview-row]")
    expect(preview).to_have_count(1)
    expect(preview.first).to_have_attribute("data-outcome", "apply")
    expect(page.locator("#preview-rows")).to_contain_text("65%")
    expect(page.locator("#preview-rows")).to_contain_text("完成两个县的试点")
    page.get_by_role("button", name="确认提交 1 项").click()
    expect(page.locator("[data-testid=applied]")).to_contain_text(HEADING)
    report = PeriodReport.objects.get(task=task)
    assert (report.state, report.percent, report.progress) == (ReportState.PENDING_REVIEW, 65, "完成两个县的试点")
