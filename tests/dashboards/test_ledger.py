"""The 督办台账 as it prints and works in Excel: its columns, title rows and legend, the risk
fills, 宋体 of 9 points or more, A3 landscape one page wide with the header on every page,
the report texts, rate units, one sheet per lead agency, the monthly columns, the options'
checks, the queries it costs, and (where LibreOffice is installed) the PDF it prints to."""

import datetime
import decimal
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core import programs
from dashboards.exports import ledger, runner
from dashboards.exports.base import ExportRefused
from dashboards.models import Export, ExportKind, ExportStatus
from indicators.choices import Comparator
from indicators.models import Indicator, Reading
from supervision.choices import ReportState
from supervision.models import PeriodReport
from tasks.choices import OwnerRole, TaskStatus
from tasks.models import Milestone, ProgressUpdate, Task, TaskOwner
from tests.conftest import make_task
from workplans.choices import PlanStatus
from workplans.models import Plan, Section

pytestmark = [pytest.mark.django_db]

HEADERS = [
    "序号",
    "任务",
    "牵头单位",
    "配合单位",
    "责任人",
    "时间节点",
    "本期进展",
    "存在问题",
    "下步计划",
    "状态",
    "进度%",
    "原定时限",
    "现时限",
    "指标",
    "督办情况",
]
HEADER_ROW = 5
# Mid-June of the plan's year: 45 % of the year gone, so below 25 % is behind pace (amber).
TODAY = datetime.date(2026, 6, 15)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True)
def on_a_fixed_day():
    with time_machine.travel(datetime.datetime(2026, 6, 15, 2, 0, tzinfo=datetime.UTC), tick=False):
        yield


def days(n):
    return TODAY + datetime.timedelta(days=n)


def report(task, author, start, end, state, progress, problems="", next_steps=""):
    return PeriodReport.objects.create(
        task=task,
        period_start=start,
        period_end=end,
        period_label=f"{start:%Y年%m月}",
        due_on=end,
        state=state,
        author=author,
        progress=progress,
        problems=problems,
        next_steps=next_steps,
        submitted_at=timezone.now() if state != ReportState.DRAFT else None,
    )


def update(task, author, note, when):
    ProgressUpdate(
        task=task, author=author, status=task.status, percent=task.percent, note=note, created_at=when
    ).save()


