"""The 督办单 in the leaders' figures: the overview's open notices per addressee and level
(scoped as the tasks are, drilling down to the 督办 page, also in the API), the ledger's
columns and 督办单 sheet, and the bulletin's 督办 section; each in a bounded number of queries."""

import datetime
import itertools
import re

import docx
import openpyxl
import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.roles import Role
from dashboards.exports import runner
from dashboards.models import Export, ExportKind
from escalation.choices import Level, NoticeState, Origin
from escalation.models import Notice
from tasks.choices import OwnerRole
from tasks.models import Task, TaskOwner
from tests.conftest import make_task, make_user
from workplans.choices import PlanStatus
from workplans.models import Plan

pytestmark = [pytest.mark.django_db]

TODAY = datetime.date(2026, 11, 24)
URL = "/dashboard/"
_seq = itertools.count(1)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime.datetime(2026, 11, 24, 4, 0, tzinfo=datetime.UTC), tick=False):
        yield


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def make_notice(task, level, state=NoticeState.ISSUED, *, due_in=5, issued_ago=3, answered_late=False, agency=None):
    """A notice on `task` to its lead (or `agency`), written directly: the figures read rows."""
    seq = next(_seq)
    answered = state in (NoticeState.ANSWERED, NoticeState.CLOSED) or answered_late
    issued_on = TODAY - datetime.timedelta(days=issued_ago)
    return Notice.objects.create(
        series="督办",
        year=2026,
        seq=seq,
        number=f"督办〔2026〕{seq}号",
        level=level,
        task=task,
        agency=agency or task.task_owners.get(role=OwnerRole.LEAD).agency,
        origin=Origin.RULE,
        facts="进度滞后",
        requirements="请加快推进",
        reply_due_on=TODAY + datetime.timedelta(days=due_in),
        state=state,
        issued_on=issued_on,
        issued_at=timezone.make_aware(datetime.datetime.combine(issued_on, datetime.time(9))),
        answered_at=timezone.now() - datetime.timedelta(days=1) if answered else None,
        answered_late=answered_late,
        cancel_reason="误发" if state == NoticeState.CANCELLED else "",
    )


@pytest.fixture
def leader_a(agency_a):
    return make_user("leader_a", Role.LEADER, agency_a)


@pytest.fixture
def notices(plan, section, agency_a, agency_b, outside_agency):
    """A leads two tasks, B one (co-owned by A), the outside agency one co-owned by A.

    A: red (issued, past its deadline), yellow (acknowledged), blue (answered), and a closed,
    a cancelled and a superseded one; B: yellow, and a red one answered late and closed; the
    outside agency: red (on a task A co-owns); last year's plan: a red one of A's."""
    a1 = make_task(plan, section, "1", lead=agency_a, heading="推进城市医疗集团建设")
    a2 = make_task(plan, section, "2", lead=agency_a, heading="改善就医体验")
    b1 = make_task(plan, None, "3", lead=agency_b, co_owners=[agency_a], heading="完善传染病监测预警")
    out = make_task(plan, None, "4", lead=outside_agency, co_owners=[agency_a], heading="做好医保支付衔接")
    old = Plan.objects.create(title="2025年工作要点", year=2025, issuer=plan.issuer, status=PlanStatus.ARCHIVED)
    last_year = make_task(old, None, "1", lead=agency_a, heading="去年的任务")
    return {
        "tasks": {"a1": a1, "a2": a2, "b1": b1, "out": out},
        "a_red": make_notice(a1, Level.RED, due_in=-4, issued_ago=12),
        "a_yellow": make_notice(a2, Level.YELLOW, NoticeState.ACKNOWLEDGED, issued_ago=5),
        "a_blue": make_notice(a1, Level.BLUE, NoticeState.ANSWERED, issued_ago=20),
        "a_closed": make_notice(a2, Level.RED, NoticeState.CLOSED, issued_ago=40),
        "a_cancelled": make_notice(a2, Level.YELLOW, NoticeState.CANCELLED, issued_ago=30),
        "a_superseded": make_notice(a1, Level.YELLOW, NoticeState.SUPERSEDED, issued_ago=25),
        "b_yellow": make_notice(b1, Level.YELLOW, issued_ago=2),
        "b_late": make_notice(b1, Level.RED, NoticeState.CLOSED, due_in=-10, issued_ago=20, answered_late=True),
        "out_red": make_notice(out, Level.RED, issued_ago=1),
        "last_year": make_notice(last_year, Level.RED, issued_ago=200),
    }


