"""The bulletin (通报): drafted from the data (the comparison with the previous period, the
ranking, the agencies that have not reported, red and amber tasks with their reasons),
numbered without gaps when issued (also two at once, on PostgreSQL), frozen once issued,
a stale page refused with 409, and its pages closed to staff and to leaders outside the
plan; each write in the audit trail, each page in a bounded number of queries."""

import datetime
import decimal
import io
import threading
from unittest import mock

import docx
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse

from assessment.services import Standing
from audit.choices import EventType
from audit.models import AuditEvent
from core.roles import Role
from dashboards import bulletins
from dashboards.models import Bulletin, BulletinState, Snapshot, SnapshotScope
from indicators.models import Indicator, Reading
from supervision.choices import ReportState
from supervision.models import PeriodReport
from tasks.choices import TaskStatus
from tests.conftest import make_task, make_user
from workplans.choices import ReportingCycle

D = datetime.date
# Friday 10 July 2026: Q2 (April–June, reports due 5 June) has ended, Q1 is the one before.
TODAY = D(2026, 7, 10)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def quarterly(plan):
    plan.reporting_cycle = ReportingCycle.QUARTERLY
    plan.report_due_day = 5
    plan.save()
    return plan


def report(task, author, start, *, late=False, revision=1):
    end = {1: D(2026, 3, 31), 4: D(2026, 6, 30)}[start.month]
    return PeriodReport.objects.create(
        task=task,
        period_start=start,
        period_end=end,
        period_label="",
        due_on=D(2026, end.month, 5),
        state=ReportState.ACCEPTED if revision else ReportState.DRAFT,
        revision=revision,
        late=late,
        author=author,
    )


@pytest.fixture
def world(quarterly, section, agency_a, agency_b, staff_a, staff_b):
    """A leads a task on pace that reported both quarters on time, and a task finished in
    March; B leads a task far behind the year's pace (amber) that never reported Q2 and
    was late for Q1, and an overdue task (red) whose Q2 report came late."""
    q1, q2 = D(2026, 1, 1), D(2026, 4, 1)
    on_pace = make_task(
        quarterly, section, "1", lead=agency_a, heading="推进医共体建设", status=TaskStatus.IN_PROGRESS,
        percent=80, due_on=D(2026, 12, 31),
    )  # fmt: skip
    finished = make_task(
        quarterly, section, "2", lead=agency_a, heading="完成摸底", status=TaskStatus.DONE, percent=100,
        due_on=D(2026, 3, 31), completed_on=D(2026, 3, 1),
    )  # fmt: skip
    behind = make_task(
        quarterly, section, "3", lead=agency_b, co_owners=[agency_a], heading="建设慢病管理中心",
        status=TaskStatus.IN_PROGRESS, percent=10, due_on=D(2026, 12, 31),
    )  # fmt: skip
    overdue = make_task(
        quarterly, section, "4", lead=agency_b, heading="完成疫苗冷链改造", status=TaskStatus.IN_PROGRESS,
        percent=50, due_on=D(2026, 6, 30),
    )  # fmt: skip
    report(on_pace, staff_a, q1)
    report(on_pace, staff_a, q2)
    report(behind, staff_b, q1, late=True)
    report(overdue, staff_b, q1)
    report(overdue, staff_b, q2, late=True)
    # The indicator reads 8 per 100,000 against "at most 7/10万": missed.
    rate = Indicator.objects.create(
        plan=quarterly, task=overdue, name="孕产妇死亡率", comparator="<=", target=7, unit="1/10万"
    )
    Reading.objects.create(plan=quarterly, indicator=rate, value=8, as_of=D(2026, 6, 30), reporter=staff_b)
    return {"on_pace": on_pace, "finished": finished, "behind": behind, "overdue": overdue}


def q2_of(plan):
    return bulletins.period_by_start(plan, D(2026, 4, 1), TODAY)


def draft(plan, supervisor, today=TODAY):
    return bulletins.create_draft(plan, q2_of(plan), supervisor, today=today)


# --- Drafting -------------------------------------------------------------------------------


