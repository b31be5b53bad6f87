"""One's own password: changed at will (old one first, the password rules apply, the
session stays signed in, API tokens stop), and forced at the first sign-in and after an
administrator set it (must_change_password)."""

import pytest
from django.urls import reverse

from accounts.models import User
from api.models import ApiToken
from audit.models import AuditEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

NEW = "Ny8#vB3$pQw6"
CHANGE = "/accounts/password/"


def change(client, old=PASSWORD, new=NEW, again=None, **extra):
    data = {"old_password": old, "new_password1": new, "new_password2": again or new, **extra}
    return client.post(CHANGE, data)


def test_it_changes_the_password_and_keeps_the_session_signed_in(client, staff_a):
    # given
    client.force_login(staff_a)
    token, _key = ApiToken.issue(staff_a, "同步", created_by=staff_a)

    # when
    response = change(client)

    # then
    assert response.status_code == 302
    staff_a.refresh_from_db()
    assert staff_a.check_password(NEW)
    assert client.get(reverse("tasks:my_tasks")).status_code == 200
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEvent.objects.filter(detail__action="password_change", object_id=str(staff_a.pk)).exists()


def test_a_wrong_old_password_is_refused(client, staff_a):
    client.force_login(staff_a)

    response = change(client, old="Wrong-pass-123")

    assert response.status_code == 400
    assert "原密码不正确" in response.content.decode()
    staff_a.refresh_from_db()
    assert staff_a.check_password(PASSWORD)


@pytest.mark.parametrize(
    "new, message",
    [
        ("abc12", "密码长度太短"),
        ("abcdefghij", "至少 3 类"),
        ("Staff_a-2026x", "不能包含登录名"),
        (PASSWORD, "不能与原密码相同"),
    ],
)
def test_a_weak_new_password_is_refused(client, staff_a, new, message):
    client.force_login(staff_a)

    response = change(client, new=new)

    assert response.status_code == 400
    assert message in response.content.decode()
    staff_a.refresh_from_db()
    assert staff_a.check_password(PASSWORD)


def test_two_different_new_passwords_are_refused(client, staff_a):
    client.force_login(staff_a)

    response = change(client, again="Other#Pass9x")

    assert response.status_code == 400
    assert "两次输入的新密码不一致" in response.content.decode()


def test_a_first_sign_in_is_sent_to_the_change_page_until_the_password_is_changed(client, login, agency_a):
    # given: an account made with an initial password
    user = User.objects.create_user("new_staff", password=PASSWORD, agency=agency_a, must_change_password=True)

    # when
    login(user)
    page = client.get(reverse("tasks:my_tasks"))

    # then: every page leads to the change page, which itself opens
    assert page.status_code == 302
    assert page.url.startswith(CHANGE)
    assert client.post(reverse("tasks:my_tasks")).url.startswith(CHANGE)
    assert "请先设置自己的新密码" in client.get(CHANGE).content.decode()

    # when: the new password is chosen
    response = change(client, next=reverse("tasks:my_tasks"))

    # then: the flag is cleared and the pages open
    assert response.status_code == 302 and response.url == reverse("tasks:my_tasks")
    user.refresh_from_db()
    assert user.must_change_password is False
    assert client.get(reverse("tasks:my_tasks")).status_code == 200


def test_a_forced_change_still_lets_the_user_sign_out(client, login, agency_a):
    user = User.objects.create_user("new_staff", password=PASSWORD, agency=agency_a, must_change_password=True)
    login(user)

    response = client.post(reverse("accounts:logout"))

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_the_security_admins_reset_forces_a_change_at_the_next_sign_in(client, login, security_admin, staff_a):
    # given
    client.force_login(security_admin)
    reset = "Rs5%tT8&uU1x"

    # when
    response = client.post(
        reverse("accounts:account_password", args=[staff_a.pk]), {"new_password1": reset, "new_password2": reset}
    )

    # then
    assert response.status_code == 302
    staff_a.refresh_from_db()
    assert staff_a.must_change_password is True
    client.logout()
    login(staff_a, password=reset)
    assert client.get(reverse("tasks:my_tasks")).url.startswith(CHANGE)
    change(client, old=reset)
    staff_a.refresh_from_db()
    assert staff_a.must_change_password is False
    assert client.get(reverse("tasks:my_tasks")).status_code == 200


def test_the_system_admins_reset_in_the_django_admin_forces_a_change(client, admin_user, staff_a):
    client.force_login(admin_user)
    reset = "Rs5%tT8&uU1x"

    response = client.post(
        f"/admin/accounts/user/{staff_a.pk}/password/",
        {"password1": reset, "password2": reset, "usable_password": "true"},
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    staff_a.refresh_from_db()
    assert staff_a.check_password(reset)
    assert staff_a.must_change_password is True


def test_an_account_added_in_the_django_admin_must_change_its_password(client, admin_user, agency_a):
    client.force_login(admin_user)
    password = "Rs5%tT8&uU1x"

    response = client.post(
        "/admin/accounts/user/add/",
        {"username": "added", "full_name": "新人", "agency": agency_a.pk, "password1": password, "password2": password},
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    assert User.objects.get(username="added").must_change_password is True


def test_the_audit_admin_can_change_their_own_password(client, auditor):
    client.force_login(auditor)

    response = change(client)

    assert response.status_code == 302
    auditor.refresh_from_db()
    assert auditor.check_password(NEW)
