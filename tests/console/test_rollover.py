"""The rollover (结转): a closed year's unfinished tasks carried into the next year's plan
with their baselines, owners, open milestones and unattained indicators, linked both ways;
the finished ones left; 长期推进 continued in place; run twice, nothing carried twice; a
bad target or choice refused with a message (400) and nothing written; the preview's
queries bounded."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEvent
from console import year
from indicators.models import Indicator, Reading
from supervision.progress import report_progress
from tasks.choices import OwnerRole, TaskStatus
from tasks.models import Milestone, Task
from tests.fixtures.tasks import make_task
from workplans.choices import PlanStatus, ReportingCycle
from workplans.models import Plan, Section

D = datetime.date


@pytest.fixture
def year_2026(plan, section, agency_a, agency_b, staff_a, admin_user, supervisor):
    """The 2026 plan (quarterly, due day 20, unit sign-off on): three unfinished tasks (the
    first delayed from its baseline, with 责任人, an open and a done milestone, a missed and
    an attained indicator), one done, one 无需填报."""
    plan.reporting_cycle, plan.report_due_day, plan.requires_unit_signoff = ReportingCycle.QUARTERLY, 20, True
    plan.save()
    plan.supervisors.add(supervisor)
    delayed = make_task(
        plan,
        section,
        "1",
        lead=agency_a,
        co_owners=[agency_b],
        heading="推进紧密型医联体建设",
        text="全市建成 10 个紧密型医联体。",
        due_on=D(2026, 6, 30),
        status=TaskStatus.IN_PROGRESS,
        percent=60,
    )
    Task.objects.filter(pk=delayed.pk).update(due_on=D(2026, 9, 30))  # an approved delay: baseline kept
    delayed.responsible_users.add(staff_a)
    Milestone.objects.create(task=delayed, due_on=D(2026, 11, 15), text="完成评估")
    Milestone.objects.create(task=delayed, due_on=D(2026, 3, 1), text="印发方案", done_on=D(2026, 2, 20))
    missed = Indicator.objects.create(plan=plan, task=delayed, name="医联体数量", target=10, unit="个")
    Reading.objects.create(plan=plan, indicator=missed, value=6, as_of=D(2026, 10, 1), reporter=staff_a)
    met = Indicator.objects.create(plan=plan, task=delayed, name="覆盖区县", target=3, unit="个")
    Reading.objects.create(plan=plan, indicator=met, value=3, as_of=D(2026, 10, 1), reporter=staff_a)
    not_started = make_task(plan, section, "2", lead=agency_b, heading="建设区域影像中心", due_on=D(2026, 12, 31))
    lagging = make_task(
        plan,
        section,
        "3",
        lead=agency_a,
        heading="完善家庭医生签约服务",
        due_on=D(2026, 10, 31),
        status=TaskStatus.LAGGING,
        percent=30,
    )
    done = make_task(plan, section, "4", lead=agency_a, heading="开展健康宣传", status=TaskStatus.CLOSED, percent=100)
    exempt = make_task(plan, section, "5", heading="总体要求", reporting_exempt=True)
    return {
        "plan": plan,
        "delayed": delayed,
        "not_started": not_started,
        "lagging": lagging,
        "done": done,
        "exempt": exempt,
    }


def url(name, plan):
    return reverse(f"console:{name}", args=[plan.pk])


def confirm(client, plan, **data):
    tasks = year.unfinished_tasks(plan)
    post = {"action": "confirm", "target": "new", "new_title": "2027年测试市卫生健康工作要点"}
    post.update({f"choice_{task.pk}": year.Choice.CARRY for task in tasks})
    post.update(data)
    return client.post(url("rollover", plan), post)


def links_of(task_pk):
    """A task as a page that shows _task_links.html loads it."""
    return (
        Task.objects.select_related("carried_from", "carried_from__plan", "serves", "serves__plan")
        .prefetch_related(Prefetch("carried_into", queryset=Task.objects.select_related("plan")))
        .get(pk=task_pk)
    )


def test_three_unfinished_tasks_are_carried_into_next_year_and_the_closed_year_is_read_only(
    client, year_2026, admin_user, staff_a, agency_a, agency_b, django_assert_num_queries
):
    # given
    plan = year_2026["plan"]
    client.force_login(admin_user)
    preview = client.get(url("rollover", plan))
    assert preview.status_code == 200
    assert len(preview.context["rows"]) == 3  # neither the closed-out task nor the 无需填报 one
    assert {v: n for v, _label, n in preview.context["totals"]}[year.Choice.CARRY] == 3
    assert preview.context["form"]["new_title"].value() == "2027年测试市卫生健康工作要点"
    # when
    response = confirm(client, plan)
    # then: a new draft plan of 2027 with this plan's reporting settings
    assert response.status_code == 302
    target = Plan.objects.get(year=2027)
    assert (target.status, target.title) == (PlanStatus.DRAFT, "2027年测试市卫生健康工作要点")
    assert (target.reporting_cycle, target.report_due_day, target.requires_unit_signoff) == (
        ReportingCycle.QUARTERLY,
        20,
        True,
    )
    assert [p.username for p in target.supervisors.all()] == ["supervisor"]
    section = Section.objects.get(plan=target, parent=None)
    assert section.label == "上年结转"
    carried = list(target.tasks.order_by("number"))
    assert [t.number for t in carried] == ["1", "2", "3"]
    originals = [year_2026["delayed"], year_2026["not_started"], year_2026["lagging"]]
    assert [t.carried_from_id for t in carried] == [t.pk for t in originals]
    assert all(t.section_id == section.pk and t.due_on == D(2027, 12, 31) for t in carried)
    # the baseline is the original promise, not the delayed date nor the new year end
    assert [t.baseline_due_on for t in carried] == [D(2026, 6, 30), D(2026, 12, 31), D(2026, 10, 31)]
    first = carried[0]
    assert (first.heading, first.text, first.status, first.percent) == (
        "推进紧密型医联体建设",
        "全市建成 10 个紧密型医联体。",
        TaskStatus.NOT_STARTED,
        0,
    )
    assert [(o.agency, o.role) for o in first.task_owners.order_by("role")] == [
        (agency_b, OwnerRole.CO_OWNER),
        (agency_a, OwnerRole.LEAD),
    ]
    assert list(first.responsible_users.all()) == [staff_a]
    assert [(m.due_on, m.text) for m in first.milestones.all()] == [(D(2027, 11, 15), "完成评估")]
    assert [(i.name, i.target, i.plan_id) for i in first.indicators.all()] == [("医联体数量", 10, target.pk)]
    assert not Task.objects.filter(carried_from=year_2026["done"]).exists()
    assert not Task.objects.filter(carried_from=year_2026["exempt"]).exists()
    # the links are shown both ways, with no query once loaded
    new_task, old_task = links_of(first.pk), links_of(year_2026["delayed"].pk)
    with django_assert_num_queries(0):
        forward = render_to_string("tasks/_task_links.html", {"task": old_task})
        back = render_to_string("tasks/_task_links.html", {"task": new_task})
    assert "结转至" in forward and reverse("tasks:task_detail", args=[first.pk]) in forward
    assert "上年任务" in back and reverse("tasks:task_detail", args=[old_task.pk]) in back
    assert "2026-06-30" in back  # the original baseline due date
    # and on both task pages
    for task, mark in ((old_task, 'data-testid="carried-into"'), (new_task, 'data-testid="carried-from"')):
        page = client.get(reverse("tasks:task_detail", args=[task.pk]))
        assert page.status_code == 200 and mark in page.content.decode()
    event = AuditEvent.objects.filter(detail__action="rollover").get()
    assert event.detail["counts"]["carried"] == 3
    assert sorted(pair[0] for pair in event.detail["carried"]) == sorted(t.pk for t in originals)
    # when: the year is closed
    assert client.post(url("year_close", plan), {"confirm": "on"}).status_code == 302
    # then: a report on the closed year is refused
    delayed = year_2026["delayed"]
    with pytest.raises(PermissionDenied):
        report_progress(delayed.pk, staff_a, based_on_version=delayed.version, note="年底补报", percent=80)
    delayed.refresh_from_db()
    assert delayed.percent == 60


def test_a_rollover_run_twice_carries_nothing_twice(client, year_2026, admin_user):
    plan = year_2026["plan"]
    client.force_login(admin_user)
    Plan.objects.create(title="0 另一个 2027 年计划", year=2027, status=PlanStatus.ACTIVE)  # listed first
    assert confirm(client, plan).status_code == 302
    target = Plan.objects.get(year=2027, status=PlanStatus.DRAFT)
    # when: again, into the plan now there (the preview offers the one carried into)
    preview = client.get(url("rollover", plan))
    assert preview.context["selected_target"] == str(target.pk)
    assert preview.context["already"] == 3
    assert preview.content.decode().count('data-testid="already-carried"') == 3
    again = client.post(url("rollover", plan), {"action": "confirm", "target": target.pk})
    # then
    assert again.status_code == 302
    assert target.tasks.count() == 3
    assert Section.objects.filter(plan=target).count() == 1
    event = AuditEvent.objects.filter(detail__action="rollover").order_by("pk").last()
    assert event.detail["counts"] == {"carried": 0, "long_term": 0, "left": 0, "already_carried": 3}


def test_the_choices_carry_continue_in_place_or_leave(client, year_2026, admin_user, staff_a, staff_b):
    plan = year_2026["plan"]
    client.force_login(admin_user)
    keep, leave = year_2026["not_started"], year_2026["lagging"]
    preview = client.post(
        url("rollover", plan),
        {
            "action": "preview",
            "target": "new",
            "new_title": "2027年计划",
            f"choice_{year_2026['delayed'].pk}": "carry",
            f"choice_{keep.pk}": "long_term",
            f"choice_{leave.pk}": "leave",
        },
    )
    # the preview counts what will move, in all and by lead agency, and writes nothing
    assert preview.status_code == 200
    assert [n for _v, _label, n in preview.context["totals"]] == [1, 1, 1]
    assert dict(preview.context["per_agency"]) == {"医政医管处": [1, 0, 1], "疾病预防控制处": [0, 1, 0]}
    assert not Plan.objects.filter(year=2027).exists()
    # when
    response = confirm(client, plan, **{f"choice_{keep.pk}": "long_term", f"choice_{leave.pk}": "leave"})
    # then
    assert response.status_code == 302
    assert list(Task.objects.filter(plan__year=2027).values_list("carried_from", flat=True)) == [
        year_2026["delayed"].pk
    ]
    keep.refresh_from_db()
    leave.refresh_from_db()
    assert keep.long_term and not leave.long_term
    # when: the year is closed, the 长期推进 task goes on in place; the one left does not
    assert client.post(url("year_close", plan), {"confirm": "on"}).status_code == 302
    keep.refresh_from_db()
    update = report_progress(keep.pk, staff_b, based_on_version=keep.version, status="in_progress", percent=20)
    keep.refresh_from_db()
    assert (update.task_id, keep.status, keep.percent) == (keep.pk, TaskStatus.IN_PROGRESS, 20)
    with pytest.raises(PermissionDenied):
        report_progress(leave.pk, staff_a, based_on_version=leave.version, note="补报", percent=40)


def test_a_bad_target_or_choice_is_refused_and_nothing_is_written(client, year_2026, admin_user, other_plan):
    plan = year_2026["plan"]
    client.force_login(admin_user)
    task = year_2026["delayed"]
    closed_next = Plan.objects.create(title="2027年旧计划", year=2027, status=PlanStatus.ARCHIVED)
    cases = [
        ({"target": other_plan.pk}, "请选择下一年度未关闭的计划"),  # 2025: not offered
        ({"target": closed_next.pk}, "请选择下一年度未关闭的计划"),  # closed: not offered
        ({"target": "abc"}, "请选择下一年度未关闭的计划"),
        ({"target": plan.pk}, "请选择下一年度未关闭的计划"),
        ({"target": "new", "new_title": "  "}, "请填写新计划的标题"),
        ({"target": "new", "new_title": "x" * 201}, "200"),
        ({f"choice_{task.pk}": "bogus"}, "结转方式无效"),
        ({f"choice_{task.pk}": ""}, "请为每项任务选择结转方式"),
    ]
    for data, message in cases:
        response = confirm(client, plan, **data)
        assert response.status_code == 400, data
        assert message in response.content.decode(), data
    assert Plan.objects.filter(year=2027).count() == 1
    assert not Task.objects.filter(carried_from__isnull=False).exists()
    assert not AuditEvent.objects.filter(detail__action="rollover").exists()


def test_the_service_refuses_a_plan_of_another_year(year_2026, admin_user, other_plan):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        year.rollover(year_2026["plan"].pk, admin_user, choices={}, target_plan_id=other_plan.pk)
    assert "2027" in str(refused.value.message_dict["target"])
    assert not Task.objects.filter(carried_from__isnull=False).exists()


def test_into_an_existing_plan_the_numbering_goes_on_in_its_carried_section(client, year_2026, admin_user, commission):
    plan = year_2026["plan"]
    target = Plan.objects.create(title="2027年要点", year=2027, status=PlanStatus.ACTIVE)
    Section.objects.create(plan=target, label="一", title="深化改革", order=1)
    existing = Section.objects.create(plan=target, label="上年结转", title="上年未完成任务", order=2)
    make_task(target, existing, "7", heading="去年手工结转的任务")
    client.force_login(admin_user)
    response = confirm(client, plan, target=target.pk)
    assert response.status_code == 302
    assert sorted(existing.tasks.values_list("number", flat=True)) == ["10", "7", "8", "9"]
    assert Section.objects.filter(plan=target).count() == 2


def test_only_the_admin_rolls_over(client, year_2026, staff_a, leader):
    plan = year_2026["plan"]
    for person in (staff_a, leader):
        client.force_login(person)
        assert client.get(url("rollover", plan)).status_code == 403
        assert confirm(client, plan).status_code == 403
    assert not Plan.objects.filter(year=2027).exists()


def _many_tasks(plan, section, agency_a, agency_b, n, start=0):
    for i in range(start, start + n):
        lead, co_owners = (agency_a, [agency_b]) if i % 2 else (agency_b, [])
        task = make_task(plan, section, str(100 + i), lead=lead, co_owners=co_owners)
        if i % 3 == 0:
            Milestone.objects.create(task=task, due_on=D(2026, 12, 1), text="节点")


def test_the_preview_runs_the_same_queries_for_20_or_100_tasks(client, admin_user, plan, section, agency_a, agency_b):
    client.force_login(admin_user)
    _many_tasks(plan, section, agency_a, agency_b, 20)
    client.get(url("rollover", plan))  # warm the session and caches
    with CaptureQueriesContext(connection) as small:
        assert client.get(url("rollover", plan)).status_code == 200
    _many_tasks(plan, section, agency_a, agency_b, 80, start=20)
    with CaptureQueriesContext(connection) as large:
        assert len(client.get(url("rollover", plan)).context["rows"]) == 100
    assert len(large) == len(small)


def test_nothing_to_carry_makes_no_new_plan(client, year_2026, admin_user):
    plan = year_2026["plan"]
    client.force_login(admin_user)
    everything_stays = {f"choice_{task.pk}": "leave" for task in year.unfinished_tasks(plan)}
    response = confirm(client, plan, **everything_stays)
    assert response.status_code == 302
    assert not Plan.objects.filter(year=2027).exists()
    event = AuditEvent.objects.get(detail__action="rollover")
    assert (event.detail["target_plan"], event.detail["counts"]["left"]) == (None, 3)


def test_a_draft_plan_has_nothing_to_roll_over(client, year_2026, admin_user):
    plan = year_2026["plan"]
    plan.status = PlanStatus.DRAFT
    plan.save()
    client.force_login(admin_user)
    assert 'data-testid="draft"' in client.get(url("rollover", plan)).content.decode()
    response = confirm(client, plan)
    assert response.status_code == 409
    assert "草稿计划尚未下发" in response.content.decode()
    assert not Plan.objects.filter(year=2027).exists()
