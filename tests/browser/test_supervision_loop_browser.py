"""One task through a whole supervision cycle in the browser, each person in their own
browser: the co-owner's input; the lead's staff draft and submit; the unit head returns
it; staff fix and resubmit; the head approves; the supervisor returns it with
requirements; resubmitted, signed off and accepted. Then a delay request climbs the chain
(the baseline date still shown), and a close-out is rejected and then approved. Each
person finds the item on their work list, and gets one notification per step."""

import datetime
import os

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from core.roles import Role
from notifications.models import Notification
from supervision.choices import CloseOutState, ReportState, RequestState
from supervision.models import ChangeRequest, CloseOut, PeriodReport
from tasks.choices import TaskStatus
from tests.conftest import PASSWORD, make_task
from tests.fixtures.accounts import make_user
from workplans.choices import PlanStatus
from workplans.models import Plan, Section

pytestmark = pytest.mark.django_db(transaction=True)

HEADING = "推进紧密型县域医共体建设"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def cast(commission, agency_a, agency_b, staff_a, staff_b):
    today = timezone.localdate()
    plan = Plan.objects.create(
        title=f"{today.year}年测试市卫生健康工作要点",
        year=today.year,
        issuer=commission,
        status=PlanStatus.ACTIVE,
        requires_unit_signoff=True,
        # The report's cycle is due at the end of the month: never late in this test.
        report_due_day=28,
    )
    section = Section.objects.create(plan=plan, label="一", title="深化医药卫生体制改革")
    task = make_task(
        plan,
        section,
        "1",
        lead=agency_a,
        co_owners=[agency_b],
        heading=HEADING,
        due_on=datetime.date(today.year, 12, 31),
        status=TaskStatus.IN_PROGRESS,
        percent=60,
    )
    return {
        "task": task,
        "staff": staff_a,
        "co_owner": staff_b,
        "head": make_user("head_a", Role.LEADER, agency_a, full_name="郑主任"),
        "supervisor": make_user("duchashi", Role.SUPERVISOR, commission, full_name="督查室陈"),
    }


@pytest.fixture
def person(browser, live_server):
    """A browser of each person's own, signed in through the login page."""
    contexts = []

    def sign_in(user):
        context = browser.new_context(locale="zh-CN", base_url=live_server.url)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15000)
        page.goto("/accounts/login/")
        page.get_by_label("登录名").fill(user.username)
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.wait_for_load_state("networkidle")
        return page

    yield sign_in
    for context in contexts:
        context.close()


def shot(page, name):
    """With SHOTS_DIR set, keep a full-page screenshot of this step (to look at by hand)."""
    folder = os.environ.get("SHOTS_DIR")
    if folder:
        page.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=True)


def from_worklist(page, section_id):
    """Open the work list and follow the first item of one section."""
    page.goto("/supervision/")
    row = page.locator(f"#{section_id} tbody tr").first
    expect(row).to_contain_text(HEADING)
    row.get_by_role("link").first.click()
    page.wait_for_load_state("networkidle")


def decide(page, button, comment=""):
    if comment:
        page.get_by_label("意见或要求").fill(comment)
    page.get_by_role("button", name=button, exact=True).click()
    page.wait_for_load_state("networkidle")


def notified(user) -> int:
    return Notification.objects.filter(recipient=user).count()


