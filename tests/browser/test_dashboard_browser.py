"""A leader's dashboard in the browser: the overview's tiles and its four charts, drawn from
the app's own static files; a drill-down from an agency's overdue count to those tasks; and
the supervision ledger (督办台账), downloaded and read back against the database. A task of an
agency outside the leader's branch shows up nowhere."""

import dataclasses
import datetime
import json
import re
from decimal import Decimal

import openpyxl
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from core.roles import Role
from dashboards.models import Snapshot, SnapshotScope
from dashboards.rollup import write_trend_points
from indicators.models import Indicator, Reading
from tasks.choices import OwnerRole, TaskStatus
from tasks.models import ProgressUpdate, Task, TaskOwner
from tasks.risk import Risk, plan_year_bounds, risk_of
from tests.conftest import make_task, make_user
from tests.dashboards.test_ledger import HEADER_ROW, HEADERS
from workplans.choices import PlanStatus
from workplans.cycles import cycle_for
from workplans.models import Plan, Section

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
CHARTS = ("#chart-status", "#chart-agencies", "#chart-trend", "#chart-indicators")
# The ledger's columns under its title rows and legend (tests/dashboards/test_ledger.py).
LEDGER_HEADER, LEDGER_HEADER_ROW = HEADERS, HEADER_ROW
NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"


@dataclasses.dataclass
class Spec:
    """One task of the test plan: where it sits, who owns it, where it stands, and its notes
    as (minutes ago, note) pairs, oldest first; an empty note is a report without one."""

    key: str
    section: str
    number: str
    heading: str
    lead: str
    status: str
    percent: int
    due_in_days: int
    co_owner: str | None = None
    notes: tuple = ()