def test_it_defaults_to_the_last_finished_cycle_and_compares_with_the_one_before(quarterly):
    period = bulletins.default_period(quarterly, TODAY)
    assert (period.start, period.end, period.due_on) == (D(2026, 4, 1), D(2026, 6, 30), D(2026, 6, 5))
    assert bulletins.compared_with(quarterly, period).start == D(2026, 1, 1)


def test_it_compares_with_the_snapshot_at_the_end_of_the_previous_period(world, quarterly, supervisor):
    # given: the nightly rollup of 31 March (the end of Q1) and one earlier in Q1
    Snapshot.objects.create(day=D(2026, 3, 31), scope=SnapshotScope.PLAN, plan=quarterly, tasks=4, done=1,
                            overdue=0, at_risk=0, mean_percent=decimal.Decimal("40.00"))  # fmt: skip
    Snapshot.objects.create(day=D(2026, 3, 1), scope=SnapshotScope.PLAN, plan=quarterly, tasks=4,
                            mean_percent=decimal.Decimal("10.00"))  # fmt: skip

    # when
    data = draft(quarterly, supervisor).data

    # then: mean (80+100+10+50)/4 = 60 against 40 at the end of March
    comparison = data["comparison"]
    assert comparison["snapshot_day"] == "2026-03-31"
    assert comparison["rows"][0] == ["平均完成进度", "60.0%", "40.0%", "+20.0 个百分点"]
    assert ["逾期未完成", "1", "0", "+1 项"] in comparison["rows"]
    # on time: Q2 1 of 3 owing (33.3 %); Q1 2 of 4 (50 %)
    assert ["按时报送率", "33.3%", "50.0%", "-16.7 个百分点"] in comparison["rows"]
    assert "较上期末+20.0 个百分点" in data["summary"]


def test_without_a_snapshot_in_the_previous_period_it_says_there_is_nothing_to_compare(world, quarterly, supervisor):
    data = draft(quarterly, supervisor).data
    assert data["comparison"]["snapshot_day"] is None
    assert data["comparison"]["note"] == "上期（2026年第1季度）末无进展快照，进度类指标不作比较。"
    assert [row[0] for row in data["comparison"]["rows"]] == ["按时报送率"]
    assert "较上期末" not in data["summary"]


def test_it_ranks_agencies_by_score_then_completion_then_on_time_reporting(
    world, quarterly, supervisor, agency_a, agency_b
):
    # given: without a scheme, completion decides: A (80+100)/2 = 90 before B (10+50)/2 = 30
    data = draft(quarterly, supervisor).data
    fields = ("rank", "agency", "completion", "on_time_rate", "score")
    assert [tuple(line[f] for f in fields) for line in data["ranking"]] == [
        (1, "医政医管处", "90.0", "100.0", None),
        (2, "疾病预防控制处", "30.0", "0.0", None),
    ]

    # when: the assessment scores B higher
    scores = [
        Standing(1, agency_b.pk, agency_b.name, decimal.Decimal("92.5"), decimal.Decimal(0), decimal.Decimal(0)),
        Standing(2, agency_a.pk, agency_a.name, decimal.Decimal("88"), decimal.Decimal(0), decimal.Decimal(0)),
    ]
    with mock.patch("dashboards.bulletins.standings", autospec=True, return_value=scores) as standings:
        data = draft(quarterly, supervisor).data

    # then: the score comes first, and was asked for the plan's lead agencies up to today
    assert [(line["rank"], line["agency"], line["score"]) for line in data["ranking"]] == [
        (1, "疾病预防控制处", "92.5"),
        (2, "医政医管处", "88"),
    ]
    standings.assert_called_once_with(quarterly, until=TODAY, agency_ids={agency_a.pk, agency_b.pk})


def test_equal_agencies_share_a_rank(quarterly, section, agency_a, agency_b, supervisor):
    make_task(quarterly, section, "1", lead=agency_a, status=TaskStatus.IN_PROGRESS, percent=50, due_on=D(2026, 12, 31))
    make_task(quarterly, section, "2", lead=agency_b, status=TaskStatus.IN_PROGRESS, percent=50, due_on=D(2026, 12, 31))
    assert [line["rank"] for line in draft(quarterly, supervisor).data["ranking"]] == [1, 1]