# --- The overview -----------------------------------------------------------------------


def counts(rows):
    return {row.label: (row.blue, row.yellow, row.red, row.overdue) for row in rows}


def test_the_overview_counts_open_notices_per_addressee_on_the_scopes_tasks(notices, leader):
    from accounts.services import scope_agency_ids
    from dashboards.services import overview

    data = overview(scope_agency_ids(leader), 2026, TODAY)
    # Closed, cancelled and superseded ones are not open; last year's red one is still open,
    # and counts; the outside agency's is on a task A co-owns (and is copied on): its row
    # is marked as outside the scope.
    assert counts(data.notices) == {
        "医政医管处": (1, 1, 2, 1),
        "疾病预防控制处": (0, 1, 0, 0),
        "测试市医疗保障局": (0, 0, 1, 0),
    }
    assert [row.outside for row in data.notices if row.label == "测试市医疗保障局"] == [True]
    assert not any(row.outside for row in data.notices if row.label != "测试市医疗保障局")
    total = data.notices_total
    assert (total.blue, total.yellow, total.red, total.overdue, total.total) == (1, 2, 3, 1, 6)


def test_a_leader_of_one_unit_sees_their_units_tasks_only_and_admins_everything(
    notices, leader, leader_a, agency_b, admin_user
):
    from accounts.services import scope_agency_ids
    from dashboards.services import overview

    # B's task alone, not A's: its notice is B's leader's and the commission's, not A's.
    make_notice(make_task(notices["tasks"]["a1"].plan, None, "5", lead=agency_b), Level.RED)
    of_a = counts(overview(scope_agency_ids(leader_a), 2026, TODAY).notices)
    assert of_a == {"医政医管处": (1, 1, 2, 1), "疾病预防控制处": (0, 1, 0, 0), "测试市医疗保障局": (0, 0, 1, 0)}
    assert counts(overview(scope_agency_ids(leader), 2026, TODAY).notices)["疾病预防控制处"] == (0, 1, 1, 0)
    leader_outside = make_user("leader_outside", Role.LEADER, notices["out_red"].agency)
    assert counts(overview(scope_agency_ids(leader_outside), 2026, TODAY).notices) == {"测试市医疗保障局": (0, 0, 1, 0)}
    everything = overview(None, 2026, TODAY)
    assert everything.notices_total.total == 7 and not any(row.outside for row in everything.notices)
    # Open now whatever the page's year: the 督办 page a count links to lists them all.
    assert counts(overview(None, 2025, TODAY).notices) == counts(everything.notices)


def test_a_draft_plans_notice_and_a_former_leads_are_not_the_scopes(
    notices, leader, leader_a, commission, agency_a, agency_b
):
    from accounts.services import scope_agency_ids
    from dashboards.services import overview

    before = counts(overview(scope_agency_ids(leader_a), 2026, TODAY).notices)
    draft = Plan.objects.create(title="草稿计划", year=2026, issuer=commission, status=PlanStatus.DRAFT)
    make_notice(make_task(draft, None, "1", lead=agency_a), Level.RED)
    # A notice to A on a task B now leads alone: A's leader may not open the task.
    moved = make_task(notices["tasks"]["a1"].plan, None, "6", lead=agency_b)
    make_notice(moved, Level.RED, agency=agency_a)
    assert counts(overview(scope_agency_ids(leader_a), 2026, TODAY).notices) == before


def test_a_chosen_plan_narrows_the_counts_and_the_links(notices, leader, plan, commission, agency_a):
    from accounts.services import scope_agency_ids
    from dashboards.services import overview

    other = Plan.objects.create(title="另一计划", year=2026, issuer=commission, status=PlanStatus.ACTIVE)
    make_notice(make_task(other, None, "1", lead=agency_a), Level.RED)
    everything = overview(scope_agency_ids(leader), 2026, TODAY)
    assert everything.notices_total.red == 4  # this plan's two, the other plan's, last year's
    one = overview(scope_agency_ids(leader), 2026, TODAY, plan_id=plan.pk)
    assert one.notices_total.red == 2
    # A plan of another year than the page's counts nothing, as the rest of the page.
    assert overview(scope_agency_ids(leader), 2025, TODAY, plan_id=plan.pk).notices == []
    (row,) = [row for row in one.notices if row.key == agency_a.pk]
    assert row.links["red"] == f"?state=open&level=red&agency={agency_a.pk}&plan={plan.pk}"
    assert row.overdue_link == f"?state=open&agency={agency_a.pk}&plan={plan.pk}&overdue=on"