@pytest.fixture
def world(commission, agency_a, agency_b, staff_a):
    """A plan of 2026 with two sections: a red, an amber, a green and a done task, one with a
    delayed due date, reports in several states, and a rate indicator."""
    staff_a.full_name = "张三"
    staff_a.save()
    plan = Plan.objects.create(
        title="2026年测试市卫生健康工作要点", year=2026, issuer=commission, status=PlanStatus.ACTIVE
    )
    one = Section.objects.create(plan=plan, label="一", title="提升服务能力", order=0)
    two = Section.objects.create(plan=plan, label="二", title="织牢公共卫生网底", order=1)
    red = make_task(
        plan, one, "1", lead=agency_a, co_owners=[agency_b], heading="推进城市医疗集团建设", due_on=days(-10), order=0
    )
    red.responsible_users.add(staff_a)
    Milestone.objects.create(task=red, due_on=days(-40), text="制定集团章程", done_on=days(-41), order=0)
    # This month's report submitted: its three texts are the row's.
    report(
        red,
        staff_a,
        datetime.date(2026, 6, 1),
        datetime.date(2026, 6, 30),
        ReportState.PENDING_REVIEW,
        "六月进展",
        "经费不足",
        "七月完成",
    )
    report(red, staff_a, datetime.date(2026, 5, 1), datetime.date(2026, 5, 31), ReportState.ACCEPTED, "五月进展")
    amber = make_task(
        plan,
        one,
        "2",
        lead=agency_b,
        heading="改善就医体验",
        due_on=days(100),
        order=1,
        percent=10,
        status=TaskStatus.IN_PROGRESS,
    )
    # This month's still a draft: the last accepted one is shown, not the draft.
    report(amber, staff_a, datetime.date(2026, 6, 1), datetime.date(2026, 6, 30), ReportState.DRAFT, "草稿未提交")
    report(
        amber,
        staff_a,
        datetime.date(2026, 4, 1),
        datetime.date(2026, 4, 30),
        ReportState.ACCEPTED,
        "四月进展",
        "无",
        "继续推进",
    )
    Indicator.objects.create(
        plan=plan,
        task=amber,
        name="孕产妇死亡率",
        comparator=Comparator.AT_MOST,
        target=decimal.Decimal("10"),
        unit="1/10万",
    )
    Reading.objects.create(
        indicator=Indicator.objects.get(task=amber), value=decimal.Decimal("8"), as_of=days(-3), reporter=staff_a
    )
    green = make_task(
        plan,
        two,
        "1",
        lead=agency_a,
        heading="完善传染病监测预警",
        due_on=days(150),
        baseline_due_on=days(60),
        order=2,
        percent=60,
        status=TaskStatus.IN_PROGRESS,
    )
    # No report at all: the latest progress note.
    update(green, staff_a, "旧说明", timezone.now() - datetime.timedelta(days=40))
    update(green, staff_a, "最新说明", timezone.now() - datetime.timedelta(days=2))
    done = make_task(
        plan,
        two,
        "2",
        lead=agency_b,
        heading="做好医保支付衔接",
        due_on=days(30),
        order=3,
        percent=100,
        status=TaskStatus.DONE,
        completed_on=days(-5),
    )
    return {"plan": plan, "red": red, "amber": amber, "green": green, "done": done}


def build(user, plan=None, year=2026, **options) -> Export:
    export = Export.objects.create(kind=ExportKind.LEDGER, requested_by=user, plan=plan, year=year, options=options)
    assert runner.run_export(export.pk) == "done", Export.objects.get(pk=export.pk).error
    return Export.objects.get(pk=export.pk)


def task_rows(sheet, headers=HEADERS) -> list[dict]:
    """The rows under the header that are tasks (a number in 序号), by header."""
    rows = list(sheet.iter_rows(min_row=HEADER_ROW, values_only=True))
    assert list(rows[0]) == headers
    return [dict(zip(headers, row, strict=True)) for row in rows[1:] if isinstance(row[0], int)]


def by_task(rows):
    return {row["任务"]: row for row in rows}


# --- Columns, title rows, legend ------------------------------------------------------------


def test_it_writes_title_rows_legend_and_the_columns_in_order(leader, world):
    # when
    export = build(leader, plan=world["plan"])

    # then
    sheet = openpyxl.load_workbook(export.file.path)["督办台账"]
    assert sheet["A1"].value == "2026年测试市卫生健康工作要点督办台账"
    assert sheet["A2"].value == "单位范围：测试市卫生健康委员会、医政医管处、疾病预防控制处"
    assert sheet["A3"].value == "截至：2026年6月15日"
    assert [sheet.cell(4, n).value for n in range(1, 6)] == [
        "图例",
        "红：已逾期或标记滞后",
        "黄：临近时限进度不足或落后时间进度",
        "绿：正常推进",
        "灰：已完成",
    ]
    assert {"A1:O1", "A2:O2", "A3:O3"} <= {str(r) for r in sheet.merged_cells.ranges}
    values = list(sheet.iter_rows(min_row=HEADER_ROW + 1, values_only=True))
    # A group row per section, then its tasks, numbered through the sheet.
    assert [row[0] for row in values] == ["一 提升服务能力", 1, 2, "二 织牢公共卫生网底", 3, 4]
    rows = by_task(task_rows(sheet))
    red = rows["1. 推进城市医疗集团建设"]
    assert (red["牵头单位"], red["配合单位"], red["责任人"]) == ("医政医管处", "疾病预防控制处", "张三")
    assert red["时间节点"] == f"{days(-40):%Y-%m-%d} 制定集团章程（已完成）"
    assert (red["状态"], red["进度%"]) == ("未开始\n已逾期 10 天", 0)
    assert rows["2. 做好医保支付衔接"]["状态"] == f"已完成\n{days(-5):%Y-%m-%d}"


