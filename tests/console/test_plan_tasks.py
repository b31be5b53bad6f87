"""One task on the console's plan pages: add, edit, move, split, merge, delete (each with
its refusals: a number twice in a section, a task with history); and the 无需填报 rule: an
exempt task owes no report, counts in no reporting rate and gets no reminder."""

import datetime

import pytest
from django.urls import reverse

from audit.choices import EventType
from audit.models import AuditEvent
from indicators.models import Indicator, Reading
from notifications.choices import Rule
from notifications.rules import occurrences
from supervision.rates import reporting_rates
from tasks.choices import OwnerRole
from tasks.models import Milestone, ProgressUpdate, Task, TaskOwner
from tasks.services import owed_this_cycle_q
from tests.fixtures.tasks import make_task
from workplans.models import Section

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def second(plan):
    return Section.objects.create(plan=plan, label="二", title="织牢公共卫生网底", order=1)


def url(name, *args):
    return reverse(f"console:{name}", args=args)


def owners_of(task):
    return [(row.agency_id, row.role) for row in TaskOwner.objects.filter(task=task).order_by("order", "pk")]


def in_order(plan):
    return list(Task.objects.filter(plan=plan).order_by("order", "id").values_list("section_id", "number"))


def audited(event_type, action):
    return [e for e in AuditEvent.objects.filter(event_type=event_type) if e.detail.get("action") == action]


# --- Add -----------------------------------------------------------------------------------------


def test_add_a_task_at_the_end_of_its_section(admin_client, plan, section, second, agency_a, agency_b):
    make_task(plan, section, "1", order=0)
    make_task(plan, second, "1", order=1)
    data = {
        "section": section.pk,
        "number": "2",
        "heading": "做好免疫规划",
        "text": "适龄儿童接种率保持在95%以上。",
        "lead": agency_a.pk,
        "co_owners": [agency_b.pk],
        "due_on": "2026-10-31",
    }

    response = admin_client.post(url("plan_task_add", plan.pk), data)

    assert response.status_code == 302
    task = Task.objects.get(heading="做好免疫规划")
    assert owners_of(task) == [(agency_a.pk, OwnerRole.LEAD), (agency_b.pk, OwnerRole.CO_OWNER)]
    assert task.due_on == datetime.date(2026, 10, 31)
    assert in_order(plan) == [(section.pk, "1"), (section.pk, "2"), (second.pk, "1")]
    assert len(audited(EventType.CREATE, "task_add")) == 1
    assert task.history.first().history_change_reason == "控制台：新增任务"


def test_add_page_shows_the_form(admin_client, plan, section):
    response = admin_client.get(url("plan_task_add", plan.pk) + f"?section={section.pk}")
    assert response.status_code == 200
    assert 'name="heading"' in response.content.decode()


@pytest.mark.parametrize(
    "bad, field",
    [
        ({"number": "1"}, "该部分已有序号为“1”的任务"),
        ({"heading": "   "}, "请填写任务摘要"),
        ({"lead": "", "co_owners": ["B"]}, "有配合单位时，请指定牵头单位"),
        ({"co_owners": ["A"]}, "不能同时作为配合单位"),
        ({"section": "999999"}, "选择一个有效的选项"),
        ({"due_on": "2026-13-40"}, "输入一个有效的日期"),
        ({"number": "x" * 21}, "21"),
    ],
)
def test_a_bad_new_task_is_400_with_the_reason(admin_client, plan, section, agency_a, agency_b, bad, field):
    make_task(plan, section, "1")
    data = {"section": section.pk, "number": "2", "heading": "新任务", "lead": agency_a.pk}
    data.update(bad)
    data = {
        k: [agency_a.pk if x == "A" else agency_b.pk for x in v] if isinstance(v, list) else v for k, v in data.items()
    }

    response = admin_client.post(url("plan_task_add", plan.pk), data)

    assert response.status_code == 400
    assert field in response.content.decode()
    assert Task.objects.filter(plan=plan).count() == 1


def test_a_number_may_repeat_in_another_section(admin_client, plan, section, second, agency_a):
    make_task(plan, section, "1")
    response = admin_client.post(
        url("plan_task_add", plan.pk), {"section": second.pk, "number": "1", "heading": "另一部分的 1"}
    )
    assert response.status_code == 302


# --- Edit ----------------------------------------------------------------------------------------


