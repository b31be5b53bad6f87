"""The leaders' overview: figures for their scope and year, per plan, section and agency,
drill-down links, indicators, and a bounded number of queries."""

import datetime
import decimal
import itertools
import json
import re

import pytest
import time_machine
from django.utils import timezone

from tests.conftest import make_task, make_user

URL = "/dashboard/"


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(datetime.datetime(2026, 11, 24, 4, 0, tzinfo=datetime.UTC), tick=False):
        yield datetime.date(2026, 11, 24)


def report(task, user, status, percent):
    from tasks.models import ProgressUpdate

    ProgressUpdate(task=task, author=user, status=status, percent=percent, note="进展").save()


@pytest.fixture
def work(plan, section, agency_a, agency_b, outside_agency, staff_a, staff_b):
    from indicators.models import Indicator, Reading

    tasks = {
        "a_done": make_task(plan, section, "1", lead=agency_a, due_on=datetime.date(2026, 6, 30)),
        "a_late": make_task(
            plan, section, "2", lead=agency_a, co_owners=[agency_b], due_on=datetime.date(2026, 10, 31)
        ),
        "b_amber": make_task(plan, None, "3", lead=agency_b, due_on=datetime.date(2026, 12, 31)),
        "outside": make_task(plan, None, "4", lead=outside_agency, due_on=datetime.date(2026, 1, 31)),
    }
    report(tasks["a_done"], staff_a, "done", 100)
    report(tasks["a_late"], staff_a, "in_progress", 40)
    report(tasks["b_amber"], staff_b, "in_progress", 30)
    up = Indicator.objects.create(task=tasks["a_done"], name="每千人口床位数", comparator=">=", target=6, unit="张")
    down = Indicator.objects.create(task=tasks["a_late"], name="孕产妇死亡率", comparator="<=", target=7, unit="/10万")
    Indicator.objects.create(task=tasks["b_amber"], name="未填报的指标", comparator=">=", target=1)
    Reading.objects.create(indicator=up, value=5, as_of=datetime.date(2026, 3, 31), reporter=staff_a)
    Reading.objects.create(
        indicator=up, value=decimal.Decimal("6.2"), as_of=datetime.date(2026, 9, 30), reporter=staff_a
    )
    Reading.objects.create(
        indicator=down, value=decimal.Decimal("7.5"), as_of=datetime.date(2026, 9, 30), reporter=staff_a
    )
    return tasks


def test_it_sums_the_leaders_scope(work, leader, today):
    from accounts.services import scope_agency_ids
    from dashboards.services import overview

    data = overview(scope_agency_ids(leader), 2026, today)
    # the outside agency's task is not the leader's
    assert data.total.tasks == 3
    assert (data.total.done, data.total.in_progress, data.total.not_started) == (1, 2, 0)
    assert data.total.overdue == 1  # a_late, due 10-31
    assert data.total.at_risk == 1  # b_amber: 30% with 89% of the year gone
    assert data.total.mean_percent == round((100 + 40 + 30) / 3, 1)
    assert (data.indicators_met, data.indicators_missed, data.indicators_unreported) == (1, 1, 1)
    # each open task reported this month
    assert (data.total.report_due, data.total.reported, data.total.report_rate) == (2, 2, 100.0)


def test_it_rolls_up_per_agency_counting_shared_tasks_for_each_owner(work, leader, today, agency_a, agency_b):
    from accounts.services import scope_agency_ids
    from dashboards.services import overview

    rows = {row.key: row for row in overview(scope_agency_ids(leader), 2026, today).agencies}
    assert (rows[agency_a.pk].tasks, rows[agency_a.pk].overdue) == (2, 1)
    assert (rows[agency_b.pk].tasks, rows[agency_b.pk].at_risk, rows[agency_b.pk].overdue) == (2, 1, 1)
    assert rows[agency_b.pk].link == f"?owner={agency_b.pk}"


def test_admins_see_every_agency(work, admin_user, today):
    from dashboards.services import overview

    data = overview(None, 2026, today)
    assert data.total.tasks == 4 and data.total.overdue == 2


def test_the_page_shows_figures_charts_data_and_drill_down_links(client, work, leader, agency_a):
    client.force_login(leader)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    data = json.loads(re.search(r'<script id="dashboard-data" type="application/json">(.*?)</script>', html).group(1))
    assert {s["key"]: s["value"] for s in data["status"]}["done"] == 1
    assert data["indicators"] == {"met": 1, "missed": 1, "unreported": 1}
    assert f"/tasks/mine/?owner={agency_a.pk}&amp;overdue=1" in html
    assert "vendor/echarts/echarts.min.js" in html and "https://" not in html.split("<body")[1]
    assert "孕产妇死亡率" in html and "未达标" in html
    # the per-agency chart and table say that a shared task counts once per owner
    assert 'data-testid="shared-task-chart-note"' in html and 'data-testid="shared-task-footnote"' in html