def test_the_three_report_texts_come_from_the_right_report(leader, world):
    rows = by_task(task_rows(openpyxl.load_workbook(build(leader).file.path)["督办台账"]))
    # This cycle's submitted report.
    red = rows["1. 推进城市医疗集团建设"]
    assert (red["本期进展"], red["存在问题"], red["下步计划"]) == ("六月进展", "经费不足", "七月完成")
    # This cycle's is a draft: the latest accepted one.
    amber = rows["2. 改善就医体验"]
    assert (amber["本期进展"], amber["存在问题"], amber["下步计划"]) == ("四月进展", "无", "继续推进")
    # No report: the latest progress note.
    green = rows["1. 完善传染病监测预警"]
    assert (green["本期进展"], green["存在问题"], green["下步计划"]) == ("最新说明", None, None)


def test_rate_units_read_as_people_write_them(leader, world):
    rows = by_task(task_rows(openpyxl.load_workbook(build(leader).file.path)["督办台账"]))
    assert rows["2. 改善就医体验"]["指标"] == f"孕产妇死亡率 不高于 10/10万 8/10万（{days(-3):%Y-%m-%d}，达标）"


def test_each_risk_has_its_fill_and_a_moved_due_date_is_marked(leader, world):
    # when
    sheet = openpyxl.load_workbook(build(leader).file.path)["督办台账"]

    # then
    status = HEADERS.index("状态") + 1
    fills = {}
    for row in sheet.iter_rows(min_row=HEADER_ROW + 1):
        if isinstance(row[0].value, int):
            fills[row[1].value] = row[status - 1].fill.fgColor.rgb[-6:]
    assert fills == {
        "1. 推进城市医疗集团建设": ledger.RISK_FILLS["red"],
        "2. 改善就医体验": ledger.RISK_FILLS["amber"],
        "1. 完善传染病监测预警": ledger.RISK_FILLS["green"],
        "2. 做好医保支付衔接": ledger.RISK_FILLS["done"],
    }
    # The legend's cells carry the same fills.
    assert [sheet.cell(4, n).fill.fgColor.rgb[-6:] for n in (2, 3, 4, 5)] == [
        ledger.RISK_FILLS[mark] for mark in ("red", "amber", "green", "done")
    ]
    due = HEADERS.index("现时限")
    moved = {row[1].value: row[due] for row in sheet.iter_rows(min_row=HEADER_ROW + 1) if isinstance(row[0].value, int)}
    green = moved["1. 完善传染病监测预警"]
    assert green.value.date() == days(150) and green.font.b and green.font.color.rgb.endswith(ledger.CHANGED_DUE_COLOR)
    assert not moved["2. 改善就医体验"].font.b


def test_every_font_is_song_ti_of_nine_points_or_more(leader, world):
    # when
    export = build(leader)

    # then: every cell of every sheet, and the workbook's default (no Calibri anywhere)
    book = openpyxl.load_workbook(export.file.path)
    seen = 0
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert (cell.font.name, cell.font.sz >= 9) == ("宋体", True), (sheet.title, cell.coordinate)
                seen += 1
    assert seen > 100
    with zipfile.ZipFile(export.file.path) as archive:
        styles = archive.read("xl/styles.xml").decode()
    assert "Calibri" not in styles
    fonts = re.findall(r"<font>.*?</font>", re.search(r"<fonts[^>]*>(.*?)</fonts>", styles, re.S)[1], re.S)
    assert fonts and all('val="宋体"' in font for font in fonts)
    assert all(float(size) >= 9 for size in re.findall(r'<sz val="([\d.]+)"', styles))