DAY = 24 * 60
SPECS = [
    Spec(
        "a1",
        "一",
        "1",
        "推进城市医疗集团网格化布局",
        "a",
        TaskStatus.IN_PROGRESS,
        40,
        -20,
        co_owner="b",
        notes=((45 * DAY, "网格划分方案初稿已报委务会。"), (3, "两个城市医疗集团已挂牌运行，其余正在组建。")),
    ),
    Spec(
        "a2",
        "一",
        "2",
        "完善基层检查检验结果互认机制",
        "a",
        TaskStatus.NOT_STARTED,
        0,
        -5,
        notes=((40 * DAY, "已梳理首批互认项目清单，待信息平台对接。"),),
    ),
    Spec(
        "a3",
        "一",
        "3",
        "建立日间手术病种目录",
        "a",
        TaskStatus.DONE,
        100,
        -50,
        notes=((5, "日间手术病种目录已印发执行。"),),
    ),
    Spec(
        "a4",
        "一",
        "4",
        "开展临床重点专科能力评估",
        "a",
        TaskStatus.IN_PROGRESS,
        70,
        25,
        notes=((4, "已完成 12 家二级以上医院现场评估。"),),
    ),
    Spec(
        "b1",
        "二",
        "1",
        "强化学校传染病联防联控",
        "b",
        TaskStatus.LAGGING,
        30,
        -15,
        notes=((6, "已开展 3 轮校园传染病联合督导。"), (2, "")),
    ),
    Spec("b2", "二", "2", "完成流感监测哨点扩容", "b", TaskStatus.DONE, 100, -90),
    Spec("b3", "二", "3", "推动慢性病综合防控示范区复审", "b", TaskStatus.IN_PROGRESS, 50, 20),
    Spec(
        "b4",
        "二",
        "4",
        "建设重点人群结核病筛查信息库",
        "b",
        TaskStatus.ON_HOLD,
        30,
        60,
        notes=((7, "受信息系统招标进度影响，暂缓实施。"),),
    ),
]
OUTSIDE = Spec(
    "x1",
    "二",
    "5",
    "推进医保支付方式改革全覆盖",
    "x",
    TaskStatus.IN_PROGRESS,
    10,
    -10,
    notes=((8, "医保局内部事项，不属卫健委督办范围。"),),
)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def workload(commission, agency_a, agency_b, outside_agency, staff_a, staff_b, leader):
    """An active plan of this year: eight tasks of agencies A and B (three overdue, two done,
    one co-owned), four indicators (two met, one missed, one unreported), agency snapshots
    over four days; and one task, indicator and snapshot of an agency outside the branch."""
    today = timezone.localdate()
    now = timezone.now()
    agencies = {"a": agency_a, "b": agency_b, "x": outside_agency}
    outsider = make_user("staff_x", Role.STAFF, outside_agency)
    authors = {"a": staff_a, "b": staff_b, "x": outsider}
    plan = Plan.objects.create(
        title=f"{today.year}年测试市卫生健康督办事项清单", year=today.year, issuer=commission, status=PlanStatus.ACTIVE
    )
    sections = {
        "一": Section.objects.create(plan=plan, label="一", title="优化医疗服务供给", order=1),
        "二": Section.objects.create(plan=plan, label="二", title="织密疾病预防控制网", order=2),
    }
    tasks = {}
    for spec in [*SPECS, OUTSIDE]:
        task = make_task(
            plan,
            sections[spec.section],
            spec.number,
            lead=agencies[spec.lead],
            co_owners=[agencies[spec.co_owner]] if spec.co_owner else [],
            heading=spec.heading,
            status=spec.status,
            percent=spec.percent,
            due_on=today + datetime.timedelta(days=spec.due_in_days),
        )
        for minutes_ago, note in spec.notes:
            ProgressUpdate.objects.create(
                task=task,
                author=authors[spec.lead],
                created_at=now - datetime.timedelta(minutes=minutes_ago),
                status=spec.status,
                percent=spec.percent,
                note=note,
            )
        tasks[spec.key] = Task.objects.get(pk=task.pk)  # as the updates left it

    def indicator(task_key, name, comparator, target, unit, *values):
        item = Indicator.objects.create(
            task=tasks[task_key], name=name, comparator=comparator, target=Decimal(target), unit=unit
        )
        for days_ago, value in values:
            Reading.objects.create(
                indicator=item,
                value=Decimal(value),
                as_of=today - datetime.timedelta(days=days_ago),
                reporter=authors[task_key[0]],
            )

    indicator("a1", "基层医疗卫生机构诊疗量占比", ">=", "55", "%", (60, "50.2"), (10, "52.8"))  # missed
    indicator("a4", "三级公立医院平均住院日", "<=", "8", "天", (10, "7.6"))  # met
    indicator("b1", "适龄儿童免疫规划疫苗接种率", ">=", "95", "%", (60, "94.1"), (10, "96.3"))  # met
    indicator("b3", "法定传染病报告及时率", ">=", "98", "%")  # unreported
    indicator("x1", "医保基金按病种付费覆盖率", ">=", "90", "%", (10, "60"))  # outside: missed

    # Snapshots: (days ago, A's mean and done, B's mean and done); A has 4 tasks, B 5 (a1 too).
    history = [
        (91, "20.00", 0, "15.00", 0),
        (61, "35.00", 1, "25.00", 0),
        (31, "45.00", 1, "35.00", 1),
        (1, "52.50", 1, "44.00", 1),
    ]
    for days_ago, a_mean, a_done, b_mean, b_done in history:
        day = today - datetime.timedelta(days=days_ago)
        for agency, count, mean, done in (
            (agency_a, 4, a_mean, a_done),
            (agency_b, 5, b_mean, b_done),
            (outside_agency, 1, "99.00", 1),
        ):
            Snapshot.objects.create(
                day=day,
                scope=SnapshotScope.AGENCY,
                plan=plan,
                agency=agency,
                tasks=count,
                done=done,
                mean_percent=Decimal(mean),
            )
        write_trend_points(day)  # as the rollup does after writing a day's snapshots
    return plan, tasks, history


def watch_console(page) -> list[str]:
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def tile(page, label):
    return page.locator(".tiles .tile", has_text=label).locator(".num")


