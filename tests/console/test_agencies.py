"""The agency tree (console:agencies): the tree with active staff and tasks and the one
staffing warning, adding and editing with no cycles, moving, merging one agency into
another (everything that pointed at it moves, its name stays as an alias) and
deactivating one with its open tasks handed to another."""

import pytest
from django.urls import reverse

from accounts.matching import AgencyMatcher
from accounts.models import Agency, AgencyAlias
from audit.models import AuditEvent
from notifications.models import Robot
from tasks.choices import OwnerRole, TaskStatus
from tasks.models import TaskOwner
from tests.conftest import make_task, make_user

pytestmark = pytest.mark.django_db


def owners(task):
    return {(owner.agency.name, owner.role) for owner in TaskOwner.objects.filter(task=task).select_related("agency")}


# --- The tree -----------------------------------------------------------------------------


def test_the_tree_shows_staff_tasks_and_warns_of_an_owner_with_nobody_to_report(
    client, admin_user, plan, section, agency_a, agency_b, staff_a
):
    # given: A has a staff member, B owns a task of the active plan and has none
    make_task(plan, section, "1", lead=agency_a, co_owners=[agency_b])
    client.force_login(admin_user)

    # when
    page = client.get(reverse("console:agencies"))

    # then
    assert page.status_code == 200
    rows = {row.agency.name: row for row in page.context["rows"]}
    assert (rows["医政医管处"].staff, rows["医政医管处"].tasks, rows["医政医管处"].unstaffed) == (1, 1, False)
    assert (rows["疾病预防控制处"].staff, rows["疾病预防控制处"].tasks, rows["疾病预防控制处"].unstaffed) == (
        0,
        1,
        True,
    )
    assert rows["测试市卫生健康委员会"].unstaffed is False  # owns nothing
    assert [row.agency.name for row in page.context["unstaffed"]] == ["疾病预防控制处"]
    assert "无人填报" in page.content.decode()
    # tree order: the commission, then its departments below it
    names = [row.agency.name for row in page.context["rows"]]
    assert names.index("测试市卫生健康委员会") < names.index("医政医管处")
    assert rows["医政医管处"].depth == 1


def test_the_tree_runs_a_bounded_number_of_queries(
    client, admin_user, plan, section, commission, django_assert_max_num_queries
):
    for i in range(30):
        agency = Agency.objects.create(name=f"单位{i}", parent=commission)
        AgencyAlias.objects.create(agency=agency, name=f"别名{i}")
        make_user(f"staff{i}", "staff", agency)
        make_task(plan, section, str(i + 1), lead=agency)
    client.force_login(admin_user)

    with django_assert_max_num_queries(14):
        page = client.get(reverse("console:agencies"))

    assert page.status_code == 200 and len(page.context["rows"]) == 31


def test_only_the_system_admin_opens_the_tree(client, staff_a, leader):
    for user in (staff_a, leader):
        client.force_login(user)
        assert client.get(reverse("console:agencies")).status_code == 403


# --- Adding, editing, moving ---------------------------------------------------------------


def test_it_adds_an_agency_under_a_parent_and_audits_it(client, admin_user, commission):
    client.force_login(admin_user)

    response = client.post(
        reverse("console:agency_add"),
        {"name": "妇幼健康处", "short_name": "妇幼处", "level": "department", "parent": commission.pk, "order": 3},
    )

    assert response.status_code == 302
    agency = Agency.objects.get(name="妇幼健康处")
    assert agency.parent == commission
    assert AuditEvent.objects.filter(detail__action="agency_add", object_id=str(agency.pk)).exists()


def test_an_edit_may_not_put_an_agency_below_itself(client, admin_user, commission, agency_a):
    client.force_login(admin_user)

    for parent in (commission, agency_a):  # its child, itself
        response = client.post(
            reverse("console:agency_edit", args=[commission.pk]),
            {"name": commission.name, "short_name": "", "level": "city", "parent": parent.pk, "order": 0},
        )
        assert response.status_code == 400
        assert "上级单位不能是本单位或其下级单位" in response.content.decode()
    commission.refresh_from_db()
    assert commission.parent is None


