"""三员 accounts are the security admin's: the system admin manages ordinary accounts in the
Django admin, but the password, login name, active flag and tokens of a system, security
or audit administrator change only on the security admin's account page, and each change
there is in the audit trail."""

import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse

from accounts.models import User
from api.models import ApiToken
from audit.choices import EventType
from audit.models import AuditEvent
from core.roles import Role
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Wq8$mZ3!pXv6"


@pytest.fixture(autouse=True)
def no_rate_limits(settings):
    settings.RATE_LIMITS = {}


def change_form(user, **changes):
    form = {
        "username": user.username,
        "full_name": user.full_name,
        "email": "",
        "phone": "",
        "agency": user.agency_id or "",
        "is_active": "on",
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


# --- The system admin in the Django admin ---------------------------------------------


def test_the_system_admin_cannot_set_the_auditor_s_password_in_the_django_admin(client, admin_user, auditor):
    # given the system admin in the Django admin
    client.force_login(admin_user)
    url = f"/admin/accounts/user/{auditor.pk}/password/"

    # when they set the auditor's password
    response = client.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"})

    # then it is refused, said why, and the auditor's password is what it was
    assert response.status_code == 403
    assert response.wsgi_request.denial_reason == "protected_account"
    auditor.refresh_from_db()
    assert auditor.check_password(PASSWORD) and not auditor.check_password(NEW_PASSWORD)
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("target", ["auditor", "security_admin", "other_admin"])
def test_the_system_admin_sees_an_administrator_account_read_only(client, admin_user, request, target, commission):
    if target == "other_admin":
        account = make_user("admin2", Role.ADMIN, commission)
    else:
        account = request.getfixturevalue(target)
    client.force_login(admin_user)
    url = reverse("admin:accounts_user_change", args=[account.pk])

    page = client.get(url)
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    # no password summary, no button to a password form that would refuse anyway
    assert "../password/" not in page.content.decode()
    assert "pbkdf2" not in page.content.decode()

    response = client.post(url, change_form(account, username="renamed", is_active=None))
    assert response.status_code == 403
    assert response.wsgi_request.denial_reason == "protected_account"
    account.refresh_from_db()
    assert (account.username, account.is_active) == (account.username, True)
    assert account.username != "renamed"

    delete = client.post(reverse("admin:accounts_user_delete", args=[account.pk]), {"post": "yes"})
    assert delete.status_code == 403
    assert User.objects.filter(pk=account.pk).exists()


def test_the_system_admin_cannot_change_their_own_account_in_the_django_admin(client, admin_user):
    client.force_login(admin_user)
    url = reverse("admin:accounts_user_change", args=[admin_user.pk])
    response = client.post(url, change_form(admin_user, username="admin_renamed"))
    assert response.status_code == 403
    admin_user.refresh_from_db()
    assert admin_user.username == "admin"


def test_the_bulk_delete_action_refuses_an_administrator_account(client, admin_user, auditor, staff_b):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "delete_selected", "_selected_action": [auditor.pk, staff_b.pk], "post": "yes"},
    )
    assert response.status_code == 403
    assert User.objects.filter(pk__in=[auditor.pk, staff_b.pk]).count() == 2