def test_it_names_the_agencies_that_did_not_report_by_the_due_day(world, quarterly, supervisor):
    data = draft(quarterly, supervisor).data
    # A reported on time (its finished task owed nothing); B never sent one and sent one late.
    assert data["unreported"] == [
        {
            "agency": "疾病预防控制处",
            "missing": 1,
            "late": 1,
            "tasks": ["3. 建设慢病管理中心", "4. 完成疫苗冷链改造（逾期报送）"],
        }
    ]
    assert data["reporting"] == {"due": 3, "on_time": 1, "late": 1, "missing": 1, "rate": "33.3"}
    assert "1个单位存在未按时报送情况" in data["summary"]


def test_it_lists_red_and_amber_tasks_with_their_reasons_and_missed_indicators_with_units(world, quarterly, supervisor):
    data = draft(quarterly, supervisor).data
    assert [(item["task"], item["agency"], item["reason"]) for item in data["red"]] == [
        ("4. 完成疫苗冷链改造", "疾病预防控制处", "已逾期 10 天")
    ]
    assert [item["task"] for item in data["amber"]] == ["3. 建设慢病管理中心"]
    assert data["amber"][0]["reason"].startswith("进度 10%，落后时间进度")
    assert data["indicators_missed"] == [
        {"name": "孕产妇死亡率", "task": "4. 完成疫苗冷链改造", "agency": "疾病预防控制处",
         "target": "不高于 7/10万", "value": "8/10万", "as_of": "2026-06-30"}
    ]  # fmt: skip


def test_a_supervisor_whose_scope_misses_part_of_the_plan_cannot_draft(world, quarterly, outside_agency):
    # given: the outside bureau's supervisor sees the plan through its own task only
    make_task(quarterly, None, "9", lead=outside_agency)
    narrow = make_user("narrow", Role.SUPERVISOR, outside_agency)
    # when / then
    with pytest.raises(PermissionDenied):
        draft(quarterly, narrow)
    assert not Bulletin.objects.exists()


# --- Editing, re-drafting, issuing ---------------------------------------------------------------


def test_issuing_numbers_in_the_years_series_without_gaps_and_keeps_the_docx(world, quarterly, supervisor):
    # given: two drafts, the first refused once (no 下步要求), which must take no number
    first, second = draft(quarterly, supervisor), draft(quarterly, supervisor)
    with pytest.raises(ValidationError):
        bulletins.issue(first.pk, supervisor, version=first.version)

    # when
    first = bulletins.edit(first.pk, supervisor, version=1, title=first.title, summary=first.summary,
                           next_steps="一是加快进度。\n二是按时报送。")  # fmt: skip
    first = bulletins.issue(first.pk, supervisor, version=first.version)
    second = bulletins.edit(second.pk, supervisor, version=1, title=second.title, summary="", next_steps="按时报送。")
    second = bulletins.issue(second.pk, supervisor, version=second.version)

    # then
    year = first.issued_at.year
    assert [(b.seq, b.number) for b in (first, second)] == [
        (1, f"督查通报〔{year}〕1期"),
        (2, f"督查通报〔{year}〕2期"),
    ]
    document = docx.Document(first.docx.path)
    text = "\n".join(p.text for p in document.paragraphs)
    assert f"督查通报〔{year}〕1期" in text and "一是加快进度。" in text and "二是按时报送。" in text
    ranking = next(t for t in document.tables if t.rows[0].cells[0].text == "名次")
    assert [c.text for c in ranking.rows[1].cells] == ["1", "医政医管处", "90.0%", "100.0%", "—"]
    events = AuditEvent.objects.filter(object_id=str(first.pk), object_type="dashboards.bulletin")
    assert sorted(events.values_list("event_type", flat=True)) == sorted(
        [EventType.CREATE, EventType.UPDATE, EventType.TRANSITION]
    )