def test_drilling_down_from_an_agency_lists_its_overdue_tasks(client, work, leader, agency_a):
    client.force_login(leader)
    html = client.get(f"/tasks/mine/?owner={agency_a.pk}&overdue=1").content.decode()
    assert re.findall(r'<a href="/tasks/(\d+)/">', html) == [str(work["a_late"].pk)]


def test_a_leader_cannot_drill_into_an_agency_outside_their_scope(client, work, leader, outside_agency):
    client.force_login(leader)
    html = client.get(f"/tasks/mine/?owner={outside_agency.pk}").content.decode()
    assert "选择一个有效的选项" in html
    assert f'<a href="/tasks/{work["outside"].pk}/">' not in html


@pytest.mark.parametrize("role", ["staff", "auditor"])
def test_other_roles_are_refused(client, work, staff_a, auditor, role):
    client.force_login(staff_a if role == "staff" else auditor)
    assert client.get(URL).status_code == 403


def test_a_past_year_is_chosen_and_its_archived_plan_drills_down(client, leader, commission, agency_a):
    from workplans.models import Plan

    old = Plan.objects.create(title="2025年计划", year=2025, issuer=commission, status="archived")
    task = make_task(old, None, "1", lead=agency_a, heading="去年的任务")
    client.force_login(leader)
    html = client.get(f"{URL}?year=2025").content.decode()
    assert "2025年计划" in html
    assert "去年的任务" in client.get(f"/tasks/mine/?plan={old.pk}").content.decode()
    assert task.heading not in client.get("/tasks/mine/").content.decode()  # not in the default list


@pytest.mark.parametrize("plans", [1, 12])
def test_it_runs_a_bounded_number_of_queries(
    client, django_assert_max_num_queries, leader, commission, agency_a, agency_b, staff_a, plans
):
    from indicators.models import Indicator, Reading
    from workplans.models import Plan, Section

    for p in range(plans):
        plan = Plan.objects.create(title=f"计划{p}", year=2026, issuer=commission, status="active")
        section = Section.objects.create(plan=plan, label="一", title="部分")
        for n in range(5):
            task = make_task(plan, section, str(n + 1), lead=agency_a, co_owners=[agency_b])
            indicator = Indicator.objects.create(task=task, name=f"指标{n}", target=n)
            Reading.objects.create(indicator=indicator, value=n, as_of=datetime.date(2026, 5, 1), reporter=staff_a)
    client.force_login(leader)
    # The overview's eight (with the open notices'), the reporting rate's three, and the
    # page's frame (session, user, scope, years, the inbox and work-list badges, recent exports).
    with django_assert_max_num_queries(20):
        response = client.get(URL)
    assert response.status_code == 200


def test_the_trend_reads_the_snapshots(work, leader, today, plan, agency_a):
    from accounts.services import scope_agency_ids
    from dashboards.models import Snapshot
    from dashboards.rollup import write_trend_points
    from dashboards.services import overview

    for day, percent, done in [(datetime.date(2026, 9, 30), "40.00", 0), (datetime.date(2026, 10, 31), "60.00", 1)]:
        Snapshot.objects.create(
            day=day,
            scope="agency",
            plan=plan,
            agency=agency_a,
            tasks=2,
            done=done,
            mean_percent=decimal.Decimal(percent),
        )
        write_trend_points(day)
    trend = overview(scope_agency_ids(leader), 2026, today).trend
    assert [(p["day"], p["mean_percent"], p["done_share"]) for p in trend] == [
        (datetime.date(2026, 9, 30), 40.0, 0.0),
        (datetime.date(2026, 10, 31), 60.0, 50.0),
    ]


def test_the_same_tasks_figure_matches_the_task_list(client, work, leader):
    # The overdue tile and the list it links to must agree.
    from accounts.services import scope_agency_ids
    from dashboards.services import overview

    client.force_login(leader)
    overdue = overview(scope_agency_ids(leader), 2026, timezone.localdate()).total.overdue
    html = client.get("/tasks/mine/?year=2026&overdue=1").content.decode()
    assert len(re.findall(r'<a href="/tasks/\d+/">', html)) == overdue


def test_leaders_of_a_branch_see_only_their_branch(client, work, agency_a):
    from accounts.services import scope_agency_ids
    from dashboards.services import overview

    branch_leader = make_user("leader_a", "leader", agency_a)
    data = overview(scope_agency_ids(branch_leader), 2026, timezone.localdate())
    assert data.total.tasks == 2