def test_it_shows_a_leader_the_overview_drills_down_and_exports_the_ledger(
    page, browser_login, workload, leader, agency_a, agency_b, outside_agency, tmp_path
):
    plan, tasks, history = workload
    today = timezone.localdate()
    mine = [tasks[spec.key] for spec in SPECS]
    console_errors = watch_console(page)

    # The figures, worked out from the data above.
    open_tasks = [t for t in mine if t.status != TaskStatus.DONE]
    overdue = [t for t in open_tasks if t.due_on < today]
    year_start, year_end = plan_year_bounds(plan.year)
    amber = [
        t
        for t in mine
        if risk_of(
            status=t.status, percent=t.percent, due_on=t.due_on, today=today, year_start=year_start, year_end=year_end
        )
        == Risk.AMBER
    ]
    cycle_start = timezone.make_aware(
        datetime.datetime.combine(cycle_for(plan.reporting_cycle, plan.report_due_day, today).start, datetime.time.min)
    )
    reported = [t for t in open_tasks if t.last_progress_at and t.last_progress_at >= cycle_start]
    assert len(mine) == 8 and len(overdue) == 3 and sum(t.percent for t in mine) == 420

    # given a leader of the commission, logged in through the form
    browser_login(leader)

    # then they land on 督办总览, over their branch only, with the right totals
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    expect(page.get_by_role("heading", name="督办总览")).to_be_visible()
    expect(page.locator("p.muted").first).to_contain_text("测试市卫生健康委员会 及下属单位（共 3 个单位）")
    expect(tile(page, "任务总数")).to_have_text("8")
    expect(tile(page, "平均进度")).to_have_text("52.5%")
    expect(tile(page, "已逾期")).to_have_text(str(len(overdue)))
    expect(tile(page, "进度预警")).to_have_text(str(len(amber)))
    expect(tile(page, "指标达标")).to_have_text("2 / 4")
    expect(page.locator(".tiles .tile", has_text="指标达标")).to_contain_text("1 项未达标")
    expect(tile(page, "本期报送率")).to_have_text(f"{round(100 * len(reported) / len(open_tasks), 1)}%")

    # and each of the four charts is drawn as SVG by the locally served ECharts
    for chart in CHARTS:
        expect(page.locator(f"{chart} svg").first).to_be_attached()
    status_chart = page.locator("#chart-status svg").first
    assert status_chart.locator("path").count() >= 5  # one slice per status present, at least
    for status, label in TaskStatus.choices:  # each slice labelled with its count; none for 0
        count = sum(1 for t in mine if t.status == status)
        expected = 1 if count else 0
        expect(status_chart.locator("text", has_text=f"{label}: {count}")).to_have_count(expected)
    agencies_chart = page.locator("#chart-agencies svg").first
    expect(agencies_chart.locator("text", has_text=agency_a.name).first).to_be_attached()
    expect(agencies_chart.locator("text", has_text=agency_b.name).first).to_be_attached()
    expect(page.locator("#chart-trend svg text", has_text="暂无历史数据")).to_have_count(0)
    expect(page.locator("#chart-trend svg text", has_text="平均进度").first).to_be_attached()
    indicators_chart = page.locator("#chart-indicators svg").first
    for label in ("达标", "未达标", "未填报"):
        expect(indicators_chart.locator("text", has_text=re.compile(rf"^{label}")).first).to_be_attached()
    assert page.evaluate("typeof window.echarts") == "object"

    # and the trend behind its chart is the branch's snapshots, weighted by task count
    data = json.loads(page.locator("#dashboard-data").text_content())
    assert data["trend"]["days"] == [(today - datetime.timedelta(days=d)).isoformat() for d, *_ in history]
    assert data["trend"]["mean_percent"] == [
        round((4 * float(a_mean) + 5 * float(b_mean)) / 9, 1) for _d, a_mean, _a, b_mean, _b in history
    ]
    assert data["trend"]["done_share"] == [round(100 * (a + b) / 9, 1) for _d, _am, a, _bm, b in history]

    # and the 按责任单位 table has one row each for A (4 tasks, 2 overdue) and B (5, 2)
    by_agency = page.locator("#by-agency tbody tr")
    expect(by_agency).to_have_count(2)
    row_a = by_agency.filter(has_text=agency_a.name)
    row_b = by_agency.filter(has_text=agency_b.name)
    expect(row_a.locator('td[data-label="任务"]')).to_have_text("4")
    expect(row_a.locator('td[data-label="逾期"]')).to_have_text("2")
    expect(row_b.locator('td[data-label="任务"]')).to_have_text("5")
    expect(row_b.locator('td[data-label="逾期"]')).to_have_text("2")

    # and nothing of the outside agency is anywhere on the page
    expect(page.get_by_text(outside_agency.name)).to_have_count(0)
    expect(page.get_by_text(OUTSIDE.heading)).to_have_count(0)
    expect(page.get_by_text("医保基金按病种付费覆盖率")).to_have_count(0)
    assert console_errors == []

    # when they click agency A's overdue count
    row_a.locator('td[data-label="逾期"] a').click()

    # then the task list shows exactly A's overdue tasks, co-owned ones included
    expect(page).to_have_url(re.compile(rf"/tasks/mine/\?owner={agency_a.pk}&overdue=1$"))
    listed = page.locator("table.task-list tbody tr")
    expect(listed).to_have_count(2)
    for key in ("a1", "a2"):
        expect(listed.get_by_role("link", name=tasks[key].heading)).to_be_visible()
    for spec in [*SPECS, OUTSIDE]:
        if spec.key not in ("a1", "a2"):
            expect(page.get_by_role("link", name=spec.heading)).to_have_count(0)

    # when they go back to the dashboard and export the plan's ledger
    page.go_back()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    exports = page.locator("#exports")
    exports.get_by_label("计划").select_option(label=plan.title)
    exports.get_by_role("button", name="导出督办台账（Excel）").click()

    # then the status page offers the finished file
    expect(page).to_have_url(re.compile(r"/dashboard/exports/\d+/$"))
    expect(page.get_by_role("heading", name="督办台账（Excel）")).to_be_visible()
    expect(page.locator("#export-status")).to_contain_text(plan.title)
    link = page.get_by_role("link", name=re.compile(r"^下载文件"))
    expect(link).to_be_visible()
    expect(page.locator("#export-status-label")).to_have_text("已完成")

    # when they download it
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename.startswith(f"{plan.title}督办台账-")
    assert download.suggested_filename.endswith(".xlsx")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)

    # then the ledger names the plan above its columns, with one row per task of the
    # branch and none other (plan and section are group rows between them)
    sheet = openpyxl.load_workbook(saved, read_only=True)["督办台账"]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert plan.title in rows[0][0]
    assert rows[LEDGER_HEADER_ROW - 1][: len(LEDGER_HEADER)] == LEDGER_HEADER
    column = {title: index for index, title in enumerate(LEDGER_HEADER)}
    body = [row for row in rows[LEDGER_HEADER_ROW:] if isinstance(row[0], int)]
    assert len(body) == len(mine)
    assert all(OUTSIDE.heading not in row[column["任务"]] for row in body)
    assert all(outside_agency.name not in (row[column["配合单位"]] or "") for row in body)

    # and each row agrees with the database: status, percent, lead, co-owners, dates, latest note
    by_task = {}
    for row in body:
        number, heading = row[column["任务"]].split(". ", 1)
        task = Task.objects.get(plan=plan, number=number, heading=heading)
        by_task[task.pk] = row
    assert set(by_task) == {t.pk for t in mine}
    for task in Task.objects.filter(pk__in=by_task):
        row = by_task[task.pk]
        owners = TaskOwner.objects.filter(task=task).select_related("agency").order_by("order", "id")
        latest = task.progress_updates.exclude(note="").order_by("-created_at", "-id").first()
        assert row[column["状态"]].split("\n")[0] == TaskStatus(task.status).label, task.heading
        assert row[column["进度%"]] == task.percent, task.heading
        assert row[column["牵头单位"]] == owners.get(role=OwnerRole.LEAD).agency.name, task.heading
        co_owners = "、".join(o.agency.name for o in owners if o.role == OwnerRole.CO_OWNER)
        assert (row[column["配合单位"]] or "") == co_owners, task.heading
        assert ("已逾期" in row[column["状态"]]) == task.is_overdue(today), task.heading
        assert row[column["现时限"]].date() == task.due_on, task.heading
        assert row[column["原定时限"]].date() == task.baseline_due_on, task.heading
        assert (row[column["本期进展"]] or "") == (latest.note if latest else ""), task.heading

    # (spot checks against the data as written: the co-owned task, and a latest report with no note)
    assert by_task[tasks["a1"].pk][column["配合单位"]] == agency_b.name
    assert by_task[tasks["a1"].pk][column["本期进展"]] == "两个城市医疗集团已挂牌运行，其余正在组建。"
    assert by_task[tasks["b1"].pk][column["本期进展"]] == "已开展 3 轮校园传染病联合督导。"
    assert by_task[tasks["b1"].pk][column["状态"]].startswith("滞后")
    assert console_errors == []


