"""Exports: the 督办台账 (.xlsx) and the 进展通报 (.docx), who may request and download them,
the progress JSON, the job's claim, failures, and the queries a ledger costs."""

import datetime
import decimal
import io
import re
import zipfile
from urllib.parse import quote

import docx
import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from docx.oxml.ns import qn

from core.roles import Role
from core.spreadsheets import Cells
from dashboards.exports import ledger, runner
from dashboards.models import Export, ExportKind, ExportStatus
from indicators.choices import Comparator
from indicators.models import Indicator, Reading
from tasks.choices import OwnerRole, TaskStatus
from tasks.models import Milestone, ProgressUpdate, Task, TaskOwner
from tests.conftest import make_task, make_user
from tests.dashboards.test_ledger import HEADER_ROW, HEADERS
from workplans.choices import PlanStatus
from workplans.models import Plan, Section

pytestmark = [pytest.mark.django_db]

# The ledger's columns under its title rows (tests/dashboards/test_ledger.py holds them).
LEDGER_HEADERS, LEDGER_HEADER_ROW = HEADERS, HEADER_ROW


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def today():
    return timezone.localdate()


def days(n):
    return today() + datetime.timedelta(days=n)


def note(task, author, text, *, status=None, percent=None, ago_minutes=0):
    ProgressUpdate(
        task=task,
        author=author,
        status=status or task.status,
        percent=task.percent if percent is None else percent,
        note=text,
        created_at=timezone.now() - datetime.timedelta(minutes=ago_minutes),
    ).save()


def indicator(task, name, comparator, target, unit="%", reading=None, as_of=None, reporter=None, plan=None):
    item = Indicator.objects.create(
        plan=plan or task.plan, task=task, name=name, comparator=comparator, target=decimal.Decimal(target), unit=unit
    )
    if reading is not None:
        Reading.objects.create(indicator=item, value=decimal.Decimal(reading), as_of=as_of, reporter=reporter)
    return item


@pytest.fixture
def leader_a(agency_a):
    return make_user("leader_a", Role.LEADER, agency_a, full_name="李处长")


@pytest.fixture
def world(commission, agency_a, agency_b, outside_agency, staff_a):
    """One plan of this year with two sections; tasks led by A, B and an outside agency; a
    second plan of this year; a draft and last year's plan (never exported for this year)."""
    year = today().year
    staff_a.full_name = "张三"
    staff_a.save()
    plan = Plan.objects.create(
        title=f"{year}年测试市卫生健康工作要点", year=year, issuer=commission, status=PlanStatus.ACTIVE
    )
    s1 = Section.objects.create(plan=plan, label="一", title="提升服务能力", order=0)
    s2 = Section.objects.create(plan=plan, label="二", title="织牢公共卫生网底", order=1)
    t1 = make_task(
        plan, s1, "1", lead=agency_a, co_owners=[agency_b], heading="推进城市医疗集团建设", due_on=days(-10), order=0
    )
    t1.responsible_users.add(staff_a)
    Milestone.objects.create(task=t1, due_on=days(-40), text="制定集团章程", done_on=days(-41), order=0)
    Milestone.objects.create(task=t1, due_on=days(-5), text="组建城市医疗集团", order=1)
    note(t1, staff_a, "已完成方案起草", status=TaskStatus.IN_PROGRESS, percent=40, ago_minutes=60)
    # No note: the one above stays the latest note.
    note(t1, staff_a, "", status=TaskStatus.IN_PROGRESS, percent=45, ago_minutes=30)
    indicator(t1, "预约诊疗率", Comparator.AT_LEAST, "60", reading="62.5", as_of=days(-3), reporter=staff_a)
    t2 = make_task(
        plan,
        s1,
        "2",
        lead=agency_b,
        heading="改善就医体验",
        due_on=days(100),
        order=1,
        status=TaskStatus.DONE,
        percent=100,
    )
    indicator(t2, "住院患者死亡率", Comparator.AT_MOST, "7", reading="7.5", as_of=days(-2), reporter=staff_a)
    t3 = make_task(
        plan, s2, "1", lead=outside_agency, co_owners=[agency_a], heading="完善传染病监测预警", due_on=days(-1), order=2
    )
    indicator(t3, "疫苗接种率", Comparator.AT_LEAST, "95")
    t4 = make_task(plan, s2, "2", lead=outside_agency, heading="做好医保支付衔接", due_on=days(30), order=3)
    plan_wide = indicator(None, "人均预期寿命", Comparator.AT_LEAST, "80", unit="岁", plan=plan)
    second = Plan.objects.create(
        title=f"{year}年基层卫生工作要点", year=year, issuer=commission, status=PlanStatus.ACTIVE
    )
    u1 = make_task(
        second,
        None,
        "1",
        lead=agency_a,
        heading="推进家庭医生签约",
        due_on=days(60),
        percent=70,
        status=TaskStatus.IN_PROGRESS,
    )
    draft = Plan.objects.create(title=f"{year}年草稿计划", year=year, issuer=commission)
    make_task(draft, None, "1", lead=agency_a, heading="草稿中的任务", due_on=days(60))
    old = Plan.objects.create(title=f"{year - 1}年工作要点", year=year - 1, issuer=commission, status=PlanStatus.ACTIVE)
    make_task(old, None, "1", lead=agency_a, heading="去年的任务", due_on=datetime.date(year - 1, 12, 31))
    outside_plan = Plan.objects.create(
        title=f"{year}年医保工作要点", year=year, issuer=outside_agency, status=PlanStatus.ACTIVE
    )
    make_task(outside_plan, None, "1", lead=outside_agency, heading="医保的任务", due_on=days(60))
    return {
        "plan": plan,
        "second": second,
        "draft": draft,
        "old": old,
        "outside_plan": outside_plan,
        "t1": t1,
        "t2": t2,
        "t3": t3,
        "t4": t4,
        "u1": u1,
        "plan_wide": plan_wide,
        "year": year,
    }


