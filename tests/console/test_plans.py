"""The system admin's plan page (console:plan_detail): details, settings, the tasks by
section; the activation check and activation; back to draft; the bulk step (owners, due
date, 责任人, 无需填报); a closed year read-only; admins only; bounded queries."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.choices import EventType
from audit.models import AuditEvent
from console import plans
from core.roles import Role
from supervision.models import PeriodReport
from tasks.choices import OwnerRole
from tasks.models import ProgressUpdate, Task, TaskOwner
from tests.fixtures.accounts import make_user
from tests.fixtures.tasks import make_task
from workplans.choices import PlanStatus, ReportingCycle
from workplans.models import Plan, Section

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def draft(commission):
    return Plan.objects.create(title="2026年草稿计划", year=2026, issuer=commission, status=PlanStatus.DRAFT)


@pytest.fixture
def draft_section(draft):
    return Section.objects.create(plan=draft, label="一", title="提升服务能力")


def url(name, *args):
    return reverse(f"console:{name}", args=args)


def owners_of(task):
    rows = TaskOwner.objects.filter(task=task).order_by("order", "pk")
    return [(row.agency_id, row.role) for row in rows]


def events(action):
    return [e for e in AuditEvent.objects.filter(event_type=EventType.ADMIN_ACTION) if e.detail.get("action") == action]


# --- The page ----------------------------------------------------------------------------


def test_it_shows_the_plan_and_its_tasks_by_section(admin_client, draft, draft_section, agency_a, agency_b):
    make_task(draft, draft_section, "1", lead=agency_a, co_owners=[agency_b], heading="组建城市医疗集团")
    make_task(draft, draft_section, "2", heading="无人牵头的任务", reporting_exempt=False)
    make_task(draft, None, "", heading="总体要求", reporting_exempt=True, long_term=True)

    response = admin_client.get(url("plan_detail", draft.pk))

    assert response.status_code == 200
    page = response.content.decode()
    assert "2026年草稿计划" in page and "草稿" in page
    assert "组建城市医疗集团" in page and agency_a.name in page and agency_b.name in page
    assert "提升服务能力" in page
    assert "无需填报" in page and "长期推进" in page
    assert "未指定" in page  # the unowned task is marked
    assert 'name="tasks"' in page  # each row has its checkbox
    assert url("plan_activate", draft.pk) in page


def test_the_plan_list_links_each_plan_to_its_page(admin_client, plan):
    response = admin_client.get(reverse("workplans:plan_list"))
    assert url("plan_detail", plan.pk) in response.content.decode()


def test_an_active_plan_leads_to_its_year_pages_a_draft_does_not(admin_client, plan, draft):
    year_pages = [reverse(f"console:{name}", args=[plan.pk]) for name in ("year_close", "rollover", "alignment")]
    body = admin_client.get(reverse("console:plan_detail", args=[plan.pk])).content.decode()
    assert all(f'href="{link}"' in body for link in year_pages)
    body = admin_client.get(reverse("console:plan_detail", args=[draft.pk])).content.decode()
    assert reverse("console:year_close", args=[draft.pk]) not in body


@pytest.mark.parametrize("role_user", ["auditor", "security_admin", "staff_a", "leader"])
def test_only_the_system_admin_may_open_it(client, request, plan, role_user):
    client.force_login(request.getfixturevalue(role_user))
    assert client.get(url("plan_detail", plan.pk)).status_code == 403
    assert client.get(url("plan_activate", plan.pk)).status_code == 403
    assert client.post(url("plan_bulk", plan.pk), {}).status_code == 403


def test_an_unknown_plan_is_404(admin_client):
    assert admin_client.get(url("plan_detail", 999999)).status_code == 404
    assert admin_client.post(url("plan_settings", 999999), {}).status_code == 404


def _tasks(plan, section, n, lead):
    for i in range(n):
        make_task(plan, section, str(i + 1), lead=lead)


def test_the_page_runs_the_same_queries_at_20_and_200_tasks(
    admin_client, draft, draft_section, agency_a, agency_b, staff_a, django_assert_max_num_queries
):
    _tasks(draft, draft_section, 20, agency_a)
    admin_client.get(url("plan_detail", draft.pk))  # warm the session and the caches
    with CaptureQueriesContext(connection) as small:
        assert admin_client.get(url("plan_detail", draft.pk)).status_code == 200
    other = Section.objects.create(plan=draft, label="二", title="第二部分")
    for i in range(180):
        task = make_task(draft, other, str(i + 1), lead=agency_a, co_owners=[agency_b])
        task.responsible_users.add(staff_a)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = admin_client.get(url("plan_detail", draft.pk))
    assert response.status_code == 200
    assert response.content.decode().count('name="tasks"') == 200


# --- Settings --------------------------------------------------------------------------------


def settings_data(**extra):
    data = {
        "reporting_cycle": ReportingCycle.QUARTERLY,
        "report_due_day": "20",
        "requires_unit_signoff": "on",
        "target_changes_need_leader": "on",
    }
    data.update(extra)
    return data


def test_it_saves_the_settings_with_an_audit_event(admin_client, plan, leader, supervisor):
    data = settings_data(supervisors=[supervisor.pk], leader_in_charge=leader.pk)
    response = admin_client.post(url("plan_settings", plan.pk), data)

    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.reporting_cycle == ReportingCycle.QUARTERLY and plan.report_due_day == 20
    assert plan.requires_unit_signoff and not plan.requests_need_unit_signoff and plan.target_changes_need_leader
    assert plan.leader_in_charge == leader and list(plan.supervisors.all()) == [supervisor]
    (event,) = events("plan_settings")
    assert set(event.detail["changes"]) >= {"reporting_cycle", "report_due_day", "supervisors", "leader_in_charge"}
    assert plan.history.first().history_change_reason == "控制台：计划设置"


@pytest.mark.parametrize(
    "bad",
    [
        {"report_due_day": "31"},
        {"report_due_day": "abc"},
        {"reporting_cycle": "weekly"},
        {"leader_in_charge": "999999"},
    ],
)
def test_bad_settings_are_400_and_change_nothing(admin_client, plan, bad):
    response = admin_client.post(url("plan_settings", plan.pk), settings_data(**bad))

    assert response.status_code == 400
    plan.refresh_from_db()
    assert plan.reporting_cycle == ReportingCycle.MONTHLY and plan.report_due_day == 25
    assert not events("plan_settings")


def test_a_staff_member_cannot_be_named_leader_in_charge(admin_client, plan, staff_a):
    response = admin_client.post(url("plan_settings", plan.pk), settings_data(leader_in_charge=staff_a.pk))
    assert response.status_code == 400
    plan.refresh_from_db()
    assert plan.leader_in_charge is None


# --- Activation --------------------------------------------------------------------------------


def test_an_unowned_task_blocks_activation_and_is_listed(admin_client, draft, draft_section, agency_a):
    owned = make_task(draft, draft_section, "1", lead=agency_a)
    unowned = make_task(draft, draft_section, "2", heading="无人牵头")

    page = admin_client.get(url("plan_activate", draft.pk)).content.decode()
    assert "无人牵头" in page and url("plan_task_edit", unowned.pk) in page
    assert url("plan_task_edit", owned.pk) not in page
    assert "?select=unowned" in page  # all of them to the bulk step at once

    response = admin_client.post(url("plan_activate", draft.pk), {})
    assert response.status_code == 400
    assert "没有牵头单位" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == PlanStatus.DRAFT
    assert not events("plan_activate")


def test_the_bulk_link_preticks_the_unowned_tasks(admin_client, draft, draft_section, agency_a):
    owned = make_task(draft, draft_section, "1", lead=agency_a)
    unowned = make_task(draft, draft_section, "2")
    page = admin_client.get(url("plan_detail", draft.pk) + "?select=unowned").content.decode()
    assert f'value="{unowned.pk}" data-group="1" aria-label="选择 2. 任务2" checked' in page
    assert f'value="{owned.pk}" data-group="1" aria-label="选择 1. 任务1">' in page


@pytest.mark.parametrize("fix", ["owner", "exempt"])
def test_activation_is_allowed_once_the_task_is_owned_or_exempt(
    admin_client, draft, draft_section, agency_a, staff_a, fix
):
    task = make_task(draft, draft_section, "1")
    if fix == "owner":
        TaskOwner.objects.create(task=task, agency=agency_a, role=OwnerRole.LEAD)
    else:
        task.reporting_exempt = True
        task.save()

    response = admin_client.post(url("plan_activate", draft.pk), {})

    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == PlanStatus.ACTIVE
    assert len(events("plan_activate")) == 1


def test_owner_agencies_without_staff_are_a_warning_not_a_block(
    admin_client, draft, draft_section, agency_a, agency_b, staff_a
):
    make_task(draft, draft_section, "1", lead=agency_a, co_owners=[agency_b])  # B has no staff account

    page = admin_client.get(url("plan_activate", draft.pk)).content.decode()
    unstaffed = page.split('data-testid="unstaffed"')[1].split("</section>")[0]
    assert agency_b.name in unstaffed and agency_a.name not in unstaffed

    assert admin_client.post(url("plan_activate", draft.pk), {}).status_code == 302
    draft.refresh_from_db()
    assert draft.status == PlanStatus.ACTIVE


def test_a_past_year_needs_the_tick(admin_client, commission, agency_a, staff_a):
    old = Plan.objects.create(title="2025年计划", year=2025, issuer=commission, status=PlanStatus.DRAFT)
    make_task(old, None, "1", lead=agency_a)

    page = admin_client.get(url("plan_activate", old.pk)).content.decode()
    assert 'data-testid="past-year"' in page

    response = admin_client.post(url("plan_activate", old.pk), {})
    assert response.status_code == 400 and "逾期" in response.content.decode()
    old.refresh_from_db()
    assert old.status == PlanStatus.DRAFT

    response = admin_client.post(url("plan_activate", old.pk), {"past_year_confirmed": "on"})
    assert response.status_code == 302
    old.refresh_from_db()
    assert old.status == PlanStatus.ACTIVE


def test_the_current_year_asks_no_tick(admin_client, draft):
    assert 'data-testid="past-year"' not in admin_client.get(url("plan_activate", draft.pk)).content.decode()


def test_only_a_draft_is_activated(admin_client, plan):
    response = admin_client.post(url("plan_activate", plan.pk), {})
    assert response.status_code == 400
    assert "只有草稿状态的计划可以启用" in response.content.decode()


def test_back_to_draft_while_nothing_is_reported(admin_client, plan, section, agency_a):
    make_task(plan, section, "1", lead=agency_a)
    assert url("plan_back_to_draft", plan.pk) in admin_client.get(url("plan_detail", plan.pk)).content.decode()
    assert admin_client.post(url("plan_back_to_draft", plan.pk)).status_code == 302
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT
    assert len(events("plan_back_to_draft")) == 1


def test_no_back_to_draft_once_reported(admin_client, plan, section, agency_a, staff_a):
    task = make_task(plan, section, "1", lead=agency_a)
    ProgressUpdate.objects.create(task=task, author=staff_a, status="in_progress", percent=10)

    page = admin_client.get(url("plan_back_to_draft", plan.pk)).content.decode()
    assert 'data-testid="has-reports"' in page
    page = admin_client.get(url("plan_detail", plan.pk)).content.decode()
    assert 'data-testid="no-draft"' in page and url("plan_back_to_draft", plan.pk) not in page
    response = admin_client.post(url("plan_back_to_draft", plan.pk))
    assert response.status_code == 400
    plan.refresh_from_db()
    assert plan.status == PlanStatus.ACTIVE


def test_a_period_report_also_keeps_it_active(plan, section, agency_a, staff_a, admin_user):
    task = make_task(plan, section, "1", lead=agency_a)
    PeriodReport.objects.create(
        task=task,
        period_start=datetime.date(2026, 6, 1),
        period_end=datetime.date(2026, 6, 30),
        period_label="6月",
        due_on=datetime.date(2026, 6, 25),
        author=staff_a,
    )
    with pytest.raises(plans.ValidationError):
        plans.back_to_draft(plan.pk, admin_user)


# --- The bulk step ------------------------------------------------------------------------------


def test_bulk_owners_on_eight_tasks_at_once(admin_client, draft, draft_section, agency_a, agency_b, commission):
    tasks = [make_task(draft, draft_section, str(i)) for i in range(1, 9)]
    untouched = make_task(draft, draft_section, "9")
    data = {
        "tasks": [t.pk for t in tasks],
        "action": "owners",
        "mode": "replace",
        "lead": agency_a.pk,
        "co_owners": [agency_b.pk, commission.pk],
    }

    response = admin_client.post(url("plan_bulk", draft.pk), data)

    assert response.status_code == 302
    for task in tasks:
        task.refresh_from_db()
        owners = owners_of(task)
        assert owners[0] == (agency_a.pk, OwnerRole.LEAD)
        assert set(owners[1:]) == {(agency_b.pk, OwnerRole.CO_OWNER), (commission.pk, OwnerRole.CO_OWNER)}
        assert "owners" in task.hand_set
        assert task.history.first().history_change_reason == "控制台：批量设置责任单位"
    assert owners_of(untouched) == [] and untouched.hand_set == []
    (event,) = events("bulk_owners")
    assert sorted(event.detail["tasks"]) == sorted(t.pk for t in tasks)
    assert event.detail["lead"] == agency_a.pk and event.detail["mode"] == "replace"
    assert TaskOwner.history.filter(history_change_reason="控制台：批量设置责任单位").count() == 24


def test_bulk_owners_add_keeps_each_lead_and_adds_co_owners(
    admin_client, draft, draft_section, agency_a, agency_b, commission
):
    led = make_task(draft, draft_section, "1", lead=agency_b)
    unled = make_task(draft, draft_section, "2")
    data = {
        "tasks": [led.pk, unled.pk],
        "action": "owners",
        "mode": "add",
        "lead": agency_a.pk,
        "co_owners": [commission.pk],
    }

    assert admin_client.post(url("plan_bulk", draft.pk), data).status_code == 302

    assert owners_of(led) == [(agency_b.pk, OwnerRole.LEAD), (commission.pk, OwnerRole.CO_OWNER)]
    assert owners_of(unled) == [(agency_a.pk, OwnerRole.LEAD), (commission.pk, OwnerRole.CO_OWNER)]


def test_replacing_the_lead_with_a_co_owner_swaps_them(admin_client, plan, section, agency_a, agency_b):
    task = make_task(plan, section, "1", lead=agency_a, co_owners=[agency_b])
    data = {"tasks": [task.pk], "action": "owners", "mode": "replace", "lead": agency_b.pk, "co_owners": [agency_a.pk]}
    assert admin_client.post(url("plan_bulk", plan.pk), data).status_code == 302
    assert owners_of(task) == [(agency_b.pk, OwnerRole.LEAD), (agency_a.pk, OwnerRole.CO_OWNER)]


def test_new_owners_drop_the_responsible_of_the_old(admin_client, plan, section, agency_a, agency_b, staff_a):
    task = make_task(plan, section, "1", lead=agency_a)
    task.responsible_users.add(staff_a)
    data = {"tasks": [task.pk], "action": "owners", "mode": "replace", "lead": agency_b.pk}
    assert admin_client.post(url("plan_bulk", plan.pk), data).status_code == 302
    assert list(task.responsible_users.all()) == []


def test_bulk_due_date(admin_client, plan, section, agency_a):
    tasks = [make_task(plan, section, str(i), lead=agency_a, due_on=datetime.date(2026, 12, 31)) for i in (1, 2, 3)]
    data = {"tasks": [t.pk for t in tasks], "action": "due", "due_on": "2026-09-30"}

    assert admin_client.post(url("plan_bulk", plan.pk), data).status_code == 302

    for task in tasks:
        task.refresh_from_db()
        assert task.due_on == datetime.date(2026, 9, 30) == task.baseline_due_on
        assert task.hand_set == ["due_on"]
    assert events("bulk_due")[0].detail["due_on"] == "2026-09-30"


def test_a_due_date_before_the_plan_year_is_refused(admin_client, plan, section, agency_a):
    task = make_task(plan, section, "1", lead=agency_a, due_on=datetime.date(2026, 12, 31))
    data = {"tasks": [task.pk], "action": "due", "due_on": "2020-01-01"}
    assert admin_client.post(url("plan_bulk", plan.pk), data).status_code == 400
    task.refresh_from_db()
    assert task.due_on == datetime.date(2026, 12, 31)


def test_bulk_responsible_users(admin_client, plan, section, agency_a, agency_b, staff_a, staff_b):
    both = make_task(plan, section, "1", lead=agency_a, co_owners=[agency_b])
    also = make_task(plan, section, "2", lead=agency_b, co_owners=[agency_a])
    data = {
        "tasks": [both.pk, also.pk],
        "action": "responsible",
        "mode": "replace",
        "responsible_users": [staff_a.pk, staff_b.pk],
    }

    assert admin_client.post(url("plan_bulk", plan.pk), data).status_code == 302

    for task in (both, also):
        task.refresh_from_db()
        assert set(task.responsible_users.all()) == {staff_a, staff_b}
        assert task.hand_set == ["responsible_users"]
    assert len(events("bulk_responsible")) == 1


def test_responsible_outside_the_owner_agencies_is_refused(
    admin_client, plan, section, agency_a, agency_b, staff_a, staff_b
):
    task_a = make_task(plan, section, "1", lead=agency_a)
    task_b = make_task(plan, section, "2", lead=agency_b)
    data = {
        "tasks": [task_a.pk, task_b.pk],
        "action": "responsible",
        "mode": "replace",
        "responsible_users": [staff_a.pk],
    }

    response = admin_client.post(url("plan_bulk", plan.pk), data)

    assert response.status_code == 400
    assert "不属于任务" in response.content.decode()
    assert not task_a.responsible_users.exists() and not task_b.responsible_users.exists()
    assert not events("bulk_responsible")


def test_the_service_refuses_an_outsider_too(plan, section, agency_a, staff_outside, admin_user):
    task = make_task(plan, section, "1", lead=agency_a)
    with pytest.raises(plans.ValidationError):
        plans.bulk_set_responsible(plan.pk, admin_user, [task.pk], users=[staff_outside], replace=True)
    assert not task.responsible_users.exists()


def test_bulk_mark_and_unmark_exempt(admin_client, plan, section, agency_a):
    tasks = [make_task(plan, section, str(i), lead=agency_a) for i in (1, 2)]
    ids = [t.pk for t in tasks]
    assert admin_client.post(url("plan_bulk", plan.pk), {"tasks": ids, "action": "exempt"}).status_code == 302
    assert Task.objects.filter(pk__in=ids, reporting_exempt=True).count() == 2
    assert admin_client.post(url("plan_bulk", plan.pk), {"tasks": ids[:1], "action": "unexempt"}).status_code == 302
    assert list(Task.objects.filter(pk__in=ids, reporting_exempt=True).values_list("pk", flat=True)) == ids[1:]
    assert sorted(e.detail["reporting_exempt"] for e in events("bulk_exempt")) == [False, True]


@pytest.mark.parametrize(
    "data",
    [
        {"action": "exempt"},  # nothing ticked
        {"tasks": ["abc"], "action": "exempt"},
        {"tasks": ["99999999"], "action": "exempt"},
        {"tasks": ["1"], "action": "explode"},
        {"tasks": ["1"], "action": "owners", "mode": "replace"},  # no lead
        {"tasks": ["1"], "action": "owners", "mode": "replace", "lead": "abc"},
        {"tasks": ["1"], "action": "owners", "mode": "replace", "lead": "LEAD", "co_owners": ["LEAD"]},
        {"tasks": ["1"], "action": "due", "due_on": "not a date"},
        {"tasks": ["1"], "action": "due"},
        {"tasks": ["1"], "action": "responsible", "responsible_users": ["x"]},
    ],
)
def test_bad_bulk_posts_are_400_and_change_nothing(admin_client, plan, section, agency_a, data):
    task = make_task(plan, section, "1")
    data = {
        key: [str(task.pk) if v == "1" else str(agency_a.pk) if v == "LEAD" else v for v in value]
        if isinstance(value, list)
        else (str(agency_a.pk) if value == "LEAD" else value)
        for key, value in data.items()
    }
    response = admin_client.post(url("plan_bulk", plan.pk), data)
    assert response.status_code == 400
    assert 'data-testid="bulk-errors"' in response.content.decode()
    task.refresh_from_db()
    assert owners_of(task) == [] and not task.reporting_exempt and task.hand_set == []


def test_a_task_of_another_plan_cannot_be_ticked(admin_client, plan, other_plan, agency_a):
    foreign = make_task(other_plan, None, "1")
    response = admin_client.post(url("plan_bulk", plan.pk), {"tasks": [foreign.pk], "action": "exempt"})
    assert response.status_code == 400
    foreign.refresh_from_db()
    assert not foreign.reporting_exempt


# --- A closed year ---------------------------------------------------------------------------------


@pytest.fixture
def closed(plan, section, agency_a):
    make_task(plan, section, "1", lead=agency_a)
    plan.status = PlanStatus.ARCHIVED
    plan.save()
    return plan


def test_a_closed_plan_is_read_only(admin_client, closed, agency_b):
    task = closed.tasks.get()
    page = admin_client.get(url("plan_detail", closed.pk)).content.decode()
    assert 'data-testid="read-only"' in page and 'name="tasks"' not in page and "保存设置" not in page

    writes = [
        (url("plan_settings", closed.pk), settings_data()),
        (url("plan_bulk", closed.pk), {"tasks": [task.pk], "action": "exempt"}),
        (url("plan_bulk", closed.pk), {"tasks": [task.pk], "action": "owners", "mode": "replace", "lead": agency_b.pk}),
        (url("plan_activate", closed.pk), {}),
        (url("plan_back_to_draft", closed.pk), {}),
        (url("plan_task_add", closed.pk), {"heading": "新任务"}),
        (url("plan_task_edit", task.pk), {"heading": "改了", "number": "1"}),
        (url("plan_task_split", task.pk), {"heading": "拆出", "number": "2"}),
        (url("plan_task_move", task.pk), {"number": "1"}),
        (url("plan_task_delete", task.pk), {}),
    ]
    before = AuditEvent.objects.count()
    for path, data in writes:
        response = admin_client.post(path, data)
        assert response.status_code == 409, path
        assert "已归档" in response.content.decode(), path
    task.refresh_from_db()
    closed.refresh_from_db()
    assert closed.status == PlanStatus.ARCHIVED and closed.reporting_cycle == ReportingCycle.MONTHLY
    assert (
        task.heading == "任务1"
        and not task.reporting_exempt
        and owners_of(task) == [(task.task_owners.get().agency_id, OwnerRole.LEAD)]
    )
    assert closed.tasks.count() == 1
    assert AuditEvent.objects.count() == before


def test_the_services_refuse_a_closed_plan(closed, admin_user):
    task = closed.tasks.get()
    with pytest.raises(plans.PlanClosed):
        plans.bulk_set_exempt(closed.pk, admin_user, [task.pk], exempt=True)
    with pytest.raises(plans.PlanClosed):
        plans.delete_task(task.pk, admin_user)


def test_an_archived_plan_is_never_activated(closed, admin_user):
    with pytest.raises(plans.PlanClosed):
        plans.activate(closed.pk, admin_user, past_year_confirmed=True)


def test_a_supervisor_account_is_no_staff(draft, draft_section, agency_a):
    make_user("sup_a", Role.SUPERVISOR, agency_a)
    make_task(draft, draft_section, "1", lead=agency_a)
    assert [a.pk for a in plans.activation_check(draft).unstaffed] == [agency_a.pk]
