"""Escalation in the browser, each person in their own browser: the supervisor issues a
yellow 督办单 by hand from the task page; the lead's staff find it on their work list,
acknowledge it and answer with a file; the supervisor finds the answer on theirs and
closes the notice. A leader's instruction on the task is answered by the staff at the top
of the task page and settled by the leader. The notice's page fits a phone's width."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from core.roles import Role
from escalation.choices import InstructionState, Level, NoticeState
from escalation.models import Instruction, Notice
from tasks.choices import TaskStatus
from tests.browser.test_supervision_loop_browser import person, shot  # noqa: F401 (fixtures)
from tests.conftest import make_task
from tests.fixtures.accounts import make_user
from tests.fixtures.tasks import PDF
from workplans.choices import PlanStatus
from workplans.models import Plan, Section

pytestmark = pytest.mark.django_db(transaction=True)

HEADING = "推进紧密型县域医共体建设"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def cast(commission, agency_a, agency_b, staff_a):
    today = timezone.localdate()
    plan = Plan.objects.create(
        title=f"{today.year}年测试市卫生健康工作要点",
        year=today.year,
        issuer=commission,
        status=PlanStatus.ACTIVE,
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
        "leader": make_user("fenguan", Role.LEADER, commission, full_name="委领导吴"),
        "supervisor": make_user("duchashi", Role.SUPERVISOR, commission, full_name="督查室陈"),
    }


def test_a_yellow_notice_and_an_instruction_from_issue_to_close(cast, person, tmp_path):  # noqa: F811
    task, staff, leader, supervisor = cast["task"], cast["staff"], cast["leader"], cast["supervisor"]
    sup_page, staff_page, leader_page = person(supervisor), person(staff), person(leader)

    # The supervisor issues a yellow notice by hand from the task page.
    sup_page.goto(f"/tasks/{task.pk}/")
    sup_page.get_by_role("link", name="下发督办单").click()
    expect(sup_page.get_by_label("基本情况")).to_contain_text("60%")
    sup_page.get_by_label("黄色督办").check()
    sup_page.get_by_label("督办要求").fill("请于反馈时限前书面说明医共体建设滞后原因，并附佐证材料。")
    shot(sup_page, "escalation-01-issue")
    sup_page.get_by_role("button", name="下发", exact=True).click()
    expect(sup_page.get_by_test_id("notice-state")).to_have_text("已发出")
    notice = Notice.objects.get(task=task)
    assert notice.level == Level.YELLOW and notice.number in sup_page.content()

    # The lead's staff find it on their work list, acknowledge, and answer with a file.
    staff_page.goto("/supervision/")
    row = staff_page.locator("#owed_notices tbody tr").first
    expect(row).to_contain_text(notice.number)
    row.get_by_role("link").first.click()
    staff_page.get_by_role("button", name="签收").click()
    expect(staff_page.get_by_test_id("notice-state")).to_have_text("已签收")
    staff_page.get_by_label("办理情况").fill("已召开专题推进会，两个医共体章程已报审。")
    evidence = tmp_path / "推进会纪要.pdf"
    evidence.write_bytes(PDF)
    staff_page.get_by_label("佐证材料").set_input_files(str(evidence))
    shot(staff_page, "escalation-02-answer")
    staff_page.get_by_role("button", name="提交反馈").click()
    expect(staff_page.get_by_test_id("notice-state")).to_have_text("已反馈")
    expect(staff_page.get_by_test_id("answer-file")).to_have_text("推进会纪要.pdf")

    # The supervisor finds the answer on their work list and closes the notice.
    sup_page.goto("/supervision/")
    row = sup_page.locator("#answered_notices tbody tr").first
    expect(row).to_contain_text(notice.number)
    row.get_by_role("link").first.click()
    sup_page.get_by_role("button", name="办结", exact=True).click()
    expect(sup_page.get_by_test_id("notice-state")).to_have_text("已办结")
    shot(sup_page, "escalation-03-closed")
    notice.refresh_from_db()
    assert notice.state == NoticeState.CLOSED and notice.answer_update.attachments.count() == 1

    # On a phone, the notice's page does not scroll sideways.
    staff_page.set_viewport_size({"width": 390, "height": 844})
    staff_page.goto(f"/escalation/notices/{notice.pk}/")
    width = staff_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    shot(staff_page, "escalation-04-phone")

    # A leader's instruction: answered at the top of the task, settled by the leader.
    leader_page.goto(f"/tasks/{task.pk}/")
    leader_page.get_by_role("link", name="批示", exact=True).click()
    leader_page.get_by_label("批示内容").fill("请医政医管处月底前报送医共体推进方案。")
    leader_page.get_by_label("反馈时限").fill((timezone.localdate() + datetime.timedelta(days=10)).isoformat())
    leader_page.get_by_role("button", name="发出批示").click()
    expect(leader_page.get_by_test_id("open-instruction")).to_contain_text("医共体推进方案")

    staff_page.set_viewport_size({"width": 1280, "height": 900})
    staff_page.goto(f"/tasks/{task.pk}/")
    alert = staff_page.get_by_test_id("open-instruction")
    expect(alert).to_contain_text("医共体推进方案")
    alert.get_by_label("落实情况").fill("推进方案已起草，正在征求意见。")
    shot(staff_page, "escalation-05-instruction")
    alert.get_by_role("button", name="反馈落实情况").click()
    expect(staff_page.get_by_test_id("open-instruction")).to_contain_text("已反馈")

    leader_page.goto(f"/tasks/{task.pk}/")
    leader_page.get_by_test_id("open-instruction").get_by_role("button", name="确认办结").click()
    expect(leader_page.get_by_test_id("open-instruction")).to_have_count(0)
    instruction = Instruction.objects.get(task=task)
    assert instruction.state == InstructionState.SETTLED