def test_an_issued_bulletin_never_changes(world, quarterly, supervisor):
    bulletin = draft(quarterly, supervisor)
    bulletin = bulletins.edit(bulletin.pk, supervisor, version=1, title="通报", summary="", next_steps="按时报送。")
    bulletin = bulletins.issue(bulletin.pk, supervisor, version=bulletin.version)
    frozen = (bulletin.data, bulletin.title, bulletin.next_steps, bulletin.docx.name)

    for attempt in (
        lambda: bulletins.edit(
            bulletin.pk, supervisor, version=bulletin.version, title="改", summary="", next_steps="改"
        ),
        lambda: bulletins.redraft(bulletin.pk, supervisor, version=bulletin.version),
        lambda: bulletins.issue(bulletin.pk, supervisor, version=bulletin.version),
    ):
        with pytest.raises(ValidationError, match="已印发"):
            attempt()
    bulletin.refresh_from_db()
    assert (bulletin.data, bulletin.title, bulletin.next_steps, bulletin.docx.name) == frozen
    assert bulletin.seq == 1


def test_a_redraft_keeps_a_summary_the_supervisor_rewrote(world, quarterly, supervisor):
    bulletin = draft(quarterly, supervisor)
    bulletin = bulletins.edit(
        bulletin.pk, supervisor, version=1, title=bulletin.title, summary="手写概述", next_steps=""
    )
    world["behind"].percent = 60
    world["behind"].save()
    bulletin, rewritten = bulletins.redraft(bulletin.pk, supervisor, version=bulletin.version, today=TODAY)
    assert not rewritten and bulletin.summary == "手写概述"
    assert bulletin.data["amber"] == []


def test_a_stale_edit_is_refused_with_409_and_changes_nothing(client, world, quarterly, supervisor):
    # given: two tabs on version 1; the first saves
    bulletin = draft(quarterly, supervisor)
    client.force_login(supervisor)
    url = reverse("dashboards:bulletin_edit", args=[bulletin.pk])
    data = {"version": 1, "title": "第一", "summary": "", "next_steps": "甲"}
    assert client.post(url, data).status_code == 302

    # when: the second saves on version 1
    response = client.post(url, {**data, "title": "第二"})

    # then
    assert response.status_code == 409
    assert "已被他人修改" in response.content.decode()
    bulletin.refresh_from_db()
    assert (bulletin.title, bulletin.version) == ("第一", 2)


# --- Pages, access, queries ----------------------------------------------------------------------


def test_a_supervisor_drafts_edits_and_issues_through_the_pages(client, world, quarterly, supervisor):
    client.force_login(supervisor)
    response = client.get(reverse("dashboards:bulletin_new"))
    assert response.status_code == 200
    response = client.post(reverse("dashboards:bulletin_new"), {"period": f"{quarterly.pk}:2026-04-01"})
    bulletin = Bulletin.objects.get()
    assert response.status_code == 302 and bulletin.period_label == "2026年第2季度"
    issue_url = reverse("dashboards:bulletin_issue", args=[bulletin.pk])
    assert client.post(issue_url, {"version": 1}).status_code == 400  # no 下步要求 yet
    edited = {"version": 1, "title": bulletin.title, "summary": bulletin.summary, "next_steps": "按时报送。"}
    client.post(reverse("dashboards:bulletin_edit", args=[bulletin.pk]), edited)
    assert client.post(issue_url, {"version": 2}).status_code == 302
    bulletin.refresh_from_db()
    assert bulletin.state == BulletinState.ISSUED
    response = client.get(reverse("dashboards:bulletin_docx", args=[bulletin.pk]))
    assert response.status_code == 200
    cells = {c.text for t in docx.Document(io.BytesIO(response.content)).tables for r in t.rows for c in r.cells}
    assert {"医政医管处", "疾病预防控制处"} <= cells
    assert AuditEvent.objects.filter(event_type=EventType.EXPORT, object_id=str(bulletin.pk)).exists()


def test_a_bad_period_is_refused_in_chinese_and_drafts_nothing(client, world, quarterly, supervisor):
    client.force_login(supervisor)
    response = client.post(reverse("dashboards:bulletin_new"), {"period": f"{quarterly.pk}:2026-02-30"})
    assert response.status_code == 400 and "无效" in response.content.decode()
    assert not Bulletin.objects.exists()


