"""The assessment's pages: who may open which, the scope of what they see, the scheme
editor, leaders' evaluations, the freeze (after which all is read-only), the export, the
Chinese refusals and the pages' query bounds."""

import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessment import services
from assessment.choices import SchemeState
from assessment.models import Evaluation, Scheme
from audit.models import AuditEvent
from core.roles import Role
from indicators.models import Indicator
from tests.assessment.scenario import build_year, notice, report
from tests.fixtures.accounts import make_user
from tests.fixtures.tasks import make_task


@pytest.fixture(autouse=True)
def after_the_year():
    # The year 2026 is over (its year-end items count) whatever the machine's clock says.
    with time_machine.travel(datetime.datetime(2027, 1, 5, 9, tzinfo=datetime.UTC), tick=False):
        yield


@pytest.fixture
def year(plan, section, agency_a, agency_b, commission, staff_a, supervisor, leader, admin_user):
    return build_year(plan, section, agency_a, agency_b, commission, staff_a, supervisor, leader, admin_user)


def url(name, year, *args):
    return reverse(f"assessment:{name}", args=[year.plan.pk, *args])


def names(response) -> list[str]:
    return [s.agency_name for s in response.context["outcome"].standings]


@pytest.mark.parametrize(
    "persona, status",
    [
        ("leader", 200),
        ("supervisor", 200),
        ("admin_user", 200),
        ("staff_a", 403),
        ("auditor", 403),
        ("staff_outside", 403),
    ],
)
def test_the_ranking_is_for_the_oversight_roles(client, request, year, persona, status):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("assessment:index")).status_code == status
    assert client.get(url("ranking", year)).status_code == status


def test_the_ranking_lists_the_agencies_in_order_with_the_split(client, year, leader):
    client.force_login(leader)
    response = client.get(url("ranking", year))
    assert names(response) == ["医政医管处", "规划发展处", "疾病预防控制处"]
    body = response.content.decode()
    assert "牵头任务得分" in body and "配合任务得分" in body and "<td>-8.5</td><td>-11</td><td>2.5</td>" in body


def test_a_leader_outside_the_plan_gets_404(client, year, leader_outside):
    client.force_login(leader_outside)
    assert client.get(url("ranking", year)).status_code == 404
    assert client.get(url("agency", year, year.agency_a.pk)).status_code == 404


def test_a_leader_sees_only_the_agencies_of_their_scope(client, year):
    # given: a leader over agency A alone
    leader_a = make_user("leader_a", Role.LEADER, year.agency_a)
    client.force_login(leader_a)
    # when / then
    assert names(client.get(url("ranking", year))) == ["医政医管处"]
    assert client.get(url("agency", year, year.agency_b.pk)).status_code == 404


def test_a_cycle_filter_ranks_that_cycle_and_a_bad_one_says_so(client, year, leader):
    client.force_login(leader)
    response = client.get(url("ranking", year), {"cycle": "2026-07-01"})
    assert [(s.agency_name, s.points) for s in response.context["outcome"].standings] == [
        ("规划发展处", Decimal("1.00")),
        ("医政医管处", Decimal("0")),
        ("疾病预防控制处", Decimal("-2.00")),
    ]
    bad = client.get(url("ranking", year), {"cycle": "2026-02-30"})
    assert bad.status_code == 400
    assert "选择一个有效的选项" in bad.content.decode()


def test_the_drill_down_links_every_item_to_its_task_and_event(client, year, leader):
    client.force_login(leader)
    response = client.get(url("agency", year, year.agency_b.pk))
    body = response.content.decode()
    assert "红色督办单 督办〔2026〕2号" in body
    assert reverse("escalation:notice_detail", args=[year.notices["red"].pk]) in body
    assert reverse("tasks:task_detail", args=[year.t2.pk]) in body
    q2 = year.t2.period_reports.get(period_start=datetime.date(2026, 4, 1))
    assert reverse("supervision:report_detail", args=[q2.pk]) in body
    assert reverse("supervision:request_detail", args=[year.t2.change_requests.get().pk]) in body
    assert "第2期（2026年第2季度）报告被督查室退回：佐证材料不足，请补充" in body
    assert len(response.context["rows"]) == 11