def test_one_task_through_a_whole_cycle(cast, person):
    task, staff, co_owner, head, supervisor = (
        cast["task"],
        cast["staff"],
        cast["co_owner"],
        cast["head"],
        cast["supervisor"],
    )
    co_page, staff_page = person(co_owner), person(staff)
    head_page, sup_page = person(head), person(supervisor)

    # The co-owner finds the input it owes on its work list and submits it.
    from_worklist(co_page, "owed_inputs")
    co_page.get_by_label("配合工作情况").fill("我处已完成医共体药品目录统一的配合工作。")
    co_page.get_by_role("button", name="提交", exact=True).click()
    co_page.wait_for_load_state("networkidle")
    assert notified(staff) == 1  # the lead's staff are told the input is in

    # The lead's staff see it beside their draft, quote it, save a draft, then submit.
    from_worklist(staff_page, "owed_reports")
    expect(staff_page.get_by_text("我处已完成医共体药品目录统一的配合工作。").first).to_be_visible()
    staff_page.get_by_role("button", name="引用").first.click()
    progress = staff_page.get_by_label("本期进展")
    assert "药品目录" in progress.input_value()
    progress.fill(progress.input_value() + "\n牵头完成县域医共体章程修订。")
    staff_page.get_by_role("button", name="保存草稿").click()
    staff_page.wait_for_load_state("networkidle")
    assert PeriodReport.objects.get(task=task).state == ReportState.DRAFT
    # The task trails the year: submitting without 存在问题 and 下步计划 is refused, in Chinese.
    staff_page.get_by_role("button", name="提交", exact=True).click()
    staff_page.wait_for_load_state("networkidle")
    expect(staff_page.get_by_text("请填写存在问题").first).to_be_visible()
    shot(staff_page, "report_refused")
    assert PeriodReport.objects.get(task=task).state == ReportState.DRAFT
    staff_page.get_by_label("存在问题").fill("部分乡镇卫生院信息系统未接入。")
    staff_page.get_by_label("下步计划").fill("12月底前完成全部接入。")
    staff_page.get_by_role("button", name="提交", exact=True).click()
    staff_page.wait_for_load_state("networkidle")
    report = PeriodReport.objects.get(task=task)
    assert report.state == ReportState.PENDING_SIGNOFF
    assert notified(head) == 1

    # The unit head returns it with what to fix.
    from_worklist(head_page, "signoff_reports")
    shot(head_page, "signoff_page")
    decide(head_page, "退回", "请补充医共体覆盖的乡镇数量。")
    report.refresh_from_db()
    assert report.state == ReportState.UNIT_RETURNED
    assert notified(staff) == 2

    # Staff see the requirements, fix and resubmit.
    from_worklist(staff_page, "returned_reports")
    expect(staff_page.get_by_text("请补充医共体覆盖的乡镇数量。").first).to_be_visible()
    shot(staff_page, "returned_to_author")
    staff_page.goto(f"/tasks/{task.pk}/")
    staff_page.get_by_label("本期进展").fill("章程修订完成，覆盖全部 12 个乡镇。")
    staff_page.get_by_role("button", name="提交", exact=True).click()
    staff_page.wait_for_load_state("networkidle")
    report.refresh_from_db()
    assert (report.state, report.revision) == (ReportState.PENDING_SIGNOFF, 2)
    assert notified(head) == 2

    # The head approves; the supervisor returns it with requirements.
    from_worklist(head_page, "signoff_reports")
    decide(head_page, "通过")
    assert notified(supervisor) == 1
    sup_page.goto("/supervision/")
    shot(sup_page, "worklist_supervisor")
    from_worklist(sup_page, "review_reports")
    shot(sup_page, "review_page")
    sup_page.set_viewport_size({"width": 390, "height": 844})
    shot(sup_page, "review_page_phone")
    sup_page.set_viewport_size({"width": 1280, "height": 800})
    decide(sup_page, "退回并提出要求", "请附医共体章程文件作为佐证。")
    report.refresh_from_db()
    assert report.state == ReportState.RETURNED
    assert notified(staff) == 3

    # Resubmitted, signed off again and accepted.
    staff_page.goto(f"/tasks/{task.pk}/")
    expect(staff_page.get_by_text("请附医共体章程文件作为佐证。").first).to_be_visible()
    # the header says where this cycle's report stands, not merely that one was sent
    expect(staff_page.get_by_test_id("cycle-report-state")).to_have_text("本期报送（督查退回）")
    staff_page.get_by_label("本期进展").fill("章程已印发，附章程文件。")
    staff_page.get_by_role("button", name="提交", exact=True).click()
    staff_page.wait_for_load_state("networkidle")
    from_worklist(head_page, "signoff_reports")
    decide(head_page, "通过")
    from_worklist(sup_page, "review_reports")
    decide(sup_page, "审核通过")
    report.refresh_from_db()
    assert (report.state, report.revision) == (ReportState.ACCEPTED, 3)
    assert notified(staff) == 4
    expect(sup_page.locator("main")).to_contain_text("审核通过")
    shot(sup_page, "accepted_thread")

    # A delay request through the chain: unit head, then the supervisor, who names the date.
    baseline = task.due_on
    staff_page.goto(f"/tasks/{task.pk}/")
    staff_page.get_by_role("link", name="申请延期或调整").click()
    # the request form fits a phone: no sideways scrolling (a fieldset with a long text once
    # widened the page)
    staff_page.set_viewport_size({"width": 390, "height": 844})
    assert staff_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    staff_page.set_viewport_size({"width": 1280, "height": 800})
    staff_page.get_by_label("延期", exact=True).check()
    staff_page.get_by_label("申请延期至").fill(f"{baseline.year + 1}-03-31")
    staff_page.get_by_label("申请理由").fill("上级批复文件尚未下达。")
    staff_page.get_by_role("button", name="提交申请").click()
    staff_page.wait_for_load_state("networkidle")
    request = ChangeRequest.objects.get(task=task)
    assert request.state == RequestState.PENDING_UNIT
    from_worklist(head_page, "unit_requests")
    head_page.get_by_role("button", name="批准", exact=True).click()
    head_page.wait_for_load_state("networkidle")
    from_worklist(sup_page, "supervisor_requests")
    sup_page.get_by_label("批准延期至").fill(f"{baseline.year + 1}-02-28")
    sup_page.get_by_role("button", name="批准", exact=True).click()
    sup_page.wait_for_load_state("networkidle")
    task.refresh_from_db()
    assert task.due_on == datetime.date(baseline.year + 1, 2, 28) and task.baseline_due_on == baseline
    staff_page.goto(f"/tasks/{task.pk}/")
    expect(staff_page.locator("main")).to_contain_text(f"{baseline:%Y-%m-%d}")
    expect(staff_page.locator("main")).to_contain_text(f"{baseline.year + 1}-02-28")
    shot(staff_page, "task_three_dates")

    # A close-out rejected, then approved.
    staff_page.get_by_role("link", name="申请销号").click()
    staff_page.get_by_label("完成情况").fill("医共体建设任务全部完成。")
    staff_page.get_by_role("button", name="提交销号申请").click()
    staff_page.wait_for_load_state("networkidle")
    from_worklist(sup_page, "close_outs")
    sup_page.get_by_label("审核意见 / 退回要求").fill("缺少验收报告。")
    sup_page.get_by_role("button", name="退回", exact=True).click()
    sup_page.wait_for_load_state("networkidle")
    task.refresh_from_db()
    assert task.status == TaskStatus.IN_PROGRESS
    staff_page.goto(f"/tasks/{task.pk}/")
    staff_page.get_by_role("link", name="申请销号").click()
    staff_page.get_by_label("完成情况").fill("已补充验收报告。")
    staff_page.locator("input[type=file]").first.set_input_files(
        files=[
            {
                "name": "验收报告.pdf",
                "mimeType": "application/pdf",
                "buffer": b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
            }
        ]
    )
    staff_page.get_by_role("button", name="提交销号申请").click()
    staff_page.wait_for_load_state("networkidle")
    from_worklist(sup_page, "close_outs")
    for label in ("佐证材料齐全", "时间节点已全部完成", "指标已达标或未达标已说明"):
        sup_page.get_by_label(label).check()
    shot(sup_page, "closeout_checklist")
    sup_page.get_by_role("button", name="批准销号").click()
    sup_page.wait_for_load_state("networkidle")
    task.refresh_from_db()
    assert task.status == TaskStatus.CLOSED and task.completed_on == timezone.localdate()
    assert list(CloseOut.objects.filter(task=task).values_list("state", flat=True).order_by("pk")) == [
        CloseOutState.REJECTED,
        CloseOutState.APPROVED,
    ]
    # One notification per step and person: nothing was sent twice.
    keys = list(Notification.objects.values_list("recipient_id", "title", "created_at"))
    assert len(keys) == len(set(keys))
    # The work lists are empty again.
    sup_page.goto("/supervision/")
    shot(sup_page, "worklist_empty")
    expect(sup_page.locator("#review_reports .count")).to_have_text("0")
    expect(sup_page.locator("#close_outs .count")).to_have_text("0")
