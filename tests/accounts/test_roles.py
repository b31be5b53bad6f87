"""Each role lands on its own page after login, and only its own pages open."""

import pytest

from tests.conftest import make_task

pytestmark = pytest.mark.django_db

PAGES = {
    "staff": "/tasks/mine/",
    "leader": "/dashboard/",
    "admin": "/plans/",
    "security": "/accounts/users/",
    "auditor": "/audit/",
}


@pytest.fixture
def people(staff_a, leader, admin_user, security_admin, auditor):
    return {"staff": staff_a, "leader": leader, "admin": admin_user, "security": security_admin, "auditor": auditor}


@pytest.mark.parametrize("role", PAGES)
def test_each_role_lands_on_its_page(client, login, people, role):
    response = login(people[role])
    assert response.status_code == 302
    landing = client.get(response["Location"], follow=True)
    assert landing.redirect_chain[-1][0] == PAGES[role]
    assert landing.status_code == 200


@pytest.mark.parametrize("role", PAGES)
@pytest.mark.parametrize("page_role", PAGES)
def test_pages_of_other_roles_are_forbidden(client, people, role, page_role):
    client.force_login(people[role])
    response = client.get(PAGES[page_role])
    # The task list serves staff (their agency), leaders (their agencies) and admins (all).
    # The system admin does not read the audit log (三员分立), nor anyone else's page but
    # the work roles'.
    allowed = (
        role == page_role
        or (page_role == "staff" and role in ("leader", "admin"))
        # Admins see the whole platform's overview.
        or (page_role == "leader" and role == "admin")
    )
    assert response.status_code == (200 if allowed else 403)


@pytest.mark.parametrize("page", PAGES.values())
def test_anonymous_visitors_are_sent_to_login(client, page):
    response = client.get(page)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_staff_see_the_tasks_their_agency_owns_and_no_others(
    client, staff_a, plan, section, agency_a, agency_b, outside_agency
):
    make_task(plan, section, "1", lead=agency_a, heading="甲处牵头的任务")
    make_task(plan, section, "2", lead=agency_b, co_owners=[agency_a], heading="甲处配合的任务")
    make_task(plan, section, "3", lead=outside_agency, heading="与甲处无关的任务")
    client.force_login(staff_a)
    body = client.get("/tasks/mine/").content.decode()
    assert "甲处牵头的任务" in body and "甲处配合的任务" in body
    assert "与甲处无关的任务" not in body


def test_a_leader_sees_the_agencies_below_theirs(client, leader, plan, section, agency_a, agency_b, outside_agency):
    make_task(plan, section, "1", lead=agency_a)
    make_task(plan, section, "2", lead=agency_b)
    make_task(plan, section, "3", lead=outside_agency)
    client.force_login(leader)
    response = client.get("/dashboard/")
    assert response.context["data"].total.tasks == 2


def test_the_audit_log_runs_a_bounded_number_of_queries(client, auditor, login, staff_a, django_assert_max_num_queries):
    for _ in range(20):
        login(staff_a, password="wrong-Password-1", REMOTE_ADDR="10.9.9.9")
    client.force_login(auditor)
    # (9: the second factor that verified the auditor's session is one of them)
    with django_assert_max_num_queries(9):
        response = client.get("/audit/")
    assert "登录失败" in response.content.decode()