def test_sections_are_broken_down_for_one_chosen_plan(client, work, leader, plan, section):
    client.force_login(leader)
    assert 'id="by-section"' not in client.get(URL).content.decode()
    html = client.get(f"{URL}?plan={plan.pk}").content.decode()
    assert 'id="by-section"' in html and section.title in html


def test_a_plan_outside_the_scope_shows_nothing_of_it(client, work, leader, commission, outside_agency):
    from workplans.models import Plan

    theirs = Plan.objects.create(title="别家的计划", year=2026, issuer=commission, status="active")
    make_task(theirs, None, "1", lead=outside_agency, heading="别家的任务")
    client.force_login(leader)
    html = client.get(f"{URL}?plan={theirs.pk}").content.decode()
    assert "别家的计划" not in html and "别家的任务" not in html


def test_the_overview_is_shared_for_a_few_minutes_per_scope(
    client, settings, monkeypatch, django_assert_max_num_queries, work, leader, staff_a, agency_a
):
    from django.core.cache.backends.locmem import LocMemCache

    from dashboards import services

    # given caching on, in a cache of this test's own (what it stores must not reach the
    # next test, whose scope may have the same ids), and a first look that computes the figures
    monkeypatch.setattr(services, "cache", LocMemCache("test-overview-shared", {}))
    settings.DASHBOARD_CACHE_SECONDS = 300
    client.force_login(leader)
    first = client.get(f"{URL}?year=2026").context["data"]
    # when a task is finished and the page is opened again within the window
    report(work["a_late"], staff_a, "done", 100)
    with django_assert_max_num_queries(8):
        again = client.get(f"{URL}?year=2026").context["data"]
    # then the figures (and the time they were computed, shown on the page) are the first ones
    assert (again.total.done, again.computed_at) == (first.total.done, first.computed_at)
    # and another scope computes its own
    other = make_user("leader_a2", "leader", agency_a)
    client.force_login(other)
    assert client.get(f"{URL}?year=2026").context["data"].total.done == 2


def test_the_page_and_the_api_show_the_reporting_of_the_current_cycle(client, work, leader, staff_a, staff_b):
    from rest_framework.test import APIClient

    from supervision.choices import ReportState
    from supervision.models import PeriodReport

    # given this cycle's report of one task accepted, and another's returned
    for task, state in [(work["a_late"], ReportState.ACCEPTED), (work["b_amber"], ReportState.RETURNED)]:
        PeriodReport.objects.create(
            task=task,
            period_start=datetime.date(2026, 11, 1),
            period_end=datetime.date(2026, 11, 30),
            period_label="2026年11月",
            due_on=datetime.date(2026, 11, 25),
            state=state,
            author=staff_a,
        )
    client.force_login(leader)

    # when
    response = client.get(URL)

    # then: a_done is finished, the outside task is not the leader's
    reporting = response.context["reporting"]
    assert (reporting.total.due, reporting.total.accepted, reporting.total.returned) == (2, 1, 1)
    assert (reporting.total.inputs_due, reporting.total.inputs_submitted) == (1, 0)
    page = response.content.decode()
    assert "本期报送情况" in page and "50.0%" in page

    api = APIClient()
    api.force_authenticate(leader)
    body = api.get("/api/v1/dashboard/overview/").json()
    assert body["reporting"]["total"] | {"id": None} == {
        "id": None,
        "label": "",
        "due": 2,
        "submitted": 0,
        "accepted": 1,
        "returned": 1,
        "not_submitted": 0,
        "rate": 50.0,
        "accepted_rate": 50.0,
        "inputs_due": 1,
        "inputs_submitted": 0,
        "input_rate": 0.0,
    }
    by_agency = {row["id"]: (row["due"], row["inputs_due"]) for row in body["reporting"]["agencies"]}
    assert by_agency == {work["a_late"].lead_agency.pk: (1, 0), work["b_amber"].lead_agency.pk: (1, 1)}


def test_old_figures_are_recomputed_not_shown(client, settings, monkeypatch, work, leader, staff_a):
    from django.core.cache.backends.locmem import LocMemCache

    from dashboards import services

    # given figures kept from a first look, and the cache window passed since
    monkeypatch.setattr(services, "cache", LocMemCache("test-overview-stale", {}))
    settings.DASHBOARD_CACHE_SECONDS = 300
    client.force_login(leader)
    first = client.get(f"{URL}?year=2026").context["data"]
    report(work["a_late"], staff_a, "done", 100)
    # when the page is opened after the window
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=301), tick=False):
        again = client.get(f"{URL}?year=2026").context["data"]
    # then it counts again rather than show the old figures
    assert (first.total.done, again.total.done) == (1, 2)
    assert again.computed_at > first.computed_at