def test_it_draws_the_overview_on_a_phone(page, browser_login, workload, leader, agency_a):
    console_errors = watch_console(page)
    page.set_viewport_size(PHONE)

    # given a leader logged in on a phone
    browser_login(leader)

    # then the tiles and the four charts are there, each chart within the screen's width
    expect(page.get_by_role("heading", name="督办总览")).to_be_visible()
    expect(tile(page, "任务总数")).to_have_text("8")
    for chart in CHARTS:
        expect(page.locator(f"{chart} svg").first).to_be_attached()
        box = page.locator(chart).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], chart
    # (the narrow pie shows bare counts; its legend names the slices)
    expect(page.locator("#chart-status svg text", has_text=re.compile(r"^3$"))).to_have_count(1)
    # on a phone the tables are behind tabs (static/js/phone_tabs.js)
    page.get_by_role("tab", name="按单位").click()
    expect(page.locator("#by-agency tbody tr", has_text=agency_a.name)).to_be_visible()
    assert console_errors == []


def test_it_needs_no_sideways_scrolling_on_a_phone(page, browser_login, workload, leader):
    page.set_viewport_size(PHONE)

    # given a leader logged in on a phone
    browser_login(leader)
    expect(page.locator("#chart-status svg").first).to_be_attached()

    # then the page is no wider than the screen
    assert page.evaluate(NO_SIDEWAYS_SCROLL)