def test_edit_marks_owners_and_due_date_as_hand_set(admin_client, plan, section, agency_a, agency_b, staff_b):
    task = make_task(plan, section, "1", lead=agency_a, due_on=datetime.date(2026, 12, 31))
    data = {
        "number": "1",
        "heading": "改过的摘要",
        "text": "",
        "lead": agency_b.pk,
        "co_owners": [agency_a.pk],
        "responsible_users": [staff_b.pk],
        "due_on": "2026-11-30",
        "long_term": "on",
    }

    response = admin_client.post(url("plan_task_edit", task.pk), data)

    assert response.status_code == 302
    task.refresh_from_db()
    assert task.heading == "改过的摘要" and task.long_term
    assert owners_of(task) == [(agency_b.pk, OwnerRole.LEAD), (agency_a.pk, OwnerRole.CO_OWNER)]
    assert task.due_on == datetime.date(2026, 11, 30)
    assert list(task.responsible_users.all()) == [staff_b]
    assert set(task.hand_set) == {"owners", "due_on", "responsible_users"}
    (event,) = audited(EventType.UPDATE, "task_edit")
    assert set(event.detail["fields"]) >= {"heading", "owners", "due_on", "responsible_users", "long_term"}


def test_editing_the_text_alone_sets_no_hand_mark(admin_client, plan, section, agency_a):
    task = make_task(plan, section, "1", lead=agency_a, due_on=datetime.date(2026, 12, 31))
    data = {"number": "1", "heading": "任务1", "text": "补充全文", "lead": agency_a.pk, "due_on": "2026-12-31"}
    assert admin_client.post(url("plan_task_edit", task.pk), data).status_code == 302
    task.refresh_from_db()
    assert task.text == "补充全文" and task.hand_set == []


def test_edit_refuses_a_responsible_user_outside_the_owners(admin_client, plan, section, agency_a, staff_outside):
    task = make_task(plan, section, "1", lead=agency_a)
    data = {"number": "1", "heading": "任务1", "lead": agency_a.pk, "responsible_users": [staff_outside.pk]}
    response = admin_client.post(url("plan_task_edit", task.pk), data)
    assert response.status_code == 400
    assert "责任人须是牵头或配合单位的人员" in response.content.decode()
    assert not task.responsible_users.exists()


def test_edit_refuses_a_number_another_task_of_the_section_has(admin_client, plan, section, agency_a):
    make_task(plan, section, "1")
    task = make_task(plan, section, "2")
    response = admin_client.post(url("plan_task_edit", task.pk), {"number": "1", "heading": "任务2"})
    assert response.status_code == 400
    task.refresh_from_db()
    assert task.number == "2"


def test_after_an_approved_delay_the_baseline_stays(admin_client, plan, section, agency_a):
    task = make_task(plan, section, "1", lead=agency_a, due_on=datetime.date(2026, 6, 30))
    Task.objects.filter(pk=task.pk).update(due_on=datetime.date(2026, 9, 30))  # a delay was approved
    data = {"number": "1", "heading": "任务1", "lead": agency_a.pk, "due_on": "2026-10-31"}
    assert admin_client.post(url("plan_task_edit", task.pk), data).status_code == 302
    task.refresh_from_db()
    assert task.due_on == datetime.date(2026, 10, 31) and task.baseline_due_on == datetime.date(2026, 6, 30)


# --- Move ----------------------------------------------------------------------------------------


def test_move_to_another_section_after_a_task(admin_client, plan, section, second, agency_a):
    moving = make_task(plan, section, "1", order=0)
    make_task(plan, section, "2", order=1)
    first = make_task(plan, second, "1", order=2)
    make_task(plan, second, "2", order=3)

    data = {"section": second.pk, "after": first.pk, "number": "1a"}
    response = admin_client.post(url("plan_task_move", moving.pk), data)

    assert response.status_code == 302
    assert in_order(plan) == [(section.pk, "2"), (second.pk, "1"), (second.pk, "1a"), (second.pk, "2")]
    assert len(audited(EventType.UPDATE, "task_move")) == 1


def test_move_first_in_its_own_section(admin_client, plan, section, agency_a):
    make_task(plan, section, "1", order=0)
    last = make_task(plan, section, "2", order=1)
    assert admin_client.post(url("plan_task_move", last.pk), {"section": section.pk, "number": "2"}).status_code == 302
    assert in_order(plan) == [(section.pk, "2"), (section.pk, "1")]


def test_move_refuses_a_clashing_number(admin_client, plan, section, second):
    moving = make_task(plan, section, "1")
    make_task(plan, second, "1")
    response = admin_client.post(url("plan_task_move", moving.pk), {"section": second.pk, "number": "1"})
    assert response.status_code == 400
    assert "目标部分已有序号为“1”的任务" in response.content.decode()
    moving.refresh_from_db()
    assert moving.section == section


def test_move_refuses_an_anchor_outside_the_target_section(admin_client, plan, section, second):
    moving = make_task(plan, section, "1")
    anchor = make_task(plan, section, "2")
    response = admin_client.post(
        url("plan_task_move", moving.pk), {"section": second.pk, "after": anchor.pk, "number": "9"}
    )
    assert response.status_code == 400
    moving.refresh_from_db()
    assert moving.section == section


