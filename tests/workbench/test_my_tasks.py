"""我的任务: what staff see, the filters, search in either script, sorting, paging, and a
bounded number of queries."""

import datetime
import re

import pytest
import time_machine
from django.utils import timezone

from core.roles import Role
from tests.conftest import make_task, make_user

URL = "/tasks/mine/"
PLAN_OPTIONS = "/tasks/mine/plans/"
TODAY = datetime.date(2026, 11, 24)


@pytest.fixture(autouse=True)
def today():
    # Noon in Shanghai, so "today" is the same calendar day in every test.
    with time_machine.travel(datetime.datetime(2026, 11, 24, 4, 0, tzinfo=datetime.UTC), tick=False):
        yield TODAY


def headings(response) -> list[str]:
    html = response.content.decode()
    return re.findall(r'<a href="/tasks/\d+/">([^<]+)</a>', html)


def report(task, user, status, percent, note="", at=None):
    from tasks.models import ProgressUpdate

    ProgressUpdate(
        task=task, author=user, status=status, percent=percent, note=note, created_at=at or timezone.now()
    ).save()


@pytest.fixture
def tasks(plan, section, agency_a, agency_b, outside_agency):
    """Tasks of agency A: led, co-owned, overdue, due soon, done; and one A has nothing to do with."""
    return {
        "led": make_task(
            plan, section, "1", lead=agency_a, heading="推进医疗集团建设", due_on=datetime.date(2026, 12, 31)
        ),
        "co": make_task(
            plan,
            section,
            "2",
            lead=agency_b,
            co_owners=[agency_a],
            heading="完善传染病监测预警",
            due_on=datetime.date(2026, 12, 31),
        ),
        "late": make_task(
            plan, section, "3", lead=agency_a, heading="醫療服務質量提升行動", due_on=datetime.date(2026, 10, 31)
        ),
        "soon": make_task(
            plan, section, "4", lead=agency_a, heading="年底前完成专科评估", due_on=datetime.date(2026, 12, 5)
        ),
        "done": make_task(
            plan,
            section,
            "5",
            lead=agency_a,
            heading="已经完成的任务",
            due_on=datetime.date(2026, 6, 30),
            status="done",
            percent=100,
        ),
        "other": make_task(plan, section, "6", lead=outside_agency, heading="别的单位的任务"),
    }


def test_it_lists_the_tasks_the_agency_leads_or_co_owns(client, staff_a, tasks):
    # given staff of agency A
    client.force_login(staff_a)
    # when they open 我的任务
    response = client.get(URL)
    # then they see A's tasks, lead and co-owned, and nothing else
    assert response.status_code == 200
    shown = headings(response)
    assert set(shown) == {
        "推进医疗集团建设",
        "完善传染病监测预警",
        "醫療服務質量提升行動",
        "年底前完成专科评估",
        "已经完成的任务",
    }
    assert "别的单位的任务" not in response.content.decode()


def test_it_sorts_by_due_date_by_default(client, staff_a, tasks):
    client.force_login(staff_a)
    shown = headings(client.get(URL))
    assert shown[:3] == ["已经完成的任务", "醫療服務質量提升行動", "年底前完成专科评估"]


def test_it_shows_mark_role_status_next_milestone_and_cycle_report(client, staff_a, tasks):
    from tasks.models import Milestone

    # given an overdue task with an open milestone, and a task reported this month
    Milestone.objects.create(task=tasks["late"], due_on=datetime.date(2026, 9, 30), text="完成方案制定")
    report(tasks["led"], staff_a, "in_progress", 90, "进展顺利")
    client.force_login(staff_a)
    # when
    html = client.get(URL).content.decode()
    # then each row carries its risk mark, role, next milestone and whether this cycle's report is in
    late_row = html[html.index("醫療服務質量提升行動") - 900 : html.index("醫療服務質量提升行動") + 1500]
    assert "risk-red" in late_row and "已逾期 24 天" in late_row
    assert "2026-09-30" in late_row and "完成方案制定" in late_row
    assert "未报" in late_row
    led_row = html[html.index("推进医疗集团建设") : html.index("推进医疗集团建设") + 1500]
    assert "已报" in led_row and "90%" in led_row
    co_row = html[html.index("完善传染病监测预警") : html.index("完善传染病监测预警") + 600]
    assert "配合" in co_row