def test_it_prints_on_a3_landscape_one_page_wide_with_the_header_repeated(leader, world):
    book = openpyxl.load_workbook(build(leader).file.path)
    sheet = book["督办台账"]
    setup = sheet.page_setup
    assert (setup.orientation, setup.paperSize, setup.fitToWidth, setup.fitToHeight) == ("landscape", 8, 1, 0)
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_title_rows == f"${HEADER_ROW}:${HEADER_ROW}"
    assert sheet.print_options.horizontalCentered
    assert sheet.oddFooter.center.text == "第 &P 页 共 &N 页"
    assert (sheet.page_margins.left, sheet.page_margins.right) == (0.4, 0.4)
    assert sheet.freeze_panes == f"C{HEADER_ROW + 1}"
    assert sheet.auto_filter.ref == f"A{HEADER_ROW}:O{HEADER_ROW + 6}"
    assert all(sheet.cell(HEADER_ROW + 2, n).alignment.wrap_text for n in range(1, 16))
    assert sheet.cell(HEADER_ROW + 2, 7).alignment.vertical == "top"
    # Fit to width shrinks the 10-point text to no less than 9 points, with or without months.
    for months in range(13):
        assert ledger.print_scale(ledger._columns(list(range(1, months + 1)))) >= 0.9, months
    assert book["督办单"].page_setup.paperSize == 8 and book["督办单"].print_title_rows == "$1:$1"


# --- Options ----------------------------------------------------------------------------------


def test_one_sheet_per_lead_agency(leader, world, agency_b):
    # given: B's short name holds characters a sheet name cannot
    agency_b.short_name = "疾控处[二]/监测"
    agency_b.save()

    # when
    book = openpyxl.load_workbook(build(leader, per_agency=True).file.path)

    # then
    assert book.sheetnames == ["医政医管处", "疾控处_二__监测", "督办单", "说明"]
    a_rows = task_rows(book["医政医管处"])
    assert [row["任务"] for row in a_rows] == ["1. 推进城市医疗集团建设", "1. 完善传染病监测预警"]
    assert [row["序号"] for row in a_rows] == [1, 2]
    assert book["医政医管处"]["A2"].value == "牵头单位：医政医管处"
    assert [row["任务"] for row in task_rows(book["疾控处_二__监测"])] == ["2. 改善就医体验", "2. 做好医保支付衔接"]
    assert dict(book["说明"].iter_rows(values_only=True))["选项"] == "按牵头单位分表"


def test_sheet_names_are_what_excel_accepts():
    taken = {"督办单", "说明"}
    long = "某某市卫生健康委员会医政医管处和药政管理处联合办公室第二科室第三组"
    names = [ledger.sheet_name(n, taken) for n in ["a/b", "A/B", "'x'", "", long, long, "说明", "History"]]
    assert names[:4] == ["a_b", "A_B(2)", "x", "未命名"]
    assert len(names[4]) == len(names[5]) == 31 and names[4] != names[5] and names[5].endswith("(2)")
    assert names[6:] == ["说明(2)", "History(2)"]