def test_move_refuses_a_section_of_another_plan(admin_client, plan, section, other_plan):
    foreign = Section.objects.create(plan=other_plan, label="一")
    moving = make_task(plan, section, "1")
    response = admin_client.post(url("plan_task_move", moving.pk), {"section": foreign.pk, "number": "1"})
    assert response.status_code == 400
    moving.refresh_from_db()
    assert moving.section == section


# --- Split ---------------------------------------------------------------------------------------


def test_split_gives_the_new_task_the_same_owners(admin_client, plan, section, agency_a, agency_b, staff_a):
    task = make_task(plan, section, "1", lead=agency_a, co_owners=[agency_b], text="甲事项。乙事项。", order=0)
    task.responsible_users.add(staff_a)
    after = make_task(plan, section, "2", order=1)
    data = {"number": "1-2", "heading": "乙事项", "text": "乙事项。", "remaining_text": "甲事项。"}

    response = admin_client.post(url("plan_task_split", task.pk), data)

    assert response.status_code == 302
    new = Task.objects.get(number="1-2")
    assert owners_of(new) == [(agency_a.pk, OwnerRole.LEAD), (agency_b.pk, OwnerRole.CO_OWNER)]
    assert list(new.responsible_users.all()) == [staff_a] and new.due_on == task.due_on
    task.refresh_from_db()
    assert task.text == "甲事项。"
    assert in_order(plan) == [(section.pk, "1"), (section.pk, "1-2"), (section.pk, after.number)]
    assert audited(EventType.CREATE, "task_split")[0].detail["from_task"] == task.pk


def test_split_refuses_a_number_taken_in_the_section(admin_client, plan, section):
    task = make_task(plan, section, "1")
    make_task(plan, section, "2")
    response = admin_client.post(url("plan_task_split", task.pk), {"number": "2", "heading": "拆出"})
    assert response.status_code == 400
    assert "本部分已有序号为“2”的任务" in response.content.decode()
    assert Task.objects.filter(plan=plan).count() == 2


def test_split_needs_a_number_and_heading(admin_client, plan, section):
    task = make_task(plan, section, "1")
    response = admin_client.post(url("plan_task_split", task.pk), {"number": " ", "heading": ""})
    assert response.status_code == 400
    assert Task.objects.filter(plan=plan).count() == 1


# --- Merge ---------------------------------------------------------------------------------------


def test_merge_folds_b_into_a(admin_client, plan, section, commission, agency_a, agency_b, staff_b):
    a = make_task(plan, section, "1", lead=agency_a, text="甲事项。")
    b = make_task(plan, section, "2", lead=agency_b, co_owners=[commission], heading="乙", text="乙事项。")
    b.responsible_users.add(staff_b)
    milestone = Milestone.objects.create(task=b, due_on=datetime.date(2026, 9, 1), text="乙节点")
    indicator = Indicator.objects.create(plan=plan, task=b, name="乙指标", target=1)

    response = admin_client.post(url("plan_task_merge", a.pk), {"other": b.pk})

    assert response.status_code == 302
    assert not Task.objects.filter(pk=b.pk).exists()
    a.refresh_from_db()
    assert a.text == "甲事项。\n乙\n乙事项。"
    assert owners_of(a)[0] == (agency_a.pk, OwnerRole.LEAD)
    assert set(owners_of(a)[1:]) == {(agency_b.pk, OwnerRole.CO_OWNER), (commission.pk, OwnerRole.CO_OWNER)}
    assert list(a.responsible_users.all()) == [staff_b]
    milestone.refresh_from_db()
    indicator.refresh_from_db()
    assert milestone.task_id == a.pk and indicator.task_id == a.pk
    assert audited(EventType.UPDATE, "task_merge")[0].detail["folded"]["id"] == b.pk


def _with_update(task, author):
    ProgressUpdate.objects.create(task=task, author=author, status="in_progress", percent=10)


def _with_reading(task, author):
    indicator = Indicator.objects.create(plan=task.plan, task=task, name="指标", target=1)
    Reading.objects.create(
        indicator=indicator, plan=task.plan, value=1, as_of=datetime.date(2026, 3, 1), reporter=author
    )


@pytest.mark.parametrize("history", [_with_update, _with_reading], ids=["update", "reading"])
def test_merge_refuses_a_task_with_history(admin_client, plan, section, agency_a, staff_a, history):
    a = make_task(plan, section, "1", lead=agency_a)
    b = make_task(plan, section, "2", lead=agency_a, text="乙")
    history(b, staff_a)

    response = admin_client.post(url("plan_task_merge", a.pk), {"other": b.pk})

    assert response.status_code == 400
    assert "不能合并" in response.content.decode()
    assert Task.objects.filter(pk=b.pk).exists()
    a.refresh_from_db()
    assert a.text == ""