def request(client, capture, name, **data):
    with capture(execute=True):
        return client.post(reverse(f"dashboards:{name}"), data)


def ledger_rows(export):
    """The task rows of the ledger sheet by header (the section rows between them left
    out, each task row given its section as "部分"), and the workbook."""
    book = openpyxl.load_workbook(export.file.path)
    sheet = book["督办台账"]
    rows = list(sheet.iter_rows(min_row=LEDGER_HEADER_ROW, values_only=True))
    assert list(rows[0]) == LEDGER_HEADERS
    found, section = [], None
    for row in rows[1:]:
        if isinstance(row[0], int):
            found.append({**dict(zip(LEDGER_HEADERS, row, strict=True)), "部分": section})
        else:
            section = row[0]
    return found, book


def heading(row) -> str:
    return row["任务"].split(". ", 1)[-1]


def by_heading(rows):
    return {heading(row): row for row in rows}


# --- The ledger ---------------------------------------------------------------------------


def test_it_exports_a_leaders_ledger_of_their_scope_only(client, leader_a, world, django_capture_on_commit_callbacks):
    client.force_login(leader_a)
    response = request(client, django_capture_on_commit_callbacks, "export_ledger", year=str(world["year"]))
    export = Export.objects.get()
    assert response.status_code == 303
    assert response["Location"] == reverse("dashboards:export_status", args=[export.pk])
    assert (export.kind, export.requested_by, export.plan, export.year) == (
        ExportKind.LEDGER,
        leader_a,
        None,
        world["year"],
    )
    assert export.status == ExportStatus.DONE and export.done_rows == export.total_rows == 3
    assert export.filename == f"{world['year']}年督办台账-医政医管处-{today():%Y%m%d}.xlsx"

    rows, book = ledger_rows(export)
    # A leads t1 and u1 and co-owns t3; B's, the outside agency's, the draft's and last year's are not in scope.
    # Plans by title (基层… sorts before 测试…), then section, then order; numbered through the sheet.
    assert [heading(row) for row in rows] == ["推进家庭医生签约", "推进城市医疗集团建设", "完善传染病监测预警"]
    assert [row["序号"] for row in rows] == [1, 2, 3]
    t1 = by_heading(rows)["推进城市医疗集团建设"]
    assert t1["部分"] == f"{world['plan'].title} / 一 提升服务能力"
    assert t1["任务"] == "1. 推进城市医疗集团建设"
    assert (t1["牵头单位"], t1["配合单位"], t1["责任人"]) == ("医政医管处", "疾病预防控制处", "张三")
    assert (t1["状态"], t1["进度%"]) == ("进行中\n已逾期 10 天", 45)
    assert (t1["原定时限"].date(), t1["现时限"].date()) == (days(-10), days(-10))
    # No period report: 本期进展 is the latest progress note.
    assert (t1["本期进展"], t1["存在问题"], t1["下步计划"]) == ("已完成方案起草", None, None)
    assert t1["时间节点"] == (
        f"{days(-40):%Y-%m-%d} 制定集团章程（已完成）\n{days(-5):%Y-%m-%d} 组建城市医疗集团（未完成）"
    )
    assert t1["指标"] == f"预约诊疗率 不低于 60% 62.5%（{days(-3):%Y-%m-%d}，达标）"
    t3 = by_heading(rows)["完善传染病监测预警"]
    assert (t3["部分"], t3["牵头单位"], t3["配合单位"]) == (
        f"{world['plan'].title} / 二 织牢公共卫生网底",
        "测试市医疗保障局",
        "医政医管处",
    )
    assert (t3["状态"], t3["进度%"], t3["责任人"], t3["本期进展"]) == ("未开始\n已逾期 1 天", 0, None, None)
    assert t3["指标"] == "疫苗接种率 不低于 95% —（未填报）"
    u1 = by_heading(rows)["推进家庭医生签约"]
    assert (u1["部分"], u1["时间节点"]) == (world["second"].title, None)

    sheet = book["督办台账"]
    assert sheet["A1"].value == f"{world['year']}年度工作要点督办台账"
    assert sheet["A2"].value == "单位范围：医政医管处"
    assert sheet.freeze_panes == "C6"
    # The header, then a group row per plan and section (the second plan's, 一 and 二 of the first), three tasks.
    assert sheet.auto_filter.ref == "A5:O11"
    assert sheet["A5"].font.b and sheet["B7"].alignment.wrap_text
    assert sheet.column_dimensions["B"].width == 23
    notes = dict(book["说明"].iter_rows(values_only=True))
    assert notes["申请人"] == "李处长（医政医管处）"
    assert notes["范围"] == f"医政医管处；{world['year']}年度全部已发布计划"
    assert notes["任务数"] == 3
    assert notes["导出时间"].startswith(f"{today():%Y-%m-%d}")