def test_monthly_columns_up_to_the_as_of_month(leader, world, staff_a):
    # given: an update in February and one in May; May also has an accepted report
    green = world["green"]
    update(green, staff_a, "二月的说明" * 10, datetime.datetime(2026, 2, 10, 3, tzinfo=datetime.UTC))
    update(world["red"], staff_a, "五月的更新说明", datetime.datetime(2026, 5, 20, 3, tzinfo=datetime.UTC))

    # when
    book = openpyxl.load_workbook(build(leader, monthly=True).file.path)

    # then: January to June, the report before the update, a long note cut
    months = [f"{m}月进展" for m in range(1, 7)]
    rows = by_task(task_rows(book["督办台账"], HEADERS + months))
    red = rows["1. 推进城市医疗集团建设"]
    assert [red[m] for m in months] == [None, None, None, None, "五月进展", "六月进展"]
    feb = rows["1. 完善传染病监测预警"]["2月进展"]
    assert feb.startswith("二月的说明") and len(feb) == ledger.MONTH_NOTE_CHARS and feb.endswith("…")
    assert rows["1. 完善传染病监测预警"]["6月进展"] == "最新说明"
    assert rows["2. 改善就医体验"]["4月进展"] == "四月进展" and rows["2. 改善就医体验"]["6月进展"] is None
    assert book["督办台账"].auto_filter.ref == f"A{HEADER_ROW}:U{HEADER_ROW + 6}"


def test_a_past_years_ledger_has_all_twelve_months(leader, commission, agency_a):
    plan = Plan.objects.create(title="2025年工作要点", year=2025, issuer=commission, status=PlanStatus.ACTIVE)
    make_task(plan, None, "1", lead=agency_a, due_on=datetime.date(2025, 12, 31))
    sheet = openpyxl.load_workbook(build(leader, plan=plan, year=2025, monthly=True).file.path)["督办台账"]
    headers = [c.value for c in next(sheet.iter_rows(min_row=HEADER_ROW, max_row=HEADER_ROW))]
    assert headers[len(HEADERS) :] == [f"{m}月进展" for m in range(1, 13)]


def test_the_options_are_taken_from_the_form_and_stored(client, leader, world, django_capture_on_commit_callbacks):
    client.force_login(leader)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("dashboards:export_ledger"), {"year": "2026", "per_agency": "1", "monthly": "on"}
        )
    export = Export.objects.get()
    assert response.status_code == 303
    assert export.options == {"per_agency": True, "monthly": True} and export.status == ExportStatus.DONE
    # Unticked boxes send nothing: both off.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("dashboards:export_ledger"), {"year": "2026"})
    assert Export.objects.order_by("-id").first().options == {"per_agency": False, "monthly": False}


def test_the_dashboard_offers_the_options(client, leader, world):
    client.force_login(leader)
    page = client.get(reverse("dashboards:overview")).content.decode()
    assert 'name="per_agency"' in page and 'name="monthly"' in page


@pytest.mark.parametrize(
    "data, message",
    [
        ({"per_agency": "maybe"}, "“按牵头单位分表”只能选择是或否。"),
        ({"monthly": "2"}, "“逐月进展列”只能选择是或否。"),
    ],
)
def test_bad_options_are_refused_in_chinese_and_create_nothing(
    client, leader, world, data, message, django_capture_on_commit_callbacks
):
    client.force_login(leader)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("dashboards:export_ledger"), {"year": "2026", **data})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Export.objects.exists()


@pytest.mark.parametrize("raw", [["per_agency"], {"per_agency": "yes"}, {"colour": True}, 3])
def test_stored_options_are_checked_again_when_built(leader, world, raw):
    with pytest.raises(ExportRefused, match="台账导出选项无效"):
        ledger.ledger_options(raw)
    export = Export.objects.create(kind=ExportKind.LEDGER, requested_by=leader, year=2026, options=raw)
    assert runner.run_export(export.pk) == "failed"
    assert Export.objects.get(pk=export.pk).error.startswith("导出失败：台账导出选项无效")


def test_a_double_click_with_other_options_is_another_export(leader, world, settings, monkeypatch):
    from dashboards import jobs
    from dashboards.exports.requests import request_export

    settings.EXPORT_INLINE_MAX_ROWS = 0
    monkeypatch.setattr(jobs.build_export, "delay", lambda export_id: None)
    first = request_export(leader, ExportKind.LEDGER, year="2026", options={"per_agency": True, "monthly": False})
    same = request_export(leader, ExportKind.LEDGER, year="2026", options={"monthly": False, "per_agency": True})
    other = request_export(leader, ExportKind.LEDGER, year="2026", options={"per_agency": False, "monthly": False})
    assert same == first and other != first