def test_an_edit_refuses_a_duplicate_name(client, admin_user, agency_a, agency_b):
    client.force_login(admin_user)

    response = client.post(
        reverse("console:agency_edit", args=[agency_b.pk]),
        {"name": agency_a.name, "short_name": "", "level": "department", "parent": "", "order": 0},
    )

    assert response.status_code == 400
    agency_b.refresh_from_db()
    assert agency_b.name == "疾病预防控制处"


def test_it_moves_an_agency_and_refuses_a_cycle(client, admin_user, commission, agency_a, outside_agency):
    client.force_login(admin_user)

    moved = client.post(reverse("console:agency_move", args=[agency_a.pk]), {"parent": outside_agency.pk})
    refused = client.post(reverse("console:agency_move", args=[commission.pk]), {"parent": commission.pk})

    assert moved.status_code == 302
    agency_a.refresh_from_db()
    assert agency_a.parent == outside_agency
    assert refused.status_code == 400 and "上级单位不能是本单位或其下级单位" in refused.content.decode()
    event = AuditEvent.objects.get(detail__action="agency_move")
    assert event.detail["new_parent"] == outside_agency.name


# --- Merging -----------------------------------------------------------------------------------


def test_a_merge_moves_owners_users_aliases_and_keeps_the_name_as_an_alias(
    client, admin_user, plan, section, commission, agency_a, agency_b, staff_a
):
    # given: A leads task 1 which B co-owns, A alone owns task 2, B leads task 3 A co-owns;
    # A has staff, an alias, a sub-agency and a robot
    both = make_task(plan, section, "1", lead=agency_a, co_owners=[agency_b])
    only_a = make_task(plan, section, "2", lead=agency_a)
    b_leads = make_task(plan, section, "3", lead=agency_b, co_owners=[agency_a])
    AgencyAlias.objects.create(agency=agency_a, name="医政处")
    child = Agency.objects.create(name="医政医管处一科", parent=agency_a)
    Robot.objects.create(agency=agency_a, kind="dingtalk", name="A群", webhook_url="https://example.cn/a")
    client.force_login(admin_user)

    # when
    response = client.post(
        reverse("console:agency_merge", args=[agency_a.pk]), {"target": agency_b.pk, "confirm": "on"}
    )

    # then
    assert response.status_code == 302
    assert not Agency.objects.filter(pk=agency_a.pk).exists()
    assert owners(both) == {("疾病预防控制处", OwnerRole.LEAD)}  # one row, the lead wins
    assert owners(only_a) == {("疾病预防控制处", OwnerRole.LEAD)}
    assert owners(b_leads) == {("疾病预防控制处", OwnerRole.LEAD)}
    staff_a.refresh_from_db()
    assert staff_a.agency == agency_b
    assert set(agency_b.aliases.values_list("name", flat=True)) == {"医政处", "医政医管处"}
    child.refresh_from_db()
    assert child.parent == agency_b
    assert Robot.objects.get(name="A群").agency == agency_b
    event = AuditEvent.objects.get(detail__action="agency_merge")
    assert event.detail["source"]["name"] == "医政医管处" and event.detail["owners_merged"] == 2
    assert event.detail["users"] == ["staff_a"]
    # the old name still finds the survivor (the plan import's matcher)
    assert AgencyMatcher.load().match("医政医管处").agency == agency_b


def test_a_merge_keeps_the_targets_row_where_a_unique_constraint_would_hold_two(client, admin_user, agency_a, agency_b):
    Robot.objects.create(agency=agency_a, kind="dingtalk", name="A群", webhook_url="https://example.cn/a")
    Robot.objects.create(agency=agency_b, kind="dingtalk", name="B群", webhook_url="https://example.cn/b")
    client.force_login(admin_user)

    response = client.post(
        reverse("console:agency_merge", args=[agency_a.pk]), {"target": agency_b.pk, "confirm": "on"}
    )

    assert response.status_code == 302
    assert list(Robot.objects.values_list("name", flat=True)) == ["B群"]