def test_the_open_notices_take_one_query_however_many_agencies(notices, leader, commission, plan):
    from accounts.models import Agency
    from dashboards.services import notice_rows

    for n in range(8):
        agency = Agency.objects.create(name=f"单位{n}", parent=commission)
        make_notice(make_task(plan, None, f"9{n}", lead=agency), Level.YELLOW)
    scope = commission.descendant_ids()
    with CaptureQueriesContext(connection) as queries:
        rows = notice_rows(scope, TODAY)
    assert len(queries) == 1
    assert len(rows) == 11  # A, B, the outside lead of a task A co-owns, and the eight


def test_the_page_links_each_count_to_the_board_which_lists_those_notices(client, notices, leader, agency_a, agency_b):
    client.force_login(leader)
    html = client.get(URL).content.decode()
    section = html[html.index('id="notices"') : html.index('id="by-agency"')]
    assert "未办结督办单" in section and "逾期未反馈" in section
    for level, expected in (("red", ["a_red", "last_year"]), ("yellow", ["a_yellow"]), ("blue", ["a_blue"])):
        link = f"/escalation/?state=open&amp;level={level}&amp;agency={agency_a.pk}"
        assert f'href="{link}"' in section, level
        shown = re.search(rf'<a href="{re.escape(link)}" data-level="{level}">(\d+)</a>', section).group(1)
        board = client.get(link.replace("&amp;", "&")).content.decode()
        numbers = set(re.findall(r"督办〔2026〕\d+号", board))
        assert numbers == {notices[key].number for key in expected} and int(shown) == len(expected), level
    assert f'href="/escalation/?state=open&amp;agency={agency_a.pk}&amp;overdue=on"' in section
    assert f'href="/escalation/?state=open&amp;level=yellow&amp;agency={agency_b.pk}"' in section
    # No notices of B at red: a zero, not a link.
    assert f"level=red&amp;agency={agency_b.pk}" not in section
    assert re.search(r"测试市医疗保障局</a> <small[^>]*>（本范围配合的任务）</small>", section)
    # The tiles and the total row: every open notice of the scope, as the board lists them.
    red_tile = re.search(r'data-testid="tile-notices-red"><div class="num">(\d+)</div>', html)
    yellow_tile = re.search(r'data-testid="tile-notices-yellow"><div class="num">(\d+)</div>', html)
    assert (red_tile.group(1), yellow_tile.group(1)) == ("3", "2")
    assert 'href="/escalation/?state=open&amp;level=red" data-testid="tile-notices-red"' in html
    board = client.get("/escalation/?state=open&level=red").content.decode()
    assert set(re.findall(r"督办〔2026〕\d+号", board)) == {
        notices[k].number for k in ("a_red", "last_year", "out_red")
    }


def test_a_scope_without_open_notices_says_so(client, leader, plan, agency_a):
    make_task(plan, None, "1", lead=agency_a)
    client.force_login(leader)
    html = client.get(URL).content.decode()
    assert "暂无未办结的督办单。" in html


def test_the_api_carries_the_open_notices_with_their_query(client, notices, leader, agency_a):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(leader)
    body = api.get("/api/v1/dashboard/overview/", {"year": 2026}).json()
    rows = {row["label"]: row for row in body["notices"]}
    a = rows["医政医管处"]
    assert (a["id"], a["blue"], a["yellow"], a["red"], a["total"], a["overdue"]) == (agency_a.pk, 1, 1, 2, 4, 1)
    assert a["notices_query"] == f"state=open&agency_id={agency_a.pk}" and a["outside"] is False
    assert rows["测试市医疗保障局"]["outside"] is True
    assert body["notices_total"]["total"] == 6 and body["notices_total"]["id"] is None
    listed = api.get(f"/api/v1/notices/?{a['notices_query']}&page_size=200")
    if listed.status_code == 200:  # the notices' own endpoint, where it is installed
        payload = listed.json()
        results = payload["results"] if isinstance(payload, dict) else payload
        expected = {notices[k].number for k in ("a_red", "a_yellow", "a_blue", "last_year")}
        assert {row["number"] for row in results} == expected


# --- The ledger ---------------------------------------------------------------------------


def run(kind, user, plan=None, year=2026):
    export = Export.objects.create(kind=kind, requested_by=user, plan=plan, year=year)
    assert runner.run_export(export.pk) == "done", Export.objects.get(pk=export.pk).error
    return Export.objects.get(pk=export.pk)