# --- Queries ---------------------------------------------------------------------------------


def many_tasks(plan, agencies, author, count):
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
    TaskOwner.objects.bulk_create(
        TaskOwner(task=t, agency=agencies[n % len(agencies)], role=OwnerRole.LEAD) for n, t in enumerate(tasks)
    )
    Task.responsible_users.through.objects.bulk_create(
        Task.responsible_users.through(task_id=t.pk, user_id=author.pk) for t in tasks
    )
    Milestone.objects.bulk_create(Milestone(task=t, due_on=days(10), text="节点", order=1) for t in tasks)
    Indicator.objects.bulk_create(Indicator(plan=plan, task=t, name="覆盖率", target=90, unit="%") for t in tasks)
    PeriodReport.objects.bulk_create(
        PeriodReport(
            task=t,
            period_start=datetime.date(2026, m, 1),
            period_end=datetime.date(2026, m, 28),
            period_label=f"{m}月",
            due_on=datetime.date(2026, m, 25),
            state=ReportState.ACCEPTED,
            author=author,
            progress=f"{m}月进展{t.pk}",
        )
        for t in tasks
        for m in (4, 5)
    )
    ProgressUpdate.objects.bulk_create(
        ProgressUpdate(task=t, author=author, status=TaskStatus.IN_PROGRESS, percent=t.percent, note=f"说明{t.pk}")
        for t in tasks
    )
    return tasks


def test_the_queries_do_not_grow_with_the_tasks_whatever_the_options(
    leader, commission, agency_a, agency_b, staff_a, monkeypatch
):
    monkeypatch.setattr(ledger, "CHUNK_ROWS", 500)
    counts = {}
    for size in (10, 120):
        plan = Plan.objects.create(title=f"计划{size}", year=2026, issuer=commission, status=PlanStatus.ACTIVE)
        many_tasks(plan, [agency_a, agency_b], staff_a, size)
        export = Export.objects.create(
            kind=ExportKind.LEDGER,
            requested_by=leader,
            plan=plan,
            year=2026,
            options={"per_agency": True, "monthly": True},
        )
        with CaptureQueriesContext(connection) as queries:
            assert runner.run_export(export.pk) == "done"
        counts[size] = len(queries)
        book = openpyxl.load_workbook(Export.objects.get(pk=export.pk).file.path)
        assert (
            sum(
                len(task_rows(book[name], HEADERS + [f"{m}月进展" for m in range(1, 7)]))
                for name in ("医政医管处", "疾病预防控制处")
            )
            == size
        )
    assert counts[10] == counts[120], counts
    assert counts[120] <= 18, counts


# --- Printed by LibreOffice --------------------------------------------------------------------

OFFICE = programs.which("soffice", "libreoffice")
# Calc's library beside soffice: Debian splits LibreOffice, and Writer alone cannot open an .xlsx.
CALC = bool(OFFICE) and (Path(OFFICE).resolve().parent / "libsclo.so").exists()
PDF_TOOLS = shutil.which("pdfinfo") and shutil.which("pdftotext")


def to_pdf(xlsx: Path, out: Path) -> Path:
    """The workbook printed to PDF by LibreOffice, with its own profile (as escalation/printing.py runs it)."""
    with programs.Workdir(prefix="ledger-pdf-") as work:
        args = [
            OFFICE,
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--nodefault",
            "-env:UserInstallation=" + Path(work.path, "profile").as_uri(),
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            str(xlsx),
        ]
        programs.run(args, 120, work)
    return out / (xlsx.stem + ".pdf")


def pdf_pages(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True, text=True).stdout
    return text.split("\f")[:-1]


def page_size(pdf: Path) -> tuple[float, float]:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, check=True, text=True).stdout
    width, height = re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info).groups()
    return float(width), float(height)


