"""Staff report progress in the browser: a lead agency's staff member finds an overdue task,
sets its status and percent, adds a note, a PDF and an indicator reading, and sees it all in
the history; a co-owner's staff member may add a note but not change the status."""

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from indicators.models import Indicator, Reading
from tasks.choices import TaskStatus
from tasks.models import Attachment, Milestone, ProgressUpdate, Task
from tests.conftest import make_task
from workplans.choices import PlanStatus
from workplans.models import Plan, Section

pytestmark = pytest.mark.django_db(transaction=True)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PDF_NAME = "基层医师配置情况.pdf"
INDICATOR = "每千人口执业（助理）医师数"
OVERDUE = "推进乡镇卫生院医师轮岗派驻"
OTHER_OVERDUE = "完成社区卫生服务中心标准化改造"
NOT_DUE = "开展年度医疗质量安全检查"
FINISHED = "修订院前急救调度规范"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def workload(commission, agency_a, agency_b, staff_a, staff_b):
    """An active plan of this year; agency A leads four tasks: two overdue (the first with
    agency B as co-owner, an indicator and a milestone), one not yet due and one finished late."""
    today = timezone.localdate()
    staff_a.full_name, staff_b.full_name = "林晓岚", "周启航"
    staff_a.save()
    staff_b.save()
    plan = Plan.objects.create(
        title=f"{today.year}年测试市卫生健康重点工作安排", year=today.year, issuer=commission, status=PlanStatus.ACTIVE
    )
    section = Section.objects.create(plan=plan, label="一", title="夯实基层医疗卫生服务网底")
    overdue = make_task(
        plan,
        section,
        "1",
        lead=agency_a,
        co_owners=[agency_b],
        heading=OVERDUE,
        text="组织二级以上医院医师到乡镇卫生院轮岗派驻，每院不少于 2 人，派驻期不少于半年。",
        due_on=today - datetime.timedelta(days=30),
    )
    Indicator.objects.create(
        plan=plan, task=overdue, name=INDICATOR, comparator=">=", target=Decimal("3.09"), unit="人"
    )
    Milestone.objects.create(task=overdue, due_on=today - datetime.timedelta(days=45), text="印发轮岗派驻实施方案")
    make_task(plan, section, "2", lead=agency_a, heading=OTHER_OVERDUE, due_on=today - datetime.timedelta(days=10))
    make_task(plan, section, "3", lead=agency_a, heading=NOT_DUE, due_on=today + datetime.timedelta(days=30))
    make_task(
        plan,
        section,
        "4",
        lead=agency_a,
        heading=FINISHED,
        due_on=today - datetime.timedelta(days=60),
        status=TaskStatus.DONE,
        percent=100,
    )
    return overdue