@pytest.mark.parametrize("other", ["", "abc", "99999999"])
def test_merge_needs_another_task_of_the_plan(admin_client, plan, section, other):
    a = make_task(plan, section, "1")
    assert admin_client.post(url("plan_task_merge", a.pk), {"other": other}).status_code == 400


def test_merge_refuses_itself_and_other_plans(admin_client, plan, section, other_plan):
    a = make_task(plan, section, "1")
    foreign = make_task(other_plan, None, "1")
    assert admin_client.post(url("plan_task_merge", a.pk), {"other": a.pk}).status_code == 400
    assert admin_client.post(url("plan_task_merge", a.pk), {"other": foreign.pk}).status_code == 400
    assert Task.objects.filter(pk=foreign.pk).exists()


# --- Delete --------------------------------------------------------------------------------------


def test_delete_a_task_without_reports(admin_client, plan, section):
    make_task(plan, section, "1", order=0)
    doomed = make_task(plan, section, "2", order=1)
    make_task(plan, section, "3", order=2)
    assert admin_client.get(url("plan_task_delete", doomed.pk)).status_code == 200

    assert admin_client.post(url("plan_task_delete", doomed.pk)).status_code == 302

    assert not Task.objects.filter(pk=doomed.pk).exists()
    assert list(Task.objects.filter(plan=plan).order_by("order").values_list("order", flat=True)) == [0, 1]
    assert audited(EventType.DELETE, "task_delete")[0].detail["heading"] == "任务2"


def test_delete_refuses_a_reported_task(admin_client, plan, section, agency_a, staff_a):
    task = make_task(plan, section, "1", lead=agency_a)
    _with_update(task, staff_a)
    assert 'data-testid="has-history"' in admin_client.get(url("plan_task_delete", task.pk)).content.decode()
    response = admin_client.post(url("plan_task_delete", task.pk))
    assert response.status_code == 400
    assert Task.objects.filter(pk=task.pk).exists()


# --- Ids and roles -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["plan_task_edit", "plan_task_move", "plan_task_split", "plan_task_merge", "plan_task_delete"]
)
def test_an_unknown_task_is_404(admin_client, name):
    assert admin_client.get(url(name, 99999999)).status_code == 404
    assert admin_client.post(url(name, 99999999), {}).status_code == 404


@pytest.mark.parametrize("role_user", ["auditor", "security_admin"])
def test_the_other_administrators_get_403(client, request, plan, section, role_user):
    task = make_task(plan, section, "1")
    client.force_login(request.getfixturevalue(role_user))
    assert client.get(url("plan_task_edit", task.pk)).status_code == 403
    assert client.post(url("plan_task_delete", task.pk)).status_code == 403
    assert Task.objects.filter(pk=task.pk).exists()


# --- 无需填报: no report owed, no rate, no reminder -------------------------------------------


DAY = datetime.date(2026, 6, 22)  # three days before the monthly plans' 25th


@pytest.fixture
def pair(plan, section, agency_a, agency_b, staff_a, staff_b):
    """Two open tasks of the active monthly plan, due in 7 days, A leading and B co-owning;
    the second marked 无需填报, with a milestone due tomorrow."""
    due = DAY + datetime.timedelta(days=7)
    owed = make_task(plan, section, "1", lead=agency_a, co_owners=[agency_b], due_on=due)
    exempt = make_task(plan, section, "2", lead=agency_a, co_owners=[agency_b], due_on=due, reporting_exempt=True)
    Milestone.objects.create(task=exempt, due_on=DAY + datetime.timedelta(days=1), text="节点")
    return owed, exempt


def test_an_exempt_task_owes_no_report(pair):
    owed, _exempt = pair
    assert list(Task.objects.filter(owed_this_cycle_q(DAY))) == [owed]


def test_an_exempt_task_is_not_in_the_reporting_rate(pair):
    rates = reporting_rates(Task.objects.all(), DAY)
    assert rates.total.due == 1
    assert rates.total.inputs_due == 1  # the co-owner owes input on the owed task only


def test_an_exempt_task_gets_no_reminder(pair):
    owed, _exempt = pair
    found = occurrences(DAY)
    due_reminders = [o for o in found if o.rule in (Rule.TASK_DUE, Rule.MILESTONE_DUE)]
    assert [o.task_id for o in due_reminders] == [owed.pk]
    owing = [payload["owed"] for o in found if o.rule == Rule.REPORT_DUE for payload in o.recipients.values()]
    assert owing and set(owing) == {1}  # each person owes the one report, not two