def test_the_pages_run_a_bounded_number_of_queries(client, year, leader, section, django_assert_max_num_queries):
    client.force_login(leader)
    with django_assert_max_num_queries(22):
        assert client.get(url("ranking", year)).status_code == 200
    with django_assert_max_num_queries(21):
        assert client.get(url("agency", year, year.agency_b.pk)).status_code == 200
    with django_assert_max_num_queries(8):
        assert client.get(reverse("assessment:index")).status_code == 200


def test_the_ranking_costs_the_same_with_more_tasks(client, year, leader, section):
    # given: the count with three tasks
    client.force_login(leader)
    with CaptureQueriesContext(connection) as three:
        client.get(url("ranking", year))
    # when: ten more tasks, each with a report, a notice and an indicator
    for number in range(10, 20):
        task = make_task(year.plan, section, str(number), lead=year.agency_a, co_owners=[year.agency_b])
        report(task, 1, leader, datetime.date(2026, 3, 1))
        notice(task, year.agency_a, "yellow", number, datetime.date(2026, 5, 1), leader)
        Indicator.objects.create(plan=year.plan, task=task, name=f"指标{number}", target=1)
    with CaptureQueriesContext(connection) as thirteen:
        client.get(url("ranking", year))
    # then
    assert len(thirteen.captured_queries) == len(three.captured_queries) - 2  # no session write the second time


# --- The scheme ------------------------------------------------------------------------------


def scheme_post(scheme, **changes):
    data = {"action": "save", "version": scheme.version, "lead_weight": "1.00", "co_weight": "0.50"}
    for row in scheme.rules.all():
        if row.enabled:
            data[f"{row.block}_enabled"] = "on"
        data[f"{row.block}_points"] = str(row.points)
    data.update(changes)
    return data


def test_the_admin_creates_a_scheme_with_the_defaults(client, plan, admin_user):
    client.force_login(admin_user)
    page = client.get(reverse("assessment:scheme", args=[plan.pk]))
    assert "按默认分值创建考核方案" in page.content.decode()
    client.post(reverse("assessment:scheme", args=[plan.pk]), {"action": "create"})
    scheme = Scheme.objects.get(plan=plan)
    assert (scheme.state, scheme.lead_weight, scheme.co_weight) == (SchemeState.DRAFT, Decimal("1.00"), Decimal("0.50"))
    assert dict(scheme.rules.values_list("block", "points"))["notice_red"] == Decimal("-2.00")
    # a draft gives the bulletin nothing yet
    assert services.standings(plan) == []


def test_the_admin_edits_the_points_and_a_bad_value_changes_nothing(client, year, admin_user):
    client.force_login(admin_user)
    scheme = year.scheme
    # when: a bad value
    bad = client.post(url("scheme", year), scheme_post(scheme, notice_red_points="很多", co_weight="11"))
    # then
    assert bad.status_code == 400
    body = bad.content.decode()
    assert "请输入一个数字" in body or "输入一个数字" in body
    assert scheme.rules.get(block="notice_red").points == Decimal("-2.00")
    # when: a good one
    good = client.post(url("scheme", year), scheme_post(scheme, notice_red_points="-3", co_weight="0.40"))
    # then
    assert good.status_code == 302
    scheme.refresh_from_db()
    assert (scheme.rules.get(block="notice_red").points, scheme.co_weight) == (Decimal("-3.00"), Decimal("0.40"))
    assert AuditEvent.objects.filter(object_type="assessment.scheme", event_type="update").exists()


def test_a_stale_scheme_form_is_refused(client, year, admin_user):
    client.force_login(admin_user)
    response = client.post(url("scheme", year), scheme_post(year.scheme, version=1))
    assert response.status_code == 409
    assert "考核方案已被他人修改" in response.content.decode()


