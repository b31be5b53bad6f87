"""The task page and its sub-pages: what they show, to whom, in a bounded number of queries."""

import datetime
import decimal

import pytest

from tests.conftest import make_user


def save_update(task, user, n, address="10.20.30.40"):
    from django.test import RequestFactory
    from simple_history.models import HistoricalRecords

    from tasks.models import ProgressUpdate

    request = RequestFactory().post("/", REMOTE_ADDR=address)
    request.user = user
    HistoricalRecords.context.request = request
    try:
        ProgressUpdate(task=task, author=user, status="in_progress", percent=n % 100, note=f"第{n}次进展").save()
    finally:
        del HistoricalRecords.context.request


def test_it_shows_the_task_its_owners_people_milestones_indicators_and_trail(client, staff_a, task):
    from indicators.models import Indicator, Reading
    from tasks.models import Milestone

    # given a task with a milestone, an indicator with two readings, a 责任人 and an update
    Milestone.objects.create(task=task, due_on=datetime.date(2026, 6, 30), text="制定工作方案")
    indicator = Indicator.objects.create(
        task=task, name="孕产妇死亡率", comparator="<=", target=decimal.Decimal("7"), unit="/10万"
    )
    Reading.objects.create(
        indicator=indicator, value=decimal.Decimal("7.4"), as_of=datetime.date(2026, 3, 31), reporter=staff_a
    )
    Reading.objects.create(
        indicator=indicator, value=decimal.Decimal("6.80"), as_of=datetime.date(2026, 6, 30), reporter=staff_a
    )
    task.responsible_users.set([staff_a])
    save_update(task, staff_a, 45)
    client.force_login(staff_a)
    # when
    html = client.get(f"/tasks/{task.pk}/").content.decode()
    # then
    assert "医政医管处" in html and "疾病预防控制处" in html  # lead and co-owner
    assert "制定工作方案" in html
    assert "不高于 7/10万" in html and "6.8/10万" in html and "达标" in html  # latest, direction-aware
    assert "第45次进展" in html
    assert "10.20.30.40" in html  # the trail shows where the change came from
    assert "未开始 → 进行中" in html


def test_an_archived_plan_is_read_only(client, staff_a, task, plan):
    plan.status = "archived"
    plan.save()
    client.force_login(staff_a)
    html = client.get(f"/tasks/{task.pk}/").content.decode()
    assert "该计划已归档，任务只读。" in html
    assert 'name="note"' not in html


@pytest.mark.parametrize("updates, second_page_rows", [(2, False), (120, True)])
def test_the_history_pages_run_a_bounded_number_of_queries(
    client, django_assert_max_num_queries, staff_a, auditor, task, updates, second_page_rows
):
    for n in range(updates):
        save_update(task, staff_a, n)
    client.force_login(staff_a)
    with django_assert_max_num_queries(16):
        assert client.get(f"/tasks/{task.pk}/updates/").status_code == 200
    client.force_login(auditor)
    # (+1 for an administrator: the second factor that verified the session; +1 the
    # tasks it was carried into, loaded with the task)
    with django_assert_max_num_queries(18):
        response = client.get(f"/tasks/{task.pk}/history/?page=2")
    assert response.status_code == 200
    assert ("暂无变更记录。" not in response.content.decode()) is second_page_rows


def test_auditors_read_the_trail_and_nothing_else(client, auditor, task):
    client.force_login(auditor)
    assert client.get(f"/tasks/{task.pk}/history/").status_code == 200
    assert client.get(f"/tasks/{task.pk}/").status_code == 403
    assert client.get(f"/tasks/{task.pk}/updates/").status_code == 403


def test_a_missing_task_is_404(client, staff_a, db):
    client.force_login(staff_a)
    assert client.get("/tasks/999999/").status_code == 404


def test_someone_who_left_the_agency_loses_access(client, staff_a, task, outside_agency):
    client.force_login(staff_a)
    assert client.get(f"/tasks/{task.pk}/").status_code == 200
    staff_a.agency = outside_agency
    staff_a.save()
    assert client.get(f"/tasks/{task.pk}/").status_code == 403


def test_leaders_may_name_responsible_people_where_their_agencies_lead(client, leader, task, agency_a):
    person = make_user("person_a", "staff", agency_a, full_name="王责任")
    client.force_login(leader)
    html = client.get(f"/tasks/{task.pk}/").content.decode()
    assert 'name="note"' not in html  # leaders read progress, they do not report it
    assert client.post(f"/tasks/{task.pk}/responsible/", {"users": [person.pk]}).status_code == 302
    assert list(task.responsible_users.all()) == [person]