def test_it_shows_the_in_progress_count_and_latest_values_on_a_phone(page, browser_login, workload, leader, agency_a):
    page.set_viewport_size(PHONE)

    # given a leader logged in on a phone
    browser_login(leader)

    # then agency A's in-progress count and each indicator's latest value are shown, each
    # behind its tab on a phone (static/js/phone_tabs.js)
    page.get_by_role("tab", name="按单位").click()
    row_a = page.locator("#by-agency tbody tr", has_text=agency_a.name)
    expect(row_a.locator('td[data-label="进行中"]')).to_be_visible(timeout=3000)
    page.get_by_role("tab", name="指标").click()
    reading = page.locator("#indicators tbody tr", has_text="基层医疗卫生机构诊疗量占比")
    expect(reading.locator('td[data-label="最新值"]')).to_be_visible(timeout=3000)


def test_it_restores_the_pie_labels_when_the_screen_widens(page, browser_login, workload, leader):
    page.set_viewport_size(PHONE)

    # given a leader logged in on a phone, where the status pie shows bare counts
    browser_login(leader)
    labels = page.locator("#chart-status svg text")
    expect(labels.filter(has_text=re.compile(r"^3$"))).to_have_count(1)

    # when the screen turns to a wide one (a tablet turned, a window widened)
    page.set_viewport_size({"width": 1280, "height": 800})

    # then the slices are named again, as on a page opened wide
    expect(labels.filter(has_text="进行中: 3")).to_have_count(1, timeout=3000)