@pytest.mark.parametrize("persona", ["leader", "supervisor", "staff_a"])
def test_only_the_admin_edits_the_scheme_and_freezes(client, request, year, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(url("scheme", year)).status_code == 403
    assert client.post(url("freeze", year), {"version": year.scheme.version, "confirm": "on"}).status_code == 403
    year.scheme.refresh_from_db()
    assert year.scheme.state == SchemeState.ACTIVE


# --- Evaluations ------------------------------------------------------------------------------


def test_a_leader_evaluates_with_a_reason_and_it_is_audited(client, year, leader):
    client.force_login(leader)
    # when: no reason, points out of range
    bad = client.post(url("evaluate", year), {"agency": year.agency_a.pk, "points": "9", "reason": "  "})
    # then
    assert bad.status_code == 400
    body = bad.content.decode()
    assert "该字段是必填项" in body
    assert "5" in body and Evaluation.objects.filter(agency=year.agency_a).count() == 0
    # when: a good one
    good = client.post(url("evaluate", year), {"agency": year.agency_a.pk, "points": "-0.5", "reason": "材料多次补报"})
    # then
    assert good.status_code == 302
    evaluation = Evaluation.objects.get(agency=year.agency_a)
    assert (evaluation.points, evaluation.given_by) == (Decimal("-0.50"), leader)
    event = AuditEvent.objects.get(object_type="assessment.evaluation", object_id=str(evaluation.pk))
    assert event.detail["reason"] == "材料多次补报"


def test_a_leader_cannot_evaluate_outside_their_scope(client, year):
    leader_a = make_user("leader_a", Role.LEADER, year.agency_a)
    client.force_login(leader_a)
    response = client.post(url("evaluate", year), {"agency": year.agency_b.pk, "points": "1", "reason": "好"})
    assert response.status_code == 400
    assert "选择一个有效的选项" in response.content.decode()
    assert not Evaluation.objects.filter(agency=year.agency_b).exists()


# --- The freeze and the export ----------------------------------------------------------------


def test_the_freeze_asks_for_confirmation_then_makes_everything_read_only(client, year, admin_user, leader):
    client.force_login(admin_user)
    # when: no confirmation
    refused = client.post(url("freeze", year), {"version": year.scheme.version})
    assert refused.status_code == 400
    assert "请勾选确认后再冻结" in refused.content.decode()
    # when: confirmed
    assert client.post(url("freeze", year), {"version": year.scheme.version, "confirm": "on"}).status_code == 302
    year.scheme.refresh_from_db()
    assert year.scheme.state == SchemeState.FROZEN
    # then: the scheme is read-only
    refused = client.post(url("scheme", year), scheme_post(year.scheme, notice_red_points="-9"))
    assert refused.status_code == 409
    assert "本年度考核结果已冻结" in refused.content.decode()
    assert year.scheme.rules.get(block="notice_red").points == Decimal("-2.00")
    again = client.post(url("freeze", year), {"version": year.scheme.version, "confirm": "on"})
    assert again.status_code == 409
    # and so are the evaluations
    client.force_login(leader)
    refused = client.post(url("evaluate", year), {"agency": year.agency_a.pk, "points": "1", "reason": "补评"})
    assert refused.status_code == 409
    assert "本年度考核结果已冻结" in refused.content.decode()
    assert not Evaluation.objects.filter(agency=year.agency_a).exists()
    assert "已冻结" in client.get(url("ranking", year)).content.decode()


def test_the_frozen_result_exports_as_a_workbook(client, year, admin_user, leader):
    services.freeze(year.scheme.pk, admin_user, version=year.scheme.version)
    client.force_login(leader)
    response = client.get(url("export", year))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    ranking, items = workbook.worksheets
    assert [row[1] for row in ranking.iter_rows(min_row=3, values_only=True)] == [
        "医政医管处",
        "规划发展处",
        "疾病预防控制处",
    ]
    reasons = [row[8] for row in items.iter_rows(min_row=2, values_only=True)]
    assert "红色督办单 督办〔2026〕2号" in reasons
    assert len(reasons) == 25
    assert AuditEvent.objects.filter(event_type="export", object_type="assessment.scheme").exists()


def test_there_is_no_export_before_the_freeze(client, year, leader):
    client.force_login(leader)
    response = client.get(url("export", year), follow=True)
    assert "考核结果冻结后才能导出" in response.content.decode()
