"""三员分立: the system admin, the security admin and the audit admin are three roles held
by three different people; none of them does another's job, and none is a superuser."""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from accounts.models import User
from core.roles import Role
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_rate_limits(settings):
    settings.RATE_LIMITS = {}


def refused_by(constraint, write):
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        write()
    assert constraint in str(caught.value) or "UNIQUE" in str(caught.value).upper()


# --- One person, one administrator role (the database) --------------------------------


def test_it_refuses_an_administrator_account_without_a_person(commission):
    for role in (Role.ADMIN, Role.SECURITY, Role.AUDITOR):
        refused_by(
            "user_admin_roles_have_person",
            lambda role=role: User.objects.create(username=f"nobody_{role}", role=role, agency=commission),
        )


def test_it_refuses_a_second_administrator_role_for_the_same_person(admin_user, commission):
    # given a system admin, person P-admin
    # when the same person (any case) is made an audit admin under another login
    # then the database refuses it
    refused_by(
        "user_one_admin_role_per_person",
        lambda: User.objects.create(username="admin2", role=Role.AUDITOR, person_id="p-ADMIN", agency=commission),
    )
    # nor may an update give a security admin's person to the system admin's account
    make_user("sec2", Role.SECURITY, commission, person_id="QL-2")
    refused_by(
        "user_one_admin_role_per_person",
        lambda: User.objects.filter(pk=admin_user.pk).update(person_id="ql-2"),
    )


def test_a_work_account_of_an_administrator_is_not_an_administrator_role(admin_user, agency_a):
    # The same person may also report for an agency: only administrator roles are exclusive.
    staff = make_user("admin_as_staff", Role.STAFF, agency_a, person_id=admin_user.person_id)
    assert staff.pk


def test_nobody_is_a_superuser_and_only_the_system_admin_enters_the_django_admin(
    staff_a, leader, admin_user, security_admin, auditor
):
    for user in (staff_a, leader, admin_user, security_admin, auditor):
        user.is_superuser = True
        user.save()
    flags = {u.role: (u.is_staff, u.is_superuser) for u in User.objects.all()}
    assert flags == {
        Role.STAFF: (False, False),
        Role.LEADER: (False, False),
        Role.ADMIN: (True, False),
        Role.SECURITY: (False, False),
        Role.AUDITOR: (False, False),
    }


# --- The system admin: no roles, no audit trail ----------------------------------------


def test_the_system_admin_cannot_change_a_role_in_the_django_admin(client, admin_user, staff_a, agency_a):
    # given
    client.force_login(admin_user)
    url = reverse("admin:accounts_user_change", args=[staff_a.pk])
    form = {
        "username": staff_a.username,
        "full_name": staff_a.full_name,
        "email": "",
        "phone": "",
        "agency": agency_a.pk,
        "is_active": "on",
        "role": Role.SECURITY,
        "person_id": "P-999",
    }

    # when
    response = client.post(url, form)

    # then the rest is saved, the role and the person are not
    assert response.status_code == 302
    staff_a.refresh_from_db()
    assert (staff_a.role, staff_a.person_id) == (Role.STAFF, "")
    assert "role" in client.get(url).context["adminform"].readonly_fields