def sheet_dicts(book, name):
    rows = list(book[name].iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def ledger_dicts(book):
    """The ledger's task rows by header: the header is under the title rows and the legend,
    and group rows (plan, section) carry no serial number."""
    rows = list(book["督办台账"].iter_rows(min_row=5, values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:] if isinstance(row[0], int)]


def by_heading(rows):
    """A row by its task's heading ("1. 推进城市医疗集团建设" → "推进城市医疗集团建设")."""
    return {row["任务"].split(". ", 1)[1]: row for row in rows}


def test_the_ledger_carries_each_tasks_notices_and_a_sheet_of_them(notices, leader):
    export = run(ExportKind.LEDGER, leader)
    book = openpyxl.load_workbook(export.file.path)
    assert book.sheetnames == ["督办台账", "督办单", "说明"]
    tasks = by_heading(ledger_dicts(book))
    a1 = tasks["推进城市医疗集团建设"]["督办情况"].split("\n")
    # red (open), blue (open), yellow (superseded): three, the highest open red, the latest the red.
    assert a1 == ["3件", "未办结最高：红色督办", f"{notices['a_red'].number}（红色督办，已发出）"]
    a2 = tasks["改善就医体验"]["督办情况"].split("\n")
    # The cancelled one is not counted; the closed red one is no longer open.
    assert a2[:2] == ["2件", "未办结最高：黄色督办"]
    # A co-owns it: the outside agency's notice is on its row
    assert tasks["做好医保支付衔接"]["督办情况"].startswith("1件")

    sheet = sheet_dicts(book, "督办单")
    # Every notice of the ledger's tasks (the year's, in scope), oldest first; not last year's.
    expected = sorted(
        (n for key, n in notices.items() if key not in ("tasks", "last_year")), key=lambda n: (n.issued_at, n.pk)
    )
    assert [row["督办单编号"] for row in sheet] == [n.number for n in expected]
    red = next(row for row in sheet if row["督办单编号"] == notices["a_red"].number)
    assert (red["督办等级"], red["任务"], red["主送单位"], red["状态"]) == (
        "红色督办",
        "1. 推进城市医疗集团建设",
        "医政医管处",
        "已发出",
    )
    assert (red["下发日期"].date(), red["反馈时限"].date()) == (
        TODAY - datetime.timedelta(days=12),
        TODAY - datetime.timedelta(days=4),
    )
    assert (red["反馈时间"], red["逾期情况"]) == (None, "逾期未反馈4天")
    late = next(row for row in sheet if row["督办单编号"] == notices["b_late"].number)
    assert late["逾期情况"] == "逾期反馈" and late["反馈时间"] is not None
    notes = dict(book["说明"].iter_rows(values_only=True))
    assert notes["督办单数"] == len(expected)


def test_a_leader_of_one_unit_gets_the_notices_of_their_tasks_only(notices, leader_a):
    book = openpyxl.load_workbook(run(ExportKind.LEDGER, leader_a).file.path)
    numbers = {row["督办单编号"] for row in sheet_dicts(book, "督办单")}
    # A's tasks and those A co-owns (as the ledger's rows), never another agency's alone.
    assert notices["out_red"].number in numbers and notices["b_yellow"].number in numbers
    b_only = make_task(notices["tasks"]["a1"].plan, None, "5", lead=notices["b_yellow"].agency)
    theirs = make_notice(b_only, Level.RED)
    book = openpyxl.load_workbook(run(ExportKind.LEDGER, leader_a).file.path)
    assert theirs.number not in {row["督办单编号"] for row in sheet_dicts(book, "督办单")}


def test_a_ledger_without_notices_has_an_empty_notice_sheet(leader, plan, agency_a):
    make_task(plan, None, "1", lead=agency_a)
    book = openpyxl.load_workbook(run(ExportKind.LEDGER, leader).file.path)
    assert sheet_dicts(book, "督办单") == []
    (row,) = ledger_dicts(book)
    assert row["督办情况"] is None


# --- The bulletin -------------------------------------------------------------------------


def table_rows(table):
    return [[cell.text for cell in row.cells] for row in table.rows]


def test_the_bulletin_names_open_yellow_and_red_notices_and_late_ones_per_agency(notices, leader):
    document = docx.Document(run(ExportKind.BULLETIN, leader).file.path)
    paragraphs = [p.text for p in document.paragraphs if p.text]
    assert "四、督办单办理情况" in paragraphs
    summary = next(p for p in paragraphs if p.startswith("截至") and "未办结的督办单" in p)
    # The notices on the bulletin's tasks, as its other sections: the outside agency's red
    # one is on a task A co-owns (its overdue tasks name that lead too); last year's is not.
    assert "未办结的督办单共5件，其中红色督办2件、黄色督办2件、蓝色督办1件" in summary
    assert "逾期未反馈1件，逾期反馈1件" in summary
    assert "（二）督办单明细（5件）" in paragraphs
    per_agency, named = document.tables[-2:]
    assert table_rows(per_agency) == [
        ["主送单位", "红色督办（未办结）", "黄色督办（未办结）", "逾期未反馈", "逾期反馈"],
        ["医政医管处", "1", "1", "1", "0"],
        ["测试市医疗保障局", "1", "0", "0", "0"],
        ["疾病预防控制处", "0", "1", "0", "1"],
        ["合计", "2", "2", "1", "1"],
    ]
    rows = table_rows(named)
    assert rows[0] == ["序号", "主送单位", "督办单编号", "等级", "任务", "反馈时限", "办理情况"]
    # By addressee, the most severe first; the open blue one on time, the closed one answered
    # on time, the cancelled and the superseded ones are not named.
    assert [(row[1], row[2], row[3], row[6]) for row in rows[1:]] == [
        ("医政医管处", notices["a_red"].number, "红色督办", "已发出，逾期未反馈4天"),
        ("医政医管处", notices["a_yellow"].number, "黄色督办", "已签收"),
        ("测试市医疗保障局", notices["out_red"].number, "红色督办", "已发出"),
        ("疾病预防控制处", notices["b_late"].number, "红色督办", "已办结，逾期反馈"),
        ("疾病预防控制处", notices["b_yellow"].number, "黄色督办", "已发出"),
    ]
    assert rows[1][4] == "1. 推进城市医疗集团建设"
    assert rows[1][5] == f"{TODAY - datetime.timedelta(days=4):%Y-%m-%d}"


def test_a_leader_of_one_units_bulletin_leaves_out_tasks_of_other_units(notices, leader_a, agency_b):
    b_only = make_task(notices["tasks"]["a1"].plan, None, "5", lead=agency_b)
    theirs = make_notice(b_only, Level.RED)
    document = docx.Document(run(ExportKind.BULLETIN, leader_a).file.path)
    numbers = {row[2] for row in table_rows(document.tables[-1])[1:]}
    assert theirs.number not in numbers and notices["a_red"].number in numbers


def test_an_overdue_blue_notice_is_named_and_a_quiet_scope_says_so(leader, plan, agency_a):
    task = make_task(plan, None, "1", lead=agency_a)
    make_notice(task, Level.BLUE, due_in=5)
    document = docx.Document(run(ExportKind.BULLETIN, leader).file.path)
    texts = [p.text for p in document.paragraphs]
    assert "截至目前，无未办结的黄色、红色督办单，无逾期反馈或逾期未反馈的督办单。" in texts
    Notice.objects.update(reply_due_on=TODAY - datetime.timedelta(days=2))
    document = docx.Document(run(ExportKind.BULLETIN, leader).file.path)
    assert table_rows(document.tables[-1])[1][6] == "已发出，逾期未反馈2天"


# --- Queries ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [ExportKind.LEDGER, ExportKind.BULLETIN])
def test_the_exports_read_the_notices_in_one_query_however_many(leader, commission, agency_a, kind):
    counts = {}
    for size in (5, 50):
        plan = Plan.objects.create(title=f"计划{size}", year=2026, issuer=commission, status=PlanStatus.ACTIVE)
        tasks = Task.objects.bulk_create(
            Task(plan=plan, number=str(n), heading=f"任务{n}", due_on=TODAY, order=n) for n in range(size)
        )
        TaskOwner.objects.bulk_create(TaskOwner(task=t, agency=agency_a, role=OwnerRole.LEAD) for t in tasks)
        for task in tasks:
            make_notice(task, Level.RED, due_in=-1)
            make_notice(task, Level.YELLOW, NoticeState.CLOSED, answered_late=True)
        export = Export.objects.create(kind=kind, requested_by=leader, plan=plan, year=2026)
        with CaptureQueriesContext(connection) as queries:
            assert runner.run_export(export.pk) == "done"
        counts[size] = len(queries)
        assert sum("escalation_notice" in q["sql"] for q in queries.captured_queries) == 1
    assert counts[5] == counts[50], counts
