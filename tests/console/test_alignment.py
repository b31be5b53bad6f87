"""Alignment with a higher plan: the admin sets the plan's higher plan (not itself, not a
loop), links each local task to the higher task it serves (one by one, or the ticked ones
at once), never to a task of another plan; the page shows the higher plan's coverage and
the higher tasks no local task serves (上级任务未落实). Bad input is a 400 with a message;
the page's queries do not grow with the number of tasks."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEvent
from tasks.models import Task
from tests.fixtures.tasks import make_task
from workplans.choices import PlanStatus
from workplans.models import Plan, Section


@pytest.fixture
def province(db):
    """The provincial plan: four tasks."""
    plan = Plan.objects.create(title="2026年全省卫生健康工作要点", year=2026, status=PlanStatus.ACTIVE)
    section = Section.objects.create(plan=plan, label="一", title="全省重点任务")
    tasks = [make_task(plan, section, str(i), heading=f"省级任务{i}") for i in range(1, 5)]
    return plan, tasks


@pytest.fixture
def local(plan, section, agency_a, agency_b):
    return [make_task(plan, section, str(i), lead=agency_a, heading=f"本级任务{i}") for i in range(1, 4)]


def url(plan):
    return reverse("console:alignment", args=[plan.pk])


def test_the_admin_sets_the_higher_plan_and_links_tasks_and_sees_the_coverage(
    client, plan, province, local, admin_user
):
    higher, higher_tasks = province
    client.force_login(admin_user)
    # when: the higher plan is set
    assert client.post(url(plan), {"action": "higher", "higher_plan": higher.pk}).status_code == 302
    plan.refresh_from_db()
    assert plan.higher_plan == higher
    # when: two local tasks are linked one by one, the third left
    data = {"action": "links", **{f"serves_{t.pk}": "" for t in local}}
    data[f"serves_{local[0].pk}"] = higher_tasks[0].pk
    data[f"serves_{local[1].pk}"] = higher_tasks[0].pk
    assert client.post(url(plan), data).status_code == 302
    # and one more in bulk
    bulk = {"action": "bulk", "selected": [local[2].pk], "bulk_target": higher_tasks[2].pk}
    assert client.post(url(plan), bulk).status_code == 302
    # then
    assert {t.pk: t.serves_id for t in Task.objects.filter(plan=plan)} == {
        local[0].pk: higher_tasks[0].pk,
        local[1].pk: higher_tasks[0].pk,
        local[2].pk: higher_tasks[2].pk,
    }
    page = client.get(url(plan))
    coverage = page.context["coverage"]
    assert (coverage.covered, coverage.total, coverage.percent) == (2, 4, 50)
    assert [t.heading for t in coverage.uncovered] == ["省级任务2", "省级任务4"]
    assert [len(row.serving) for row in coverage.rows] == [2, 0, 1, 0]
    body = page.content.decode()
    assert "上级任务未落实" in body and "覆盖率 50%" in body
    assert AuditEvent.objects.filter(detail__action="align_tasks").count() == 2


def test_a_task_of_another_plan_is_refused(client, plan, province, local, admin_user, other_plan):
    higher, higher_tasks = province
    plan.higher_plan = higher
    plan.save()
    stranger = make_task(other_plan, None, "1", heading="别的计划的任务")
    client.force_login(admin_user)
    for data in (
        {"action": "links", f"serves_{local[0].pk}": stranger.pk},
        {"action": "links", f"serves_{local[0].pk}": local[1].pk},  # a task of the plan itself
        {"action": "links", f"serves_{local[0].pk}": "abc"},
        {"action": "bulk", "selected": [local[0].pk], "bulk_target": stranger.pk},
    ):
        response = client.post(url(plan), data)
        assert response.status_code == 400, data
        assert "只能对应上级计划中的任务" in response.content.decode()
    # a ticked task that is not the plan's
    response = client.post(url(plan), {"action": "bulk", "selected": [stranger.pk], "bulk_target": higher_tasks[0].pk})
    assert response.status_code == 400
    assert "所选任务不属于本计划" in response.content.decode()
    response = client.post(url(plan), {"action": "bulk", "bulk_target": higher_tasks[0].pk})
    assert response.status_code == 400
    assert "请先勾选要对应的任务" in response.content.decode()
    assert not Task.objects.filter(serves__isnull=False).exists()


def test_the_higher_plan_is_not_the_plan_itself_nor_a_loop(client, plan, province, admin_user):
    higher, _tasks = province
    higher.higher_plan = plan  # the province carries out this plan: making it higher would loop
    higher.save()
    client.force_login(admin_user)
    cases = ((plan.pk, "所选上级计划不存在或不能选择"), (higher.pk, "不能互为上级"), ("x", "所选上级计划不存在"))
    for value, message in cases:
        response = client.post(url(plan), {"action": "higher", "higher_plan": value})
        assert response.status_code == 400, value
        assert message in response.content.decode(), value
    plan.refresh_from_db()
    assert plan.higher_plan is None


def test_changing_the_higher_plan_clears_links_into_the_former_one(client, plan, province, local, admin_user):
    higher, higher_tasks = province
    plan.higher_plan = higher
    plan.save()
    Task.objects.filter(pk=local[0].pk).update(serves=higher_tasks[1])
    national = Plan.objects.create(title="全国要点", year=2026, status=PlanStatus.ACTIVE)
    client.force_login(admin_user)
    response = client.post(url(plan), {"action": "higher", "higher_plan": national.pk}, follow=True)
    assert "原对应的 1 项上级任务已清除" in response.content.decode()
    assert not Task.objects.filter(plan=plan, serves__isnull=False).exists()


def test_a_bad_action_is_a_400(client, plan, admin_user):
    client.force_login(admin_user)
    assert client.post(url(plan), {"action": "nonsense"}).status_code == 400
    # links before any higher plan: nothing to link to
    response = client.post(url(plan), {"action": "bulk", "selected": [], "bulk_target": "1"})
    assert response.status_code == 400


def test_only_the_admin_aligns(client, plan, province, staff_a, leader):
    higher, _tasks = province
    for person in (staff_a, leader):
        client.force_login(person)
        assert client.get(url(plan)).status_code == 403
        assert client.post(url(plan), {"action": "higher", "higher_plan": higher.pk}).status_code == 403
    plan.refresh_from_db()
    assert plan.higher_plan is None


def _tasks(plan, section, count, start, prefix):
    for i in range(start, start + count):
        make_task(plan, section, str(i), heading=f"{prefix}{i}")


def test_the_page_runs_the_same_queries_for_20_or_100_tasks(client, plan, section, province, admin_user):
    higher, higher_tasks = province
    plan.higher_plan = higher
    plan.save()
    higher_section = higher_tasks[0].section
    _tasks(plan, section, 20, 100, "本级")
    _tasks(higher, higher_section, 20, 100, "省级")
    Task.objects.filter(plan=plan).update(serves=higher_tasks[0])
    client.force_login(admin_user)
    client.get(url(plan))
    with CaptureQueriesContext(connection) as small:
        assert client.get(url(plan)).status_code == 200
    _tasks(plan, section, 80, 200, "本级")
    _tasks(higher, higher_section, 80, 200, "省级")
    with CaptureQueriesContext(connection) as large:
        assert len(client.get(url(plan)).context["rows"]) == 100
    assert len(large) == len(small)