def test_it_exports_everything_for_an_admin(client, admin_user, world, django_capture_on_commit_callbacks):
    client.force_login(admin_user)
    request(client, django_capture_on_commit_callbacks, "export_ledger", year=str(world["year"]))
    export = Export.objects.get()
    rows, book = ledger_rows(export)
    expected = Task.objects.filter(plan__year=world["year"]).exclude(plan__status=PlanStatus.DRAFT)
    assert len(rows) == expected.count() == 6
    assert {heading(row) for row in rows} == set(expected.values_list("heading", flat=True))
    # Plan order: plan (by title), then section, then the task's order.
    assert [heading(row) for row in rows if row["部分"].startswith(world["plan"].title)] == [
        "推进城市医疗集团建设",
        "改善就医体验",
        "完善传染病监测预警",
        "做好医保支付衔接",
    ]
    t2 = by_heading(rows)["改善就医体验"]
    assert (t2["状态"], t2["进度%"]) == ("已完成", 100)
    assert t2["指标"] == f"住院患者死亡率 不高于 7% 7.5%（{days(-2):%Y-%m-%d}，未达标）"
    assert book["督办台账"]["A2"].value == "单位范围：全部单位"
    assert export.filename == f"{world['year']}年督办台账-全部单位-{today():%Y%m%d}.xlsx"
    assert dict(book["说明"].iter_rows(values_only=True))["范围"].startswith("全部单位")


def test_it_filters_the_ledger_by_plan(client, leader, world, django_capture_on_commit_callbacks):
    client.force_login(leader)
    request(client, django_capture_on_commit_callbacks, "export_ledger", plan=str(world["plan"].pk))
    export = Export.objects.get()
    assert (export.plan, export.year) == (world["plan"], world["year"])
    rows, book = ledger_rows(export)
    # The commission's leader oversees A and B: t1, t2 and t3 (A co-owns it), not t4.
    assert [heading(row) for row in rows] == ["推进城市医疗集团建设", "改善就医体验", "完善传染病监测预警"]
    # One plan: its title heads the sheet, its group rows name only the sections.
    assert book["督办台账"]["A1"].value == f"{world['plan'].title}督办台账"
    assert rows[0]["部分"] == "一 提升服务能力"
    assert export.filename == f"{world['plan'].title}督办台账-市卫生健康委-{today():%Y%m%d}.xlsx"
    assert "计划：" + world["plan"].title in dict(book["说明"].iter_rows(values_only=True))["范围"]