# The height of an A3 landscape page less its top and bottom margins (0.6 inch each), in points.
PAGE_BODY_POINTS = 841.89 - 2 * 0.6 * 72


def printed_scale(pdf: Path, sheet) -> float:
    """The share of its size the PDF printed the sheet at: the distance between the first
    two task rows on page 1 over the first one's height."""
    words = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", "-bbox", str(pdf), "-"], capture_output=True, check=True, text=True
    ).stdout
    tops = {
        text: float(top)
        for top, text in re.findall(r'<word xMin="[\d.]+" yMin="([\d.]+)"[^>]*>(批量任务[12])</word>', words)
    }
    return (tops["批量任务2"] - tops["批量任务1"]) / sheet.row_dimensions[HEADER_ROW + 1].height


def expected_pages(sheet, scale: float) -> int:
    """The pages the ledger's rows fill at their set heights, the header row repeated."""
    heights = [sheet.row_dimensions[r].height for r in range(1, sheet.max_row + 1)]
    body = PAGE_BODY_POINTS / scale
    pages, used = 1, sum(heights[:HEADER_ROW])
    for height in heights[HEADER_ROW:]:
        if used + height > body:
            pages, used = pages + 1, heights[HEADER_ROW - 1]
        used += height
    return pages


@pytest.mark.system
@pytest.mark.skipif(not OFFICE, reason="LibreOffice (soffice) is not installed")
@pytest.mark.skipif(not CALC, reason="LibreOffice Calc is not installed (Debian: libreoffice-calc-nogui)")
@pytest.mark.skipif(not PDF_TOOLS, reason="poppler-utils (pdfinfo, pdftotext) are not installed")
@pytest.mark.parametrize("options", [{}, {"monthly": True}])
def test_libreoffice_prints_every_column_on_every_a3_landscape_page(
    leader, commission, agency_a, staff_a, tmp_path, options
):
    # given: enough one-line tasks for several pages
    count = 150
    plan = Plan.objects.create(title="2026年打印测试工作要点", year=2026, issuer=commission, status=PlanStatus.ACTIVE)
    many_tasks(plan, [agency_a], staff_a, count)
    export = build(leader, plan=plan, **options)

    # when
    pdf = to_pdf(Path(export.file.path), tmp_path)

    # then: A3 landscape (1190.55 x 841.89 points)
    width, height = page_size(pdf)
    assert (round(width), round(height)) == (1191, 842)
    pages = pdf_pages(pdf)
    ledger_pages = [page for page in pages if "序号" in page and "督办情况" in page]
    # Every ledger page has the repeated header with its last column: nothing cut on the right.
    last = "6月进展" if options else "督办情况"
    assert all(last in page and "任务" in page for page in ledger_pages)
    # Every task printed once, in order, across those pages; the last column's values on each page.
    serials = [int(n) for page in ledger_pages for n in re.findall(r"^\s*(\d+)\s+\d+\.\s*批量任务", page, re.M)]
    assert serials == list(range(1, count + 1))
    assert all("5月进展" in page for page in ledger_pages)  # the report text column is there
    assert all("覆盖率" in page for page in ledger_pages)  # so is the indicators column, near the end
    # As many pages as the rows' set heights fill at the scale fit-to-width printed them.
    sheet = openpyxl.load_workbook(export.file.path)["督办台账"]
    scale = printed_scale(pdf, sheet)
    assert len(ledger_pages) == expected_pages(sheet, scale)
    if not options:  # 10-point text printed at 9 points or more, even with LibreOffice's stand-in fonts
        assert scale >= 0.89, scale
    # Then the 督办单 sheet and the 说明 sheet, one page each.
    assert len(pages) == len(ledger_pages) + 2
    # The footer numbers the pages.
    assert f"第 1 页 共 {len(pages)} 页" in re.sub(r"\s+", " ", pages[0])