def test_the_system_admin_still_manages_ordinary_accounts(client, admin_user, staff_a, agency_a):
    client.force_login(admin_user)
    response = client.post(
        f"/admin/accounts/user/{staff_a.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302
    staff_a.refresh_from_db()
    assert staff_a.check_password(NEW_PASSWORD)

    url = reverse("admin:accounts_user_change", args=[staff_a.pk])
    assert client.get(url).context["has_change_permission"]
    assert client.post(url, change_form(staff_a, full_name="改名的经办人")).status_code == 302
    staff_a.refresh_from_db()
    assert staff_a.full_name == "改名的经办人"


# --- The API ----------------------------------------------------------------------------


def test_the_system_admin_cannot_revoke_another_administrator_s_token_by_api(client, admin_user, commission):
    other_admin = make_user("admin2", Role.ADMIN, commission)
    token, _ = ApiToken.issue(other_admin, "同步")
    client.force_login(admin_user)
    response = client.post(f"/api/v1/tokens/{token.pk}/revoke/")
    assert response.status_code == 403
    assert "安全管理员" in response.json()["detail"]
    assert response.wsgi_request.denial_reason == "protected_account"
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


# --- The security admin's account page --------------------------------------------------


def test_the_security_admin_resets_the_auditor_s_password_and_it_is_audited(client, security_admin, auditor):
    # given the auditor signed in elsewhere
    elsewhere = client.__class__()
    elsewhere.force_login(auditor)
    client.force_login(security_admin)
    page = client.get(reverse("accounts:account", args=[auditor.pk]))
    assert page.status_code == 200 and "重置密码" in page.content.decode()

    # when the security admin sets a new password
    response = client.post(
        reverse("accounts:account_password", args=[auditor.pk]),
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    # then it is set, the auditor's other sessions end, and the trail says who did it
    assert response.status_code == 302
    auditor.refresh_from_db()
    assert auditor.check_password(NEW_PASSWORD)
    assert SESSION_KEY not in elsewhere.get("/").wsgi_request.session
    event = AuditEvent.objects.filter(event_type=EventType.ADMIN_ACTION, object_id=str(auditor.pk)).get()
    assert (event.user_id, event.detail["action"]) == (security_admin.pk, "password_reset")
    assert NEW_PASSWORD not in str(event.detail)


def test_a_weak_or_mismatched_password_is_refused_and_changes_nothing(client, security_admin, auditor):
    client.force_login(security_admin)
    url = reverse("accounts:account_password", args=[auditor.pk])
    weak = client.post(url, {"new_password1": "12345678", "new_password2": "12345678"})
    assert weak.status_code == 400
    mismatch = client.post(url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD + "x"})
    assert mismatch.status_code == 400
    auditor.refresh_from_db()
    assert auditor.check_password(PASSWORD)
    assert not AuditEvent.objects.filter(event_type=EventType.ADMIN_ACTION).exists()


def test_the_security_admin_renames_the_auditor_and_it_is_audited(client, security_admin, auditor):
    client.force_login(security_admin)
    old = auditor.username

    response = client.post(reverse("accounts:account_username", args=[auditor.pk]), {"username": "audit_zhao"})

    assert response.status_code == 302
    auditor.refresh_from_db()
    assert auditor.username == "audit_zhao"
    event = AuditEvent.objects.filter(event_type=EventType.ADMIN_ACTION, object_id=str(auditor.pk)).get()
    assert event.user_id == security_admin.pk
    assert (event.detail["action"], event.detail["old"], event.detail["new"]) == ("username_change", old, "audit_zhao")
    assert auditor.history.first().history_change_reason == "修改登录名"


@pytest.mark.parametrize("spelling", ["SECURITY", "ｓｅｃｕｒｉｔｙ", " security\u3000"])
def test_a_new_login_name_another_account_answers_to_is_refused(client, security_admin, auditor, spelling):
    # given another account (the security admin's own) signs in as "security"
    client.force_login(security_admin)
    old = auditor.username

    # when the auditor would be renamed to a spelling of that name
    response = client.post(reverse("accounts:account_username", args=[auditor.pk]), {"username": spelling})

    # then it is refused in Chinese and nothing changes
    assert response.status_code == 400
    assert "已被其他账户使用" in response.content.decode()
    auditor.refresh_from_db()
    assert auditor.username == old
    assert not AuditEvent.objects.filter(event_type=EventType.ADMIN_ACTION).exists()


def test_the_system_admin_cannot_rename_the_auditor_in_the_django_admin(client, admin_user, auditor):
    client.force_login(admin_user)
    old = auditor.username
    response = client.post(
        reverse("admin:accounts_user_change", args=[auditor.pk]), change_form(auditor, username="renamed")
    )
    assert response.status_code == 403
    auditor.refresh_from_db()
    assert auditor.username == old
    assert client.post(reverse("accounts:account_username", args=[auditor.pk]), {"username": "x1"}).status_code == 403


def test_the_security_admin_disables_and_enables_an_account_and_revokes_its_tokens(client, security_admin, staff_a):
    token, _ = ApiToken.issue(staff_a, "同步")
    client.force_login(security_admin)

    response = client.post(reverse("accounts:account_tokens_revoke", args=[staff_a.pk]))
    assert response.status_code == 302
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    revoked = AuditEvent.objects.get(event_type=EventType.TOKEN_REVOKE)
    assert revoked.user_id == security_admin.pk

    assert client.post(reverse("accounts:account_active", args=[staff_a.pk]), {"active": "0"}).status_code == 302
    staff_a.refresh_from_db()
    assert not staff_a.is_active
    change = AuditEvent.objects.filter(event_type=EventType.PERMISSION_CHANGE, object_id=str(staff_a.pk)).get()
    assert change.user_id == security_admin.pk

    assert client.post(reverse("accounts:account_active", args=[staff_a.pk]), {"active": "1"}).status_code == 302
    staff_a.refresh_from_db()
    assert staff_a.is_active


def test_the_security_admin_cannot_disable_themselves_or_the_last_security_admin(client, security_admin, commission):
    client.force_login(security_admin)
    own = client.post(reverse("accounts:account_active", args=[security_admin.pk]), {"active": "0"})
    assert own.status_code == 403
    security_admin.refresh_from_db()
    assert security_admin.is_active
    own_password = client.post(
        reverse("accounts:account_password", args=[security_admin.pk]),
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert own_password.status_code == 403


def test_only_the_security_admin_opens_the_account_pages(client, admin_user, auditor, staff_a):
    for user in (admin_user, auditor, staff_a):
        client.force_login(user)
        assert client.get(reverse("accounts:account", args=[staff_a.pk])).status_code == 403
        response = client.post(
            reverse("accounts:account_password", args=[staff_a.pk]),
            {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        )
        assert response.status_code == 403
    staff_a.refresh_from_db()
    assert staff_a.check_password(PASSWORD)