def test_it_writes_formula_like_text_as_text(client, leader_a, world, staff_a, django_capture_on_commit_callbacks):
    plan = world["second"]
    heading = '=HYPERLINK("http://x","y")'
    make_task(
        plan,
        None,
        "2",
        lead=world["t1"].task_owners.get(role=OwnerRole.LEAD).agency,
        heading=heading,
        due_on=days(60),
        order=1,
    )
    leads = {"+": "+1 完成培训", "-": "-2 未到位", "@": "@SUM(A1:A9)", "\t": "\t=1+1"}
    for n, text in enumerate(leads.values(), start=3):
        task = make_task(plan, None, str(n), lead=staff_a.agency, heading=f"任务{n}", due_on=days(60), order=n)
        note(task, staff_a, text, status=TaskStatus.IN_PROGRESS, percent=10)
    Section.objects.filter(plan=world["plan"], label="一").update(title="=1+2")
    client.force_login(leader_a)
    request(client, django_capture_on_commit_callbacks, "export_ledger", year=str(world["year"]))
    export = Export.objects.get()

    book = openpyxl.load_workbook(export.file.path)
    sheet = book["督办台账"]
    cells = {cell.value: cell for row in sheet.iter_rows(min_row=2) for cell in row if isinstance(cell.value, str)}
    task_cell, section_cell = f"2. {heading}", f"{world['plan'].title} / 一 =1+2"
    for text in [task_cell, section_cell, *leads.values()]:
        assert cells[text].data_type == "s", text
    assert cells["+1 完成培训"].quotePrefix and cells["@SUM(A1:A9)"].quotePrefix and not cells["3. 任务3"].quotePrefix
    with zipfile.ZipFile(export.file.path) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
        others = [archive.read(f"xl/worksheets/sheet{n}.xml").decode() for n in (2, 3)]  # 督办单, 说明
    assert not re.search(r"<f[\s>]", xml) and not any(re.search(r"<f[\s>]", other) for other in others)
    assert "HYPERLINK" in xml  # present, as a string


def test_it_forces_text_on_every_text_cell():
    sheet = openpyxl.Workbook(write_only=True).create_sheet("x")
    cells = Cells(sheet)
    for text in ["=1+1", "+1", "-1", "@A1", "\t=1", "\r=1", "普通文字"]:
        cell = cells.value(text)
        assert (cell.data_type, cell.value) == ("s", text)
    assert cells.value("=1").quotePrefix and not cells.value("普通").quotePrefix
    assert cells.value("a\x00b\x1fc").value == "abc"  # characters xlsx cannot hold are dropped


# --- The bulletin -------------------------------------------------------------------------


def table_rows(table):
    return [[cell.text for cell in row.cells] for row in table.rows]