def test_it_lets_staff_report_progress_and_co_owners_only_add_notes(
    page, browser_login, live_server, workload, staff_a, staff_b, tmp_path
):
    task = workload
    today = timezone.localdate().isoformat()
    pdf = tmp_path / PDF_NAME
    pdf.write_bytes(PDF)

    # given staff of the lead agency, logged in through the form, on 我的任务
    browser_login(staff_a)
    expect(page).to_have_url(re.compile(r"/tasks/mine/$"))
    expect(page.get_by_role("heading", name="我的任务")).to_be_visible()
    for heading in (OVERDUE, OTHER_OVERDUE, NOT_DUE, FINISHED):
        expect(page.get_by_role("link", name=heading)).to_be_visible()

    # when they pick the quick filter 已逾期
    page.get_by_role("navigation", name="常用筛选").get_by_role("link", name="已逾期").click()

    # then only the overdue tasks are listed: not the one due later, nor the one finished late
    expect(page).to_have_url(re.compile(r"/tasks/mine/\?overdue=1$"))
    expect(page.locator("table.task-list tbody tr")).to_have_count(2)
    expect(page.get_by_role("link", name=OVERDUE)).to_be_visible()
    expect(page.get_by_role("link", name=OTHER_OVERDUE)).to_be_visible()
    expect(page.get_by_role("link", name=NOT_DUE)).to_have_count(0)
    expect(page.get_by_role("link", name=FINISHED)).to_have_count(0)

    # when they open the overdue task
    page.get_by_role("link", name=OVERDUE).click()
    expect(page).to_have_url(re.compile(rf"/tasks/{task.pk}/$"))
    expect(page.get_by_role("heading", name=OVERDUE)).to_be_visible()
    expect(page.get_by_test_id("task-status")).to_have_text("未开始")
    expect(page.get_by_test_id("task-percent")).to_have_text("0%")
    expect(page.locator("#progress")).to_contain_text("尚无进展记录。")

    # and enter a reading that is not a number in this cycle's report
    report = page.locator("#report")
    expect(report).to_contain_text("本期报送")
    page.get_by_label("本期进展").fill("已启动轮岗派驻。")
    page.get_by_label(INDICATOR).fill("abc")
    page.get_by_role("button", name="提交", exact=True).click()

    # then a Chinese error names the problem, with what they typed kept, and nothing is saved
    expect(page.locator("#report")).to_contain_text("“abc”不是数字，请填写数值（如 3.09），单位“人”不用填写。")
    expect(page.get_by_label("本期进展")).to_have_value("已启动轮岗派驻。")
    assert not ProgressUpdate.objects.exists() and not Reading.objects.exists()

    # when they set 进行中 and 60%, write the report (the task is overdue: problems and next
    # steps are required), add a PDF and a reading, and submit
    note = "已从市第一人民医院选派 6 名医师赴 3 家乡镇卫生院，其余人员 12 月底前到岗。"
    page.get_by_role("combobox", name="任务状态").select_option(label="进行中")
    page.get_by_label("完成百分比").fill("60")
    page.get_by_label("本期进展").fill(note)
    page.get_by_label("存在问题").fill("部分医院人手紧张。")
    page.get_by_label("下步计划").fill("12 月底前全部到岗。")
    page.get_by_label("佐证材料").set_input_files(pdf)
    page.get_by_label(INDICATOR).fill("3.12")
    page.get_by_label("统计日期").fill(today)
    page.get_by_role("button", name="提交", exact=True).click()

    # then the page says the report is in, and back on the task
    expect(page.get_by_text("本期报送已提交。")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/tasks/{task.pk}/(#report)?$"))
    history = page.locator("#progress")

    # and the header shows the new status and percent
    expect(page.get_by_test_id("task-status")).to_have_text("进行中")
    expect(page.get_by_test_id("task-percent")).to_have_text("60%")

    # and 进展记录 shows who reported what: status, percent, note, reading and file
    entry = history.locator("li.update").first
    expect(history.locator("li.update")).to_have_count(1)
    expect(entry.locator(".update-head")).to_contain_text("林晓岚")
    expect(entry).to_contain_text("状态：未开始 → 进行中")
    expect(entry).to_contain_text("进度：0% → 60%")
    expect(entry.locator(".update-note")).to_have_text(note)
    expect(entry).to_contain_text(f"指标：{INDICATOR} = 3.12人（{today}）")
    expect(entry.get_by_role("link", name=PDF_NAME)).to_be_visible()

    # and the file downloads with its name and its exact bytes
    with page.expect_download() as download_info:
        entry.get_by_role("link", name=PDF_NAME).click()
    download = download_info.value
    assert download.suggested_filename == PDF_NAME
    with open(download.path(), "rb") as downloaded:
        assert downloaded.read() == PDF
    expect(page.locator("#attachments").get_by_role("link", name=PDF_NAME)).to_be_visible()

    # and the indicator's latest value is the reading, which meets the target
    indicator_row = page.locator("#indicators tbody tr", has_text=INDICATOR)
    expect(indicator_row).to_contain_text("3.12人")
    expect(indicator_row).to_contain_text(today)
    expect(indicator_row).to_contain_text("达标")

    # and 变更记录 records the status change under their name
    audit = page.locator("#audit")
    status_change = audit.locator("tbody tr", has_text="状态：未开始 → 进行中")
    expect(status_change).to_have_count(1)
    expect(status_change).to_contain_text("林晓岚")
    expect(status_change).to_contain_text("完成百分比：0 → 60")
    expect(audit.locator("tbody tr", has_text=f"指标值：{INDICATOR}")).to_contain_text("林晓岚")

    # when they log out and staff of the co-owner agency logs in and opens the task
    page.get_by_role("button", name="退出").click()
    page.wait_for_url("**/accounts/login/")
    browser_login(staff_b)
    expect(page).to_have_url(re.compile(r"/tasks/mine/$"))
    row = page.locator("table.task-list tbody tr", has_text=OVERDUE)
    expect(row).to_contain_text("配合")
    row.get_by_role("link", name=OVERDUE).click()
    expect(page).to_have_url(re.compile(rf"/tasks/{task.pk}/$"))

    # then they get the co-owner's input form: no status, percent or milestone controls
    coinput = page.locator("#coinput")
    expect(coinput).to_contain_text("本单位为配合单位")
    expect(page.locator("#report")).to_have_count(0)
    expect(coinput.get_by_role("combobox", name="任务状态")).to_have_count(0)
    expect(coinput.get_by_label("完成百分比")).to_have_count(0)
    expect(coinput.locator("input[name=milestones]")).to_have_count(0)

    # when they post a status change anyway, with the page's own session and CSRF token
    token = coinput.locator("input[name=csrfmiddlewaretoken]").input_value()
    version = str(Task.objects.get(pk=task.pk).version)
    response = page.request.post(
        f"{live_server.url}/tasks/{task.pk}/report/",
        form={"csrfmiddlewaretoken": token, "version": version, "status": "done", "percent": "100", "note": "已完成"},
        headers={"X-CSRFToken": token, "Referer": page.url},
    )

    # then it is refused for want of permission (not for a bad token), and the task is unchanged
    assert response.status == 403
    assert "CSRF" not in response.text()
    page.reload()
    expect(page.get_by_test_id("task-status")).to_have_text("进行中")
    expect(page.get_by_test_id("task-percent")).to_have_text("60%")
    expect(history.locator("li.update")).to_have_count(1)
    assert Task.objects.values_list("status", "percent").get(pk=task.pk) == (TaskStatus.IN_PROGRESS, 60)

    # when they send their agency's input
    co_note = "疾控处已完成派驻医师岗前公共卫生培训，共 6 人次。"
    page.get_by_label("配合工作情况").fill(co_note)
    page.get_by_role("button", name="提交", exact=True).click()

    # then the input is in the history under their name, and the status and percent stay
    expect(page.get_by_text("配合单位反馈已提交。")).to_be_visible()
    expect(history.locator("li.update")).to_have_count(2)
    newest = history.locator("li.update").first
    expect(newest.locator(".update-head")).to_contain_text("周启航")
    expect(newest.locator(".update-note")).to_have_text(co_note)
    expect(newest.locator(".update-changes li")).to_have_count(0)
    expect(page.get_by_test_id("task-status")).to_have_text("进行中")
    expect(page.get_by_test_id("task-percent")).to_have_text("60%")
    assert Task.objects.values_list("status", "percent").get(pk=task.pk) == (TaskStatus.IN_PROGRESS, 60)
    assert Attachment.objects.get().original_name == PDF_NAME


def test_it_works_on_a_phone(page, browser_login, workload, staff_a):
    task = workload
    page.set_viewport_size(PHONE)
    no_sideways_scroll = "document.documentElement.scrollWidth <= window.innerWidth"

    # given staff of the lead agency logged in on a phone
    browser_login(staff_a)

    # then 我的任务 shows the tasks as cards, with no sideways scrolling
    expect(page.get_by_role("heading", name="我的任务")).to_be_visible()
    expect(page.locator("table.task-list thead")).to_be_hidden()
    card = page.locator("table.task-list tbody tr", has_text=OVERDUE)
    expect(card.get_by_role("link", name=OVERDUE)).to_be_visible()
    expect(card).to_contain_text("逾期")
    assert page.evaluate(no_sideways_scroll)

    # when they open the task
    card.get_by_role("link", name=OVERDUE).click()
    expect(page).to_have_url(re.compile(rf"/tasks/{task.pk}/$"))

    # then the report form fits the screen and its button is reachable
    save = page.get_by_role("button", name="提交", exact=True)
    save.scroll_into_view_if_needed()
    expect(save).to_be_in_viewport()
    box = save.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert page.evaluate(no_sideways_scroll)

    # when they report from the phone
    page.get_by_label("完成百分比").fill("20")
    page.get_by_label("本期进展").fill("已完成首批派驻人员摸底。")
    page.get_by_label("存在问题").fill("派驻人员不足。")
    page.get_by_label("下步计划").fill("下月补齐。")
    save.click()

    # then it is saved
    expect(page.get_by_test_id("task-percent")).to_have_text("20%")
    expect(page.locator("#progress li.update").first).to_contain_text("已完成首批派驻人员摸底。")
    assert page.evaluate(no_sideways_scroll)


def test_a_refused_report_says_which_limit_it_met(page, browser_login, workload, staff_b, settings):
    # given a bureau that lets one person send one report a minute, and a co-owner's input sent
    settings.REPORTS_PER_USER_MINUTE = 1
    browser_login(staff_b)
    page.goto(f"/tasks/{workload.pk}/")
    page.get_by_label("配合工作情况").fill("已完成派驻医师岗前培训")
    page.get_by_role("button", name="提交", exact=True).click()
    expect(page.locator("#progress .update-note").first).to_have_text("已完成派驻医师岗前培训")

    # when they send more within the minute
    page.get_by_label("配合工作情况").fill("补充：培训考核全部合格")
    page.get_by_role("button", name="再次提交（补充）").click()

    # then the page says the quota's own words, not a generic "too many requests"
    expect(page.locator("main")).to_contain_text("每分钟最多提交 1 次进展填报")
    assert ProgressUpdate.objects.filter(task=workload).count() == 1