def test_precomputed_overviews_serve_every_leaders_first_look(
    client, settings, monkeypatch, django_assert_max_num_queries, work, leader, admin_user, agency_a
):
    from django.core.cache.backends.locmem import LocMemCache

    from accounts.services import scope_agency_ids
    from dashboards import services
    from dashboards.jobs import refresh_overviews

    # given the refresh job run (after a rollup or a burst of reports)
    monkeypatch.setattr(services, "cache", LocMemCache("test-overview-precomputed", {}))
    settings.DASHBOARD_CACHE_SECONDS = 300
    branch_leader = make_user("leader_a", "leader", agency_a)
    scopes = services.leader_scopes()
    assert {None if s is None else frozenset(s) for s in scopes} == {
        None,
        frozenset(scope_agency_ids(leader)),
        frozenset(scope_agency_ids(branch_leader)),
    }
    assert refresh_overviews.run() == len(scopes)
    # when a leader of the branch looks for the first time
    client.force_login(branch_leader)
    # then the overview, the year list and the reporting rate are read from the cache: the
    # page's frame only (session, user, scope, this person's badges counted once, recent
    # exports), where computing them takes twenty
    monkeypatch.setattr(services, "overview", None)  # computing anything would fail
    monkeypatch.setattr(services, "scoped_years", None)
    monkeypatch.setattr(services, "reporting_rates_for", None)
    with django_assert_max_num_queries(9):
        data = client.get(URL).context["data"]
    assert data.total.tasks == 2


def test_a_burst_of_reports_queues_one_refresh(monkeypatch, work, staff_a):
    from django.core.cache.backends.locmem import LocMemCache

    from dashboards import jobs

    # given a worker to queue jobs for
    monkeypatch.setattr(jobs, "cache", LocMemCache("test-refresh-debounce", {}))
    monkeypatch.setattr(jobs, "has_worker", lambda: True)
    queued = []
    monkeypatch.setattr(jobs.refresh_overviews, "apply_async", lambda **kwargs: queued.append(kwargs))
    # when three reports come one after another
    results = [jobs.schedule_refresh() for _ in range(3)]
    # then one refresh is queued, for now (a delayed message would be held unacknowledged)
    assert results == [True, False, False]
    assert queued == [{"ignore_result": True}]
    # and once it has started, the next report queues the next one
    monkeypatch.setattr(jobs, "precompute_overviews", lambda today: 0)
    jobs.refresh_overviews.run()
    assert jobs.schedule_refresh() is True and len(queued) == 2


def test_beat_keeps_the_overviews_warm_in_working_hours_only(monkeypatch, settings):
    from django.core.cache.backends.locmem import LocMemCache

    from dashboards import jobs

    monkeypatch.setattr(jobs, "cache", LocMemCache("test-refresh-warm", {}))
    computed = []
    monkeypatch.setattr(jobs, "precompute_overviews", lambda today: computed.append(today) or 3)
    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "dashboards.jobs.refresh_overviews")
    assert entry["kwargs"] == {"scheduled": True} and entry["options"]["expires"] < jobs.KEEP_WARM_SECONDS
    # beat's cadence and hours are the job's: every KEEP_WARM_SECONDS, over WORKING_HOURS
    minutes, hours = sorted(entry["schedule"].minute), sorted(entry["schedule"].hour)
    assert {b - a for a, b in itertools.pairwise(minutes)} == {jobs.KEEP_WARM_SECONDS // 60}
    assert (hours[0], hours[-1] + 1) == jobs.WORKING_HOURS

    monkeypatch.setattr(jobs, "in_working_hours", lambda now: False)
    assert jobs.refresh_overviews.run(**entry["kwargs"]) == 0 and computed == []
    monkeypatch.setattr(jobs, "in_working_hours", lambda now: True)
    assert jobs.refresh_overviews.run(**entry["kwargs"]) == 3 and len(computed) == 1
    # and beat's next runs compute nothing until KEEP_WARM_SECONDS have passed, nor does a
    # rollup's or a burst's refresh within MIN_INTERVAL_SECONDS: refreshes never crowd a worker
    assert jobs.refresh_overviews.run(**entry["kwargs"]) == 0 and jobs.refresh_overviews.run() == 0
    assert len(computed) == 1
    jobs.cache.delete(jobs.REFRESHED_KEY)
    # and while one runs, another leaves at once
    jobs.cache.add(jobs.RUNNING_KEY, "now")
    assert jobs.refresh_overviews.run(**entry["kwargs"]) == 0 and len(computed) == 1


def test_without_a_worker_nothing_is_queued_and_the_page_computes(monkeypatch, work):
    from dashboards import jobs

    queued = []
    monkeypatch.setattr(jobs.refresh_overviews, "apply_async", lambda **kwargs: queued.append(kwargs))
    assert jobs.schedule_refresh() is False and queued == []