def test_it_writes_the_bulletin(client, leader, world, django_capture_on_commit_callbacks):
    client.force_login(leader)
    request(client, django_capture_on_commit_callbacks, "export_bulletin", year=str(world["year"]))
    export = Export.objects.get()
    assert export.status == ExportStatus.DONE, export.error
    title = f"{today().year}年{today().month}月工作要点推进情况通报"
    assert export.filename == f"{title}-市卫生健康委-{today():%Y%m%d}.docx"

    document = docx.Document(export.file.path)
    paragraphs = [p.text for p in document.paragraphs if p.text]
    assert paragraphs[0] == title
    assert document.paragraphs[0].style.name == "Title"
    assert paragraphs[2] == f"测试市卫生健康委员会　　{today().year}年{today().month}月{today().day}日"
    assert "一、总体情况" in paragraphs and "二、逾期未完成任务（2项）" in paragraphs
    assert "三、量化指标完成情况（3项）" in paragraphs
    summary = next(p for p in paragraphs if p.startswith("截至"))
    assert "纳入督办的工作任务共4项" in summary and "逾期未完成2项" in summary

    figures, overdue, indicators = document.tables
    values = dict(table_rows(figures)[1:])
    # In scope: t1 (45%, overdue), t2 (done), t3 (0%, overdue), u1 (70%).
    assert values["任务总数"] == "4项"
    assert (values["未开始"], values["进行中"], values["已完成"], values["滞后"], values["暂缓"]) == (
        "1项",
        "2项",
        "1项",
        "0项",
        "0项",
    )
    assert values["平均完成进度"] == "53.8%"  # (45 + 100 + 0 + 70) / 4 = 53.75
    assert values["逾期未完成"] == "2项" and values["风险（红）"] == "2项"
    assert (values["量化指标"], values["指标已达标"], values["指标未达标"], values["指标未填报"]) == (
        "3项",
        "1项",
        "1项",
        "1项",
    )
    # Reported this cycle: t1 only (notes today); owed: t3 and u1; t2 is done and quiet.
    assert (values["本期应报送"], values["本期已报送"], values["本期报送率"]) == ("3项", "1项", "33.3%")

    rows = table_rows(overdue)
    assert rows[0] == ["序号", "任务", "牵头单位", "完成时限", "逾期天数", "进度", "最新进展"]
    assert rows[1:] == [
        ["1", "1. 推进城市医疗集团建设", "医政医管处", f"{days(-10):%Y-%m-%d}", "10", "45%", "已完成方案起草"],
        ["2", "1. 完善传染病监测预警", "测试市医疗保障局", f"{days(-1):%Y-%m-%d}", "1", "0%", ""],
    ]
    rows = table_rows(indicators)
    assert rows[0] == ["指标", "目标", "最新值", "日期", "达标情况"]
    assert rows[1:] == [
        ["预约诊疗率", "不低于 60%", "62.5%", f"{days(-3):%Y-%m-%d}", "达标"],
        ["住院患者死亡率", "不高于 7%", "7.5%", f"{days(-2):%Y-%m-%d}", "未达标"],
        ["疫苗接种率", "不低于 95%", "—", "—", "未填报"],
    ]

    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    normal = document.styles["Normal"]
    assert normal.font.name == "宋体"
    assert normal.element.rPr.rFonts.get(qn("w:eastAsia")) == "宋体"


def test_an_admins_bulletin_of_a_plan_has_the_plan_wide_indicators(
    client, admin_user, world, django_capture_on_commit_callbacks
):
    client.force_login(admin_user)
    request(
        client,
        django_capture_on_commit_callbacks,
        "export_bulletin",
        plan=str(world["plan"].pk),
        year=str(world["year"]),
    )
    document = docx.Document(Export.objects.get().file.path)
    figures, _overdue, indicators = document.tables
    assert dict(table_rows(figures)[1:])["任务总数"] == "4项"
    assert [row[0] for row in table_rows(indicators)[1:]] == [
        "预约诊疗率",
        "住院患者死亡率",
        "疫苗接种率",
        "人均预期寿命",
    ]


def test_a_bulletin_without_overdue_tasks_or_indicators_says_so(
    client, leader, commission, agency_a, django_capture_on_commit_callbacks
):
    plan = Plan.objects.create(title="计划", year=today().year, issuer=commission, status=PlanStatus.ACTIVE)
    make_task(plan, None, "1", lead=agency_a, due_on=days(30))
    client.force_login(leader)
    request(client, django_capture_on_commit_callbacks, "export_bulletin", plan=str(plan.pk))
    document = docx.Document(Export.objects.get().file.path)
    texts = [p.text for p in document.paragraphs]
    assert "截至目前，无逾期未完成任务。" in texts and "暂无量化指标。" in texts
    assert len(document.tables) == 1


# --- Who may export -----------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["staff_a", "auditor"])
@pytest.mark.parametrize("name", ["export_ledger", "export_bulletin"])
def test_it_refuses_staff_and_auditors(client, request, persona, name, world, django_capture_on_commit_callbacks):
    client.force_login(request.getfixturevalue(persona))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse(f"dashboards:{name}"), {"year": str(world["year"])})
    assert response.status_code == 403
    assert not Export.objects.exists()


def test_it_sends_anonymous_users_to_log_in(client, world):
    response = client.post(reverse("dashboards:export_ledger"), {"year": str(world["year"])})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not Export.objects.exists()


@pytest.fixture
def leaders_export(client, leader, world, django_capture_on_commit_callbacks):
    client.force_login(leader)
    request(client, django_capture_on_commit_callbacks, "export_ledger", year=str(world["year"]))
    client.logout()
    return Export.objects.get()


@pytest.mark.parametrize("page", ["export_status", "export_progress", "export_download"])
def test_only_the_requester_or_an_admin_sees_an_export(
    client, page, leaders_export, leader, leader_a, admin_user, staff_a, auditor
):
    url = reverse(f"dashboards:{page}", args=[leaders_export.pk])
    for user, expected in [(leader_a, 403), (staff_a, 403), (auditor, 403), (leader, 200), (admin_user, 200)]:
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == expected, (user, page)
        if expected == 200 and page == "export_download":
            b"".join(response.streaming_content)