@pytest.mark.parametrize(
    "query, expected",
    [
        ("overdue=1", {"醫療服務質量提升行動"}),
        ("due_within=14", {"年底前完成专科评估"}),
        ("role=lead", {"推进医疗集团建设", "醫療服務質量提升行動", "年底前完成专科评估", "已经完成的任务"}),
        ("role=co_owner", {"完善传染病监测预警"}),
        ("status=done", {"已经完成的任务"}),
        ("status=done&status=not_started", None),  # every task but none
        ("risk=red", {"醫療服務質量提升行動"}),
        ("risk=done", {"已经完成的任务"}),
        ("q=医疗", {"推进医疗集团建设", "醫療服務質量提升行動"}),  # simplified finds traditional
        ("q=醫療 集團", {"推进医疗集团建设"}),  # traditional finds simplified; every word must match
        ("q=传染病", {"完善传染病监测预警"}),
        ("year=2025", set()),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_it_filters(client, staff_a, tasks, query, expected):
    client.force_login(staff_a)
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 200
    if expected is None:
        expected = {
            "推进医疗集团建设",
            "完善传染病监测预警",
            "醫療服務質量提升行動",
            "年底前完成专科评估",
            "已经完成的任务",
        }
    assert set(headings(response)) == expected


def test_it_filters_by_plan_among_the_plans_it_offers(client, staff_a, tasks, other_plan, agency_a):
    # given a task of A in another active plan
    make_task(other_plan, None, "1", lead=agency_a, heading="去年计划的任务")
    client.force_login(staff_a)
    # when filtering by that plan
    response = client.get(f"{URL}?plan={other_plan.pk}")
    # then only its task shows; the plan is offered in the filter
    assert set(headings(response)) == {"去年计划的任务"}
    assert f'value="{other_plan.pk}"' in response.content.decode()


def test_a_plan_the_user_has_no_task_in_is_not_a_filter_choice(client, staff_a, tasks, commission, outside_agency):
    from workplans.models import Plan

    # given an active plan in which agency A owns nothing
    hidden = Plan.objects.create(title="与本单位无关的计划", year=2026, issuer=commission, status="active")
    make_task(hidden, None, "1", lead=outside_agency, heading="无关计划的任务")
    client.force_login(staff_a)
    # when A's staff search the plans, and then ask for that plan anyway
    offered = client.get(PLAN_OPTIONS, {"q": "计划"}).json()["results"]
    response = client.get(f"{URL}?plan={hidden.pk}")
    # then it is not offered, and asking for it is a filter error that shows none of its tasks
    assert "与本单位无关的计划" not in {plan["text"] for plan in offered}
    html = response.content.decode()
    assert "选择一个有效的选项" in html
    assert "无关计划的任务" not in html


def test_unreported_filter_and_banner_show_what_is_owed_this_cycle(client, staff_a, tasks):
    # given one open task reported this month and one reported last month
    report(tasks["led"], staff_a, "in_progress", 50)
    report(
        tasks["soon"],
        staff_a,
        "in_progress",
        20,
        at=datetime.datetime(2026, 10, 20, 10, tzinfo=timezone.get_current_timezone()),
    )
    client.force_login(staff_a)
    # when
    response = client.get(f"{URL}?reported=0")
    # then what is still owed: open tasks with no update this month (done tasks owe nothing)
    assert set(headings(response)) == {"完善传染病监测预警", "醫療服務質量提升行動", "年底前完成专科评估"}
    assert "本期还有 3 项任务未报送进展" in response.content.decode()
    assert set(headings(client.get(f"{URL}?reported=1"))) == {"推进医疗集团建设"}


def test_a_quarterly_plan_counts_a_report_anywhere_in_the_quarter(client, staff_a, plan, agency_a):
    plan.reporting_cycle = "quarterly"
    plan.save()
    task = make_task(plan, None, "9", lead=agency_a, heading="季度报送的任务")
    report(
        task, staff_a, "in_progress", 10, at=datetime.datetime(2026, 10, 2, 10, tzinfo=timezone.get_current_timezone())
    )
    client.force_login(staff_a)
    assert set(headings(client.get(f"{URL}?reported=1"))) == {"季度报送的任务"}


@pytest.mark.parametrize(
    "sort, first",
    [("-due", "推进医疗集团建设"), ("percent", None), ("-percent", "已经完成的任务"), ("number", "推进医疗集团建设")],
)
def test_it_sorts(client, staff_a, tasks, sort, first):
    client.force_login(staff_a)
    shown = headings(client.get(f"{URL}?sort={sort}"))
    if first:
        assert shown[0] == first
    assert len(shown) == 5


def test_a_bad_filter_value_gets_a_chinese_message_and_changes_nothing(client, staff_a, tasks):
    client.force_login(staff_a)
    response = client.get(f"{URL}?due_within=abc&status=bogus")
    assert response.status_code == 400  # as every list page answers a filter it cannot use
    html = response.content.decode()
    assert "N 天内到期：输入一个数字。" in html
    assert "状态：选择一个有效的选项。 bogus 不在可用的选项中。" in html


def test_it_pages(client, staff_a, plan, agency_a):
    from workbench.views import TASKS_PER_PAGE

    for n in range(TASKS_PER_PAGE + 5):
        make_task(plan, None, str(n + 1), lead=agency_a, heading=f"分页任务{n + 1:03d}", order=n)
    client.force_login(staff_a)
    first = headings(client.get(URL))
    second = headings(client.get(f"{URL}?page=2"))
    assert len(first) == TASKS_PER_PAGE and len(second) == 5
    assert not set(first) & set(second)
    assert first == sorted(first) and second == sorted(second)
    assert "page=2" in client.get(URL).content.decode()
    # every page says how many in all
    assert f"共 {TASKS_PER_PAGE + 5} 项" in client.get(f"{URL}?page=2").content.decode()
    # a page past the end shows the last one, and a page that is not a number the first
    assert headings(client.get(f"{URL}?page=9")) == second
    assert headings(client.get(f"{URL}?page=0")) == second
    assert headings(client.get(f"{URL}?page=abc")) == first


def test_leaders_see_the_agencies_below_them_and_admins_all(client, leader, admin_user, tasks):
    client.force_login(leader)
    assert "别的单位的任务" not in headings(client.get(URL))
    assert "完善传染病监测预警" in headings(client.get(URL))
    client.force_login(admin_user)
    assert "别的单位的任务" in headings(client.get(URL))


def test_auditors_are_refused(client, auditor, tasks):
    client.force_login(auditor)
    assert client.get(URL).status_code == 403


def test_draft_and_archived_plans_are_not_listed(client, staff_a, commission, agency_a):
    from workplans.models import Plan

    for status in ("draft", "archived"):
        draft = Plan.objects.create(title=f"{status}计划", year=2026, issuer=commission, status=status)
        make_task(draft, None, "1", lead=agency_a, heading=f"{status}的任务")
    client.force_login(staff_a)
    assert headings(client.get(URL)) == []


@pytest.mark.parametrize("rows", [3, 60])
def test_it_runs_a_bounded_number_of_queries(
    client, django_assert_max_num_queries, plan, section, agency_a, agency_b, staff_a, rows
):
    from tasks.models import Milestone

    for n in range(rows):
        task = make_task(plan, section, str(n + 1), lead=agency_a, co_owners=[agency_b])
        Milestone.objects.create(task=task, due_on=datetime.date(2026, 12, 1), text="节点")
        report(task, staff_a, "in_progress", 10)
    client.force_login(staff_a)
    # session, user, agency, count, the page (its ids a subquery), owed count, session save
    # (3), and the header's work-list badge (one query, then cached); no list of plans
    with django_assert_max_num_queries(10):
        response = client.get(f"{URL}?q=任务&overdue=0&sort=-updated")
    assert response.status_code == 200


def plan_select(response) -> str:
    return re.search(r'<select name="plan".*?</select>', response.content.decode(), re.S).group(0)


def test_the_plan_filter_is_a_search_box_not_a_list_of_every_plan(
    client, staff_a, tasks, other_plan, commission, agency_a
):
    from workplans.models import Plan

    # given A owns tasks in three plans
    third = Plan.objects.create(title="2026年基层卫生工作要点", year=2026, issuer=commission, status="active")
    make_task(other_plan, None, "1", lead=agency_a, heading="去年计划的任务")
    make_task(third, None, "1", lead=agency_a, heading="基层的任务")
    client.force_login(staff_a)
    # when the list is opened, and with one plan chosen
    unchosen = plan_select(client.get(URL))
    chosen = plan_select(client.get(f"{URL}?plan={third.pk}"))
    # then the select holds the empty choice (and the chosen plan), and names where to search
    assert re.findall(r'<option value="(\d*)"', unchosen) == [""]
    assert re.findall(r'<option value="(\d*)"', chosen) == ["", str(third.pk)]
    assert "2026年基层卫生工作要点" in chosen and 'data-options-url="/tasks/mine/plans/"' in chosen
    assert "js/search_select.js" in client.get(URL).content.decode()


def test_the_plan_search_answers_the_plans_the_user_sees_by_words_of_the_title(
    client, staff_a, tasks, plan, other_plan, commission, agency_a, outside_agency
):
    from workplans.models import Plan

    # given A owns tasks in two plans; a third is another agency's
    make_task(other_plan, None, "1", lead=agency_a, heading="去年计划的任务")
    elsewhere = Plan.objects.create(title="2026年别处工作要点", year=2026, issuer=commission, status="active")
    make_task(elsewhere, None, "1", lead=outside_agency, heading="别处的任务")
    client.force_login(staff_a)
    # when A's staff search with nothing, with a word of one title, and with junk
    everything = client.get(PLAN_OPTIONS).json()
    one = client.get(PLAN_OPTIONS, {"q": f"{other_plan.year}年 工作"}).json()
    junk = client.get(PLAN_OPTIONS, {"q": "\x00%_" * 50})
    # then only their plans come back, newest year first, narrowed by the words
    assert [row["id"] for row in everything["results"]] == [plan.pk, other_plan.pk]
    assert everything["more"] is False
    assert [row["id"] for row in one["results"]] == [other_plan.pk]
    assert junk.status_code in (200, 400) and elsewhere.title not in junk.content.decode()


def test_the_plan_search_is_refused_to_auditors(client, auditor, tasks):
    client.force_login(auditor)
    assert client.get(PLAN_OPTIONS).status_code == 403


@pytest.mark.parametrize("role", ["staff_a", "leader"])
def test_its_queries_do_not_grow_with_the_tasks_of_other_agencies(
    request, client, plan, section, agency_a, outside_agency, role
):
    # given a page of A's tasks, and other agencies' tasks added in between two visits
    for n in range(5):
        make_task(plan, section, f"a{n}", lead=agency_a)
    client.force_login(request.getfixturevalue(role))

    def queries() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"{URL}?overdue=0").status_code == 200
        return len(captured.captured_queries)

    client.get(URL)  # the header's work-list badge is cached from here on
    # when
    few = queries()
    for n in range(40):
        make_task(plan, section, f"o{n}", lead=outside_agency)
    many = queries()
    # then
    assert few == many


def test_it_works_in_english_when_chosen(client, staff_a, tasks):
    client.force_login(staff_a)
    client.post("/i18n/setlang/", {"language": "en", "next": URL})
    html = client.get(URL).content.decode()
    assert "My tasks" in html and "Overdue" in html


def test_staff_without_agency_cannot_exist_so_role_staff_always_has_scope(db, agency_a):
    user = make_user("staff_x", Role.STAFF, agency_a)
    from accounts.services import scope_agency_ids

    assert scope_agency_ids(user) == {agency_a.pk}
