"""The bulletin (通报) in the browser: the supervisor drafts one for the last finished
quarter, writes 下步要求, issues it, and the .docx downloaded from its page holds the
ranking of the agencies and the agency that did not report."""

import datetime

import docx
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from dashboards.models import Bulletin, BulletinState
from supervision.choices import ReportState
from supervision.models import PeriodReport
from tasks.choices import TaskStatus
from tests.browser.test_supervision_loop_browser import person, shot  # noqa: F401 (fixtures)
from tests.conftest import make_task
from workplans.choices import PlanStatus, ReportingCycle
from workplans.cycles import cycle_for, previous_cycle
from workplans.models import Plan

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(commission, agency_a, agency_b, staff_a):
    """A quarterly plan of this year: A led a task and reported the last quarter on time,
    B led one and never reported."""
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
    year_end = datetime.date(today.year, 12, 31)
    reported = make_task(
        plan,
        None,
        "1",
        lead=agency_a,
        heading="推进医共体建设",
        status=TaskStatus.IN_PROGRESS,
        percent=70,
        due_on=year_end,
    )
    make_task(plan, None, "2", lead=agency_b, heading="建设慢病管理中心", status=TaskStatus.IN_PROGRESS, percent=30,
              due_on=year_end)  # fmt: skip
    PeriodReport.objects.create(
        task=reported,
        period_start=last.start,
        period_end=last.end,
        period_label=last.label,
        due_on=last.due_on,
        state=ReportState.ACCEPTED,
        revision=1,
        author=staff_a,
    )
    return plan


def test_a_supervisor_drafts_edits_issues_and_downloads_a_bulletin(world, supervisor, person, tmp_path):  # noqa: F811
    page = person(supervisor)

    # The supervisor drafts from the dashboard's link, on the default (last finished) quarter.
    page.goto("/dashboard/")
    page.get_by_test_id("bulletin-new-link").click()
    page.get_by_role("button", name="生成草稿").click()
    expect(page.get_by_test_id("bulletin-state")).to_have_text("草稿")
    expect(page.get_by_test_id("ranking")).to_contain_text("医政医管处")
    expect(page.get_by_test_id("unreported")).to_contain_text("疾病预防控制处")

    # writes 下步要求 and saves
    page.get_by_label("下步要求").fill("一是疾病预防控制处于10日内补报。\n二是各单位按时报送。")
    shot(page, "bulletin-01-draft")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_test_id("next-steps")).to_contain_text("于10日内补报")

    # issues it
    page.get_by_role("link", name="印发", exact=True).click()
    page.get_by_role("button", name="确认印发").click()
    expect(page.get_by_test_id("bulletin-state")).to_have_text("已印发")
    bulletin = Bulletin.objects.get()
    assert bulletin.state == BulletinState.ISSUED and bulletin.seq == 1
    expect(page.get_by_test_id("bulletin-number")).to_have_text(bulletin.number)
    shot(page, "bulletin-02-issued")

    # and downloads the .docx: the ranking table and the unreported agency are in it
    with page.expect_download() as waiting:
        page.get_by_test_id("download-docx").click()
    path = tmp_path / "bulletin.docx"
    waiting.value.save_as(path)
    document = docx.Document(str(path))
    tables = {table.rows[0].cells[0].text: table for table in document.tables}
    ranking = tables["名次"]
    assert [[cell.text for cell in row.cells] for row in ranking.rows] == [
        ["名次", "单位", "完成进度", "按时报送率", "考核得分"],
        ["1", "医政医管处", "70.0%", "100.0%", "—"],
        ["2", "疾病预防控制处", "30.0%", "0.0%", "—"],
    ]
    unreported = tables["单位"]
    assert [cell.text for cell in unreported.rows[1].cells][:3] == ["疾病预防控制处", "1", "0"]
    text = "\n".join(paragraph.text for paragraph in document.paragraphs)
    assert bulletin.number in text and "二是各单位按时报送。" in text

    # The list keeps it, numbered.
    page.goto("/dashboard/bulletins/")
    expect(page.get_by_test_id("bulletin-row")).to_contain_text(bulletin.number)