def test_a_new_account_made_in_the_django_admin_starts_as_staff(client, admin_user, agency_a):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:accounts_user_add"),
        {
            "username": "newcomer",
            "full_name": "新同事",
            "agency": agency_a.pk,
            "role": Role.ADMIN,
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response.status_code == 302
    assert User.objects.get(username="newcomer").role == Role.STAFF


def test_the_system_admin_cannot_open_the_audit_trail(client, admin_user, task):
    client.force_login(admin_user)
    task.heading = "改过的摘要"
    task.save()
    record = task.history.first()
    for url in (
        "/audit/",
        "/audit/export/",
        reverse("admin:tasks_task_history", args=[task.pk]),
        reverse("admin:tasks_task_simple_history", args=[task.pk, record.history_id]),
        reverse("admin:accounts_user_history", args=[admin_user.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 403, url
        assert response.wsgi_request.denied_by_policy, url
    assert not admin_user.has_perm("accounts.view_loginevent")


def test_the_system_admin_cannot_deactivate_the_last_security_admin(client, admin_user, security_admin):
    # given the only security admin
    client.force_login(admin_user)
    form = {
        "username": security_admin.username,
        "full_name": security_admin.full_name,
        "email": "",
        "phone": "",
        "agency": security_admin.agency_id,
    }  # "is_active" left out: unticked

    # when
    client.post(reverse("admin:accounts_user_change", args=[security_admin.pk]), form)

    # then
    security_admin.refresh_from_db()
    assert security_admin.is_active
    delete = client.post(reverse("admin:accounts_user_delete", args=[security_admin.pk]), {"post": "yes"})
    assert delete.status_code == 403
    assert User.objects.filter(pk=security_admin.pk).exists()


# --- The security admin: roles and lockouts, no work data --------------------------------


def test_the_security_admin_changes_a_role_and_the_history_says_what_changed(client, security_admin, staff_a):
    # given
    client.force_login(security_admin)

    # when
    response = client.post(reverse("accounts:user_role", args=[staff_a.pk]), {"role": Role.LEADER, "person_id": ""})

    # then
    assert response.status_code == 302
    staff_a.refresh_from_db()
    assert staff_a.role == Role.LEADER
    record = User.history.filter(id=staff_a.pk).latest("history_id")
    assert (record.role, record.history_user) == (Role.LEADER, security_admin)
    assert record.history_change_reason == "角色：经办人 → 领导"


def test_making_someone_an_administrator_needs_their_person(client, security_admin, staff_a):
    client.force_login(security_admin)
    url = reverse("accounts:user_role", args=[staff_a.pk])

    missing = client.post(url, {"role": Role.AUDITOR, "person_id": " "})
    assert missing.status_code == 400
    assert "必须填写工号/证件号" in missing.content.decode()

    done = client.post(url, {"role": Role.AUDITOR, "person_id": "QL-7"})
    assert done.status_code == 302
    staff_a.refresh_from_db()
    assert (staff_a.role, staff_a.person_id, staff_a.is_staff) == (Role.AUDITOR, "QL-7", False)
    reason = User.history.filter(id=staff_a.pk).latest("history_id").history_change_reason
    assert reason == "角色：经办人 → 审计管理员；工号/证件号：— → QL-7"


def test_one_person_cannot_be_made_a_second_administrator(client, security_admin, admin_user, staff_a):
    # given a system admin, person P-admin
    client.force_login(security_admin)

    # when someone else's account is made an audit admin with the same person
    response = client.post(
        reverse("accounts:user_role", args=[staff_a.pk]), {"role": Role.AUDITOR, "person_id": "p-admin"}
    )

    # then a Chinese message, not a 500, and nothing changed
    assert response.status_code == 400
    body = response.content.decode()
    assert "同一人只能担任系统管理员、安全管理员、审计管理员中的一个" in body and admin_user.username in body
    staff_a.refresh_from_db()
    assert staff_a.role == Role.STAFF


def test_the_security_admin_cannot_change_their_own_role(client, security_admin):
    client.force_login(security_admin)
    response = client.post(
        reverse("accounts:user_role", args=[security_admin.pk]), {"role": Role.ADMIN, "person_id": "P-security"}
    )
    assert response.status_code == 400
    assert "不能修改自己的角色" in response.content.decode()
    security_admin.refresh_from_db()
    assert security_admin.role == Role.SECURITY


def test_the_last_active_security_admin_keeps_the_role(security_admin, commission):
    from django.core.exceptions import ValidationError

    from accounts.roles import change_role

    # given a second, disabled security admin trying to demote the only active one
    other = make_user("sec_off", Role.SECURITY, commission, is_active=False)
    with pytest.raises(ValidationError, match="最后一位在用的安全管理员"):
        change_role(other, security_admin, Role.STAFF, "")
    # from the shell (no actor) too
    with pytest.raises(ValidationError, match="最后一位在用的安全管理员"):
        change_role(None, security_admin, Role.STAFF, "")
    security_admin.refresh_from_db()
    assert security_admin.role == Role.SECURITY

    # with a second active one, the first may go
    other.is_active = True
    other.save()
    change_role(other, security_admin, Role.STAFF, "")
    security_admin.refresh_from_db()
    assert security_admin.role == Role.STAFF


def test_staff_or_leader_needs_an_agency(client, security_admin, commission):
    loner = make_user("loner", Role.AUDITOR, None)
    client.force_login(security_admin)
    response = client.post(reverse("accounts:user_role", args=[loner.pk]), {"role": Role.STAFF, "person_id": ""})
    assert response.status_code == 400
    assert "没有所属单位" in response.content.decode()


def test_the_security_admin_writes_no_work_data(client, security_admin, task, plan, agency_a):
    from tasks.models import ProgressUpdate

    client.force_login(security_admin)
    before = (ProgressUpdate.objects.count(), task.status, task.percent, plan.title, agency_a.name)
    attempts = [
        client.post(reverse("tasks:task_report", args=[task.pk]), {"status": "in_progress", "percent": 50}),
        client.post(reverse("tasks:task_responsible", args=[task.pk]), {"users": []}),
        client.post(reverse("imports:upload"), {}),
        client.post(reverse("admin:workplans_plan_change", args=[plan.pk]), {"title": "改"}),
        client.post(reverse("admin:accounts_agency_change", args=[agency_a.pk]), {"name": "改"}),
        client.post(
            reverse("api:progress-update-list"),
            {"task": task.pk, "note": "安全管理员的进展"},
            content_type="application/json",
        ),
        client.post(reverse("dashboards:export_ledger"), {}),
    ]
    assert [r.status_code for r in attempts] == [403] * len(attempts)
    assert all(r.wsgi_request.denied_by_policy for r in attempts)
    task.refresh_from_db()
    plan.refresh_from_db()
    agency_a.refresh_from_db()
    assert (ProgressUpdate.objects.count(), task.status, task.percent, plan.title, agency_a.name) == before


def test_the_security_admin_sees_a_lockout_and_unlocks_it(client, login, security_admin, staff_a, settings):
    from django.test import Client

    # given staff_a locked out by failed logins (from several addresses: one address with
    # many failures would be asked for a CAPTCHA, tests/accounts/test_lockout.py)
    for i in range(settings.LOGIN_POLICY["max_failures"]):
        login(staff_a, password="wrong-Password-1", REMOTE_ADDR=f"10.0.5.{i}")
    assert login(staff_a).status_code == 429  # django-axes' lockout page

    # when the security admin looks and unlocks
    admin_client = Client()
    admin_client.force_login(security_admin)
    listing = admin_client.get(reverse("accounts:lockout_list"))
    assert [row["username"] for row in listing.context["page"]] == ["staff_a"]
    response = admin_client.post(reverse("accounts:unlock"), {"username": "staff_a", "ip_address": "127.0.0.1"})

    # then the lockout is gone and staff_a signs in again
    assert response.status_code == 302
    assert list(admin_client.get(reverse("accounts:lockout_list")).context["page"]) == []
    assert login(staff_a).status_code == 302


def test_unlocking_nothing_says_so(client, security_admin):
    client.force_login(security_admin)
    response = client.post(reverse("accounts:unlock"), {"username": "", "ip_address": ""}, follow=True)
    assert "请指定要解锁的登录名或地址" in response.content.decode()


def test_the_users_page_searches_filters_and_runs_few_queries(
    client, security_admin, staff_a, staff_b, leader, auditor, agency_a, django_assert_max_num_queries
):
    for n in range(40):
        make_user(f"bulk{n}", Role.STAFF, agency_a)
    client.force_login(security_admin)
    with django_assert_max_num_queries(10):
        page = client.get(reverse("accounts:user_list"))
    assert page.status_code == 200 and len(page.context["page"]) == 30
    found = client.get(reverse("accounts:user_list"), {"q": "staff_b"}).context["page"]
    assert [u.username for u in found] == ["staff_b"]
    auditors = client.get(reverse("accounts:user_list"), {"role": Role.AUDITOR}).context["page"]
    assert [u.username for u in auditors] == ["auditor"]


def test_the_lockout_page_runs_few_queries(client, security_admin, django_assert_max_num_queries):
    from axes.models import AccessAttempt

    for n in range(60):
        AccessAttempt.objects.create(
            username=f"user{n}",
            ip_address="10.0.0.1",
            failures_since_start=5,
            user_agent="",
            get_data="",
            post_data="",
            http_accept="",
            path_info="/accounts/login/",
        )
    client.force_login(security_admin)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("accounts:lockout_list"))
    assert response.status_code == 200 and len(response.context["page"]) == 50


# --- The audit admin: reads, writes nothing ------------------------------------------------


def test_the_audit_admin_writes_nothing(client, auditor, task, staff_a):
    from api.models import ApiToken
    from notifications.models import Preference
    from tasks.models import ProgressUpdate

    client.force_login(auditor)
    counts = (ProgressUpdate.objects.count(), ApiToken.objects.count(), Preference.objects.count())
    attempts = [
        client.post(reverse("tasks:task_report", args=[task.pk]), {"note": "审计管理员的进展"}),
        client.post(reverse("api:token_list"), {"name": "审计令牌"}),
        client.post(reverse("notifications:preferences"), {"email": "on"}),
        client.post(reverse("accounts:user_role", args=[staff_a.pk]), {"role": Role.LEADER}),
        client.post(reverse("api:token-list"), {"name": "审计令牌"}, content_type="application/json"),
        client.post(
            reverse("api:progress-update-list"), {"task": task.pk, "note": "审计"}, content_type="application/json"
        ),
    ]
    assert [r.status_code for r in attempts] == [403] * len(attempts)
    assert (ProgressUpdate.objects.count(), ApiToken.objects.count(), Preference.objects.count()) == counts
    staff_a.refresh_from_db()
    assert staff_a.role == Role.STAFF
    # ... but reads the trail
    assert client.get(reverse("audit:events")).status_code == 200


def test_a_new_deployment_gets_its_security_admin_from_the_shell(agency_a, capsys):
    from django.core.management import CommandError, call_command

    # given an account made in the Django admin (经办人)
    make_user("first_sec", Role.STAFF, agency_a)

    # when the operator grants it the security role without and with a person
    with pytest.raises(CommandError, match="必须填写工号/证件号"):
        call_command("grant_role", "first_sec", Role.SECURITY)
    call_command("grant_role", "first_sec", Role.SECURITY, "--person-id", "QL-9")

    # then
    user = User.objects.get(username="first_sec")
    assert (user.role, user.person_id) == (Role.SECURITY, "QL-9")
    assert "角色：经办人 → 安全管理员" in capsys.readouterr().out


@pytest.mark.django_db
def test_the_security_admin_names_a_unit_reviewer_and_the_trail_says_so(client, security_admin, staff_a):
    """单位审核人 is a right over other people's reports: the security admin grants it on the
    role page, to staff only; a change of role takes it away."""
    from accounts.roles import change_role
    from audit.models import AuditEvent

    client.force_login(security_admin)
    url = f"/accounts/users/{staff_a.pk}/role/"
    response = client.post(url, {"role": "leader", "person_id": "", "is_unit_reviewer": "on"})
    assert response.status_code == 400
    assert "只有经办人可以设为单位审核人" in response.content.decode()
    assert not User.objects.get(pk=staff_a.pk).is_unit_reviewer

    response = client.post(url, {"role": "staff", "person_id": "", "is_unit_reviewer": "on"})
    assert response.status_code == 302
    assert User.objects.get(pk=staff_a.pk).is_unit_reviewer
    assert AuditEvent.objects.filter(object_id=str(staff_a.pk), detail__icontains="is_unit_reviewer").exists()

    change_role(security_admin, User.objects.get(pk=staff_a.pk), Role.LEADER, "")
    assert not User.objects.get(pk=staff_a.pk).is_unit_reviewer