@pytest.mark.parametrize(
    "source, target, confirm, message",
    [
        ("commission", "commission", "on", "不能把单位并入它自己"),
        ("commission", "agency_a", "on", "不能把上级并入下级"),
        ("agency_a", "commission", "", "请勾选确认"),
    ],
)
def test_a_merge_that_cannot_be_is_refused_and_changes_nothing(
    client, admin_user, commission, agency_a, source, target, confirm, message
):
    agencies = {"commission": commission, "agency_a": agency_a}
    client.force_login(admin_user)

    response = client.post(
        reverse("console:agency_merge", args=[agencies[source].pk]), {"target": agencies[target].pk, "confirm": confirm}
    )

    assert response.status_code == 400
    assert message in response.content.decode()
    assert Agency.objects.filter(pk=agencies[source].pk).exists()
    assert not AuditEvent.objects.filter(detail__action="agency_merge").exists()


# --- Deactivating ------------------------------------------------------------------------------


def test_deactivating_an_owner_of_active_work_needs_a_target(client, admin_user, plan, section, agency_a, agency_b):
    make_task(plan, section, "1", lead=agency_a)
    client.force_login(admin_user)

    response = client.post(reverse("console:agency_deactivate", args=[agency_a.pk]), {"target": ""})

    assert response.status_code == 400
    assert "请选择接收这些任务的单位" in response.content.decode()
    agency_a.refresh_from_db()
    assert agency_a.is_active


def test_deactivating_hands_the_open_tasks_to_the_chosen_agency(
    client, admin_user, plan, section, agency_a, agency_b, outside_agency, staff_a
):
    # given: an open task A leads (B co-owns), an open task A co-owns under B, a closed one
    open_task = make_task(plan, section, "1", lead=agency_a, co_owners=[outside_agency])
    open_task.responsible_users.add(staff_a)
    co_owned = make_task(plan, section, "2", lead=agency_b, co_owners=[agency_a])
    closed = make_task(plan, section, "3", lead=agency_a, status=TaskStatus.CLOSED, percent=100)
    client.force_login(admin_user)

    # when
    response = client.post(reverse("console:agency_deactivate", args=[agency_a.pk]), {"target": agency_b.pk})

    # then
    assert response.status_code == 302
    agency_a.refresh_from_db()
    assert agency_a.is_active is False
    assert owners(open_task) == {("疾病预防控制处", OwnerRole.LEAD), ("测试市医疗保障局", OwnerRole.CO_OWNER)}
    assert owners(co_owned) == {("疾病预防控制处", OwnerRole.LEAD)}
    assert owners(closed) == {("医政医管处", OwnerRole.LEAD)}  # the record of finished work stays
    event = AuditEvent.objects.get(detail__action="agency_deactivate")
    assert event.detail["owners_moved"] == 1 and event.detail["owners_merged"] == 1
    assert list(open_task.responsible_users.all()) == []  # A's 责任人 no longer answers for it
    assert event.detail["responsible_removed"] == 1


def test_an_agency_owning_no_active_work_is_deactivated_and_enabled_again(client, admin_user, outside_agency):
    client.force_login(admin_user)

    client.post(reverse("console:agency_deactivate", args=[outside_agency.pk]), {"target": ""})
    outside_agency.refresh_from_db()
    assert outside_agency.is_active is False
    client.post(reverse("console:agency_activate", args=[outside_agency.pk]))

    outside_agency.refresh_from_db()
    assert outside_agency.is_active is True
    assert AuditEvent.objects.filter(detail__action="agency_activate").exists()


def test_deactivating_a_parent_of_active_agencies_is_refused(client, admin_user, commission, agency_a):
    client.force_login(admin_user)

    response = client.post(reverse("console:agency_deactivate", args=[commission.pk]), {"target": ""})

    assert response.status_code == 400
    assert "还有在用的下级单位" in response.content.decode()