def test_a_plan_outside_the_leaders_scope_is_refused(client, leader_a, world, django_capture_on_commit_callbacks):
    client.force_login(leader_a)
    for plan in (world["outside_plan"], world["draft"]):
        response = request(client, django_capture_on_commit_callbacks, "export_ledger", plan=str(plan.pk))
        assert response.status_code == 400
        assert "所选计划不存在或不在您的权限范围内。" in response.content.decode()
    assert not Export.objects.exists()


@pytest.mark.parametrize(
    "data, message",
    [
        ({"year": "1999"}, "年度应为 2000–2100 之间的四位数字。"),
        ({"year": "2026x"}, "年度应为 2000–2100 之间的四位数字。"),
        ({"plan": "abc"}, "所选计划不存在或不在您的权限范围内。"),
        ({"plan": "999999"}, "所选计划不存在或不在您的权限范围内。"),
    ],
)
def test_bad_input_changes_nothing(client, leader, world, data, message, django_capture_on_commit_callbacks):
    client.force_login(leader)
    response = request(client, django_capture_on_commit_callbacks, "export_bulletin", **data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Export.objects.exists()


def test_a_plan_of_another_year_is_refused(client, leader, world, django_capture_on_commit_callbacks):
    client.force_login(leader)
    response = request(
        client,
        django_capture_on_commit_callbacks,
        "export_ledger",
        plan=str(world["plan"].pk),
        year=str(world["year"] - 1),
    )
    assert response.status_code == 400
    assert f"所选计划属于{world['year']}年度" in response.content.decode()
    assert not Export.objects.exists()


def test_exports_are_posted_not_fetched(client, leader, world):
    client.force_login(leader)
    # The access policy allows exports by POST only: a GET is refused before the view.
    assert client.get(reverse("dashboards:export_ledger")).status_code == 403
    assert not Export.objects.exists()


# --- Status, progress, download -----------------------------------------------------------


def test_a_small_export_is_ready_when_the_status_page_opens(client, leaders_export, leader):
    client.force_login(leader)
    response = client.get(reverse("dashboards:export_status", args=[leaders_export.pk]))
    page = response.content.decode()
    download = reverse("dashboards:export_download", args=[leaders_export.pk])
    assert f'href="{download}"' in page and 'data-status="done"' in page
    assert "js/job_status.js" in page and "<script>" not in page  # no inline script


def test_the_progress_json(client, leaders_export, leader, world):
    client.force_login(leader)
    data = client.get(reverse("dashboards:export_progress", args=[leaders_export.pk])).json()
    assert data == {
        "status": "done",
        "status_label": "已完成",
        "percent": 100,
        "done_rows": 4,
        "total_rows": 4,
        "next": reverse("dashboards:export_download", args=[leaders_export.pk]),
        "error": "",
    }
    waiting = Export.objects.create(
        kind=ExportKind.BULLETIN,
        requested_by=leader,
        year=world["year"],
        total_rows=8,
        done_rows=2,
        status=ExportStatus.RUNNING,
    )
    data = client.get(reverse("dashboards:export_progress", args=[waiting.pk])).json()
    assert (data["status"], data["percent"], data["done_rows"], data["total_rows"], data["next"]) == (
        "running",
        25,
        2,
        8,
        None,
    )
    # Not done yet: the download sends you back to the status page.
    response = client.get(reverse("dashboards:export_download", args=[waiting.pk]))
    assert response.status_code == 303 and response["Location"] == reverse(
        "dashboards:export_status", args=[waiting.pk]
    )


def test_a_large_export_runs_as_a_job_with_a_progress_bar(
    client, leader, world, settings, monkeypatch, django_capture_on_commit_callbacks
):
    from dashboards import jobs

    settings.EXPORT_INLINE_MAX_ROWS = 2
    queued = []
    monkeypatch.setattr(jobs.build_export, "delay", lambda export_id: queued.append(export_id))
    client.force_login(leader)
    request(client, django_capture_on_commit_callbacks, "export_ledger", year=str(world["year"]))
    export = Export.objects.get()
    assert queued == [export.pk]
    assert (export.status, export.total_rows) == (ExportStatus.QUEUED, 4)
    page = client.get(reverse("dashboards:export_status", args=[export.pk])).content.decode()
    progress_url = reverse("dashboards:export_progress", args=[export.pk])
    assert f'data-progress-url="{progress_url}"' in page and 'data-status="queued"' in page
    # The download link's paragraph is there, hidden until the file is ready.
    download = re.search(r'<p id="export-download"[^>]*>', page)
    assert download and re.search(r"\shidden[\s>]", download[0])

    # Posted again while it waits (a double click): the same export, not a second one.
    request(client, django_capture_on_commit_callbacks, "export_ledger", year=str(world["year"]))
    assert Export.objects.get() == export and queued == [export.pk]

    jobs.build_export(export.pk)  # what the worker does
    export.refresh_from_db()
    assert export.status == ExportStatus.DONE and export.percent == 100


def test_the_download_is_an_attachment_with_its_chinese_name(
    client, leader_a, world, django_capture_on_commit_callbacks
):
    client.force_login(leader_a)
    request(client, django_capture_on_commit_callbacks, "export_ledger", year=str(world["year"]))
    export = Export.objects.get()
    response = client.get(reverse("dashboards:export_download", args=[export.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    name = f"{world['year']}年督办台账-医政医管处-{today():%Y%m%d}.xlsx"
    assert f"filename*=UTF-8''{quote(name)}" in response["Content-Disposition"]
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    body = b"".join(response.streaming_content)
    # Four title rows, the header, a group row for each of the two plans and one more section, three tasks.
    assert openpyxl.load_workbook(io.BytesIO(body))["督办台账"].max_row == 11

    request(client, django_capture_on_commit_callbacks, "export_bulletin", year=str(world["year"]))
    bulletin = Export.objects.get(kind=ExportKind.BULLETIN)
    response = client.get(reverse("dashboards:export_download", args=[bulletin.pk]))
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert docx.Document(io.BytesIO(b"".join(response.streaming_content))).paragraphs[0].text.endswith("通报")


# --- The job ------------------------------------------------------------------------------


def test_a_job_run_twice_builds_once(leader, world, monkeypatch):
    export = Export.objects.create(kind=ExportKind.LEDGER, requested_by=leader, year=world["year"])
    calls = []
    real = runner.BUILDERS[ExportKind.LEDGER]
    monkeypatch.setitem(runner.BUILDERS, ExportKind.LEDGER, lambda *args: calls.append(1) or real(*args))
    assert runner.run_export(export.pk) == "done"
    export.refresh_from_db()
    stored, finished = export.file.name, export.finished_at
    assert runner.run_export(export.pk) == "skipped"
    export.refresh_from_db()
    assert calls == [1] and (export.file.name, export.finished_at) == (stored, finished)
    assert runner.run_export(987654) == "skipped"  # gone: nothing to do


def test_a_running_export_is_not_taken_over(leader, world):
    export = Export.objects.create(
        kind=ExportKind.LEDGER, requested_by=leader, year=world["year"], status=ExportStatus.RUNNING
    )
    assert runner.run_export(export.pk) == "skipped"
    # ... unless its worker is long gone.
    Export.objects.filter(pk=export.pk).update(created_at=timezone.now() - datetime.timedelta(hours=1))
    assert runner.run_export(export.pk) == "done"


def test_a_failure_marks_the_export_failed_in_chinese(
    client, leader, world, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    def broken(*args):
        raise RuntimeError("boom")

    monkeypatch.setitem(runner.BUILDERS, ExportKind.LEDGER, broken)
    client.force_login(leader)
    request(client, django_capture_on_commit_callbacks, "export_ledger", year=str(world["year"]))
    export = Export.objects.get()
    assert export.status == ExportStatus.FAILED and not export.file
    assert export.error == runner.failed_unexpectedly() and export.error.startswith("导出失败：")
    assert "boom" in caplog.text  # the trace is logged, not shown
    data = client.get(reverse("dashboards:export_progress", args=[export.pk])).json()
    assert (data["status"], data["error"], data["next"]) == ("failed", export.error, None)
    page = client.get(reverse("dashboards:export_status", args=[export.pk])).content.decode()
    assert export.error in page


def test_a_requester_who_lost_the_role_gets_a_failed_export(leader, world):
    export = Export.objects.create(kind=ExportKind.BULLETIN, requested_by=leader, year=world["year"])
    leader.role = Role.STAFF
    leader.save()
    assert runner.run_export(export.pk) == "failed"
    export.refresh_from_db()
    assert export.error == "导出失败：申请人已无导出权限。"


def test_progress_is_written_after_every_chunk(leader, world, monkeypatch):
    monkeypatch.setattr(ledger, "CHUNK_ROWS", 2)
    seen = []
    real = runner._progress_writer

    def spy(export_id):
        write = real(export_id)
        return lambda done, total: seen.append((done, total)) or write(done, total)

    monkeypatch.setattr(runner, "_progress_writer", spy)
    export = Export.objects.create(kind=ExportKind.LEDGER, requested_by=leader, year=world["year"])
    assert runner.run_export(export.pk) == "done"
    assert seen == [(0, 4), (2, 4), (4, 4)]
    rows, _book = ledger_rows(Export.objects.get(pk=export.pk))
    assert len(rows) == 4


# --- Queries ------------------------------------------------------------------------------


def many_tasks(plan, agency, author, count):
    """`count` tasks with owners, a 责任人, two milestones, an indicator with two readings and a note."""
    tasks = Task.objects.bulk_create(
        Task(
            plan=plan,
            number=str(n),
            heading=f"批量任务{n}",
            due_on=days(5 - n),
            order=n,
            percent=n % 100,
            status=TaskStatus.IN_PROGRESS,
        )
        for n in range(1, count + 1)
    )
    TaskOwner.objects.bulk_create(TaskOwner(task=t, agency=agency, role=OwnerRole.LEAD) for t in tasks)
    Task.responsible_users.through.objects.bulk_create(
        Task.responsible_users.through(task_id=t.pk, user_id=author.pk) for t in tasks
    )
    Milestone.objects.bulk_create(
        Milestone(task=t, due_on=days(i * 10), text=f"节点{i}", order=i) for t in tasks for i in (1, 2)
    )
    indicators = Indicator.objects.bulk_create(
        Indicator(plan=plan, task=t, name="覆盖率", target=decimal.Decimal(90), unit="%") for t in tasks
    )
    Reading.objects.bulk_create(
        Reading(plan=plan, indicator=i, value=decimal.Decimal(v), as_of=days(-d), reporter=author)
        for i in indicators
        for v, d in ((80, 5), (91, 1))
    )
    ProgressUpdate.objects.bulk_create(
        ProgressUpdate(task=t, author=author, status=TaskStatus.IN_PROGRESS, percent=t.percent, note=f"说明{t.pk}")
        for t in tasks
    )


@pytest.mark.parametrize("kind", [ExportKind.LEDGER, ExportKind.BULLETIN])
def test_the_queries_do_not_grow_with_the_tasks(leader, commission, agency_a, staff_a, kind):
    counts = {}
    for size in (10, 100):
        plan = Plan.objects.create(title=f"计划{size}", year=today().year, issuer=commission, status=PlanStatus.ACTIVE)
        many_tasks(plan, agency_a, staff_a, size)
        export = Export.objects.create(kind=kind, requested_by=leader, plan=plan, year=plan.year)
        with CaptureQueriesContext(connection) as queries:
            assert runner.run_export(export.pk) == "done"
        counts[size] = len(queries)
        if kind == ExportKind.LEDGER:
            rows, _book = ledger_rows(Export.objects.get(pk=export.pk))
            assert len(rows) == size
            assert rows[0]["指标"] == f"覆盖率 不低于 90% 91%（{days(-1):%Y-%m-%d}，达标）"
            assert rows[0]["本期进展"].startswith("说明")
    assert counts[10] == counts[100], counts
    # The ledger reads two more: the tasks' period reports and the scope's agency names for its title rows.
    assert counts[100] <= (16 if kind == ExportKind.LEDGER else 14), counts


def test_a_delayed_and_closed_out_task_shows_its_three_dates_and_status(world):
    from dashboards.exports.ledger import _ledger_chunk, ledger_row

    # given a task whose due date an approved delay moved, closed out (已销号)
    task = world["t1"]
    Task.objects.filter(pk=task.pk).update(due_on=days(20), status="closed", percent=100, completed_on=days(-2))

    # when
    (loaded,) = _ledger_chunk([task.pk])
    row = ledger_row(loaded, 1, today())

    # then: the baseline stays as imported, the current date is the approved one
    assert (row["baseline_due"], row["due"], row["due_changed"]) == (days(-10), days(20), True)
    assert (row["status"], row["risk"]) == (f"已销号\n{days(-2):%Y-%m-%d}", "done")