def test_staff_have_no_access(client, world, quarterly, supervisor, staff_a):
    bulletin = draft(quarterly, supervisor)
    client.force_login(staff_a)
    for name, args in (("bulletin_list", []), ("bulletin_new", []), ("bulletin_detail", [bulletin.pk]),
                       ("bulletin_docx", [bulletin.pk])):  # fmt: skip
        assert client.get(reverse(f"dashboards:{name}", args=args)).status_code == 403


def test_leaders_read_issued_bulletins_of_their_plans_only(
    client, world, quarterly, supervisor, leader, leader_outside
):
    # given: one draft and one issued
    hidden = draft(quarterly, supervisor)
    issued = draft(quarterly, supervisor)
    issued = bulletins.edit(issued.pk, supervisor, version=1, title="通报", summary="", next_steps="按时报送。")
    issued = bulletins.issue(issued.pk, supervisor, version=issued.version)

    # then: the plan's leader reads the issued one, not the draft, and cannot edit
    client.force_login(leader)
    assert client.get(reverse("dashboards:bulletin_detail", args=[issued.pk])).status_code == 200
    assert client.get(reverse("dashboards:bulletin_detail", args=[hidden.pk])).status_code == 404
    assert client.post(reverse("dashboards:bulletin_redraft", args=[hidden.pk]), {"version": 1}).status_code == 403
    listed = client.get(reverse("dashboards:bulletin_list")).context["page"].object_list
    assert [b.pk for b in listed] == [issued.pk]
    # and a leader outside the plan finds nothing
    client.force_login(leader_outside)
    assert client.get(reverse("dashboards:bulletin_detail", args=[issued.pk])).status_code == 404
    assert client.get(reverse("dashboards:bulletin_docx", args=[issued.pk])).status_code == 404


def test_the_pages_run_a_bounded_number_of_queries(client, world, quarterly, supervisor, django_assert_max_num_queries):
    for _ in range(5):
        draft(quarterly, supervisor)
    bulletin = Bulletin.objects.first()
    client.force_login(supervisor)
    with django_assert_max_num_queries(14):
        assert client.get(reverse("dashboards:bulletin_list")).status_code == 200
    with django_assert_max_num_queries(14):
        assert client.get(reverse("dashboards:bulletin_detail", args=[bulletin.pk])).status_code == 200


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's row locks to race for real")
@pytest.mark.django_db(transaction=True)
def test_two_bulletins_issued_at_once_take_consecutive_numbers(world, quarterly, supervisor):
    drafts = []
    for _ in range(4):
        b = draft(quarterly, supervisor)
        drafts.append(bulletins.edit(b.pk, supervisor, version=1, title="通报", summary="", next_steps="按时报送。"))
    barrier, errors = threading.Barrier(len(drafts)), []

    def one(bulletin):
        try:
            barrier.wait(timeout=10)
            bulletins.issue(bulletin.pk, supervisor, version=bulletin.version)
        except Exception as error:
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=one, args=(b,)) for b in drafts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sorted(Bulletin.objects.values_list("seq", flat=True)) == [1, 2, 3, 4]


def issued(plan, supervisor):
    bulletin = draft(plan, supervisor)
    bulletin = bulletins.edit(bulletin.pk, supervisor, version=1, title="通报", summary="", next_steps="按时报送。")
    return bulletins.issue(bulletin.pk, supervisor, version=bulletin.version)


def test_without_libreoffice_the_pdf_is_a_chinese_message(client, world, quarterly, supervisor):
    bulletin = issued(quarterly, supervisor)
    client.force_login(supervisor)
    with mock.patch("dashboards.bulletins.programs.which", autospec=True, return_value=None):
        response = client.get(reverse("dashboards:bulletin_pdf", args=[bulletin.pk]))
    assert response.status_code == 503
    assert "未安装 LibreOffice" in response.content.decode()


@pytest.mark.skipif(not bulletins.pdf_available(), reason="LibreOffice is not installed")
def test_where_libreoffice_is_installed_the_pdf_is_made_from_the_kept_docx(client, world, quarterly, supervisor):
    bulletin = issued(quarterly, supervisor)
    client.force_login(supervisor)
    response = client.get(reverse("dashboards:bulletin_pdf", args=[bulletin.pk]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
