"""No password, and no password hash, ever reaches the audit trail or its log."""

import pytest

from accounts.models import User
from audit.models import AuditEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

TYPED_WRONG = "Wr0ng!Guess#2026"
NEW_PASSWORD = "N3w!Passw0rd#Audit"


def _everything(audit_log) -> str:
    rows = [
        " ".join(str(v) for v in row)
        for row in AuditEvent.objects.values_list("username", "object_repr", "object_id", "detail", "user_role")
    ]
    return "\n".join(rows + audit_log())


@pytest.fixture
def production_hashers(settings):
    """The deployed password hashers (Django's default; config.test_settings hashes with MD5
    for speed), so the hashes looked for below are the real kind."""
    from django.conf import global_settings

    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS


@pytest.mark.usefixtures("production_hashers")
def test_no_password_or_hash_is_recorded(client, staff_a, admin_user, audit_log):
    # given a failed login with a password, a successful one, and a password change in the admin
    client.post("/accounts/login/", {"username": "staff_a", "password": TYPED_WRONG})
    client.post("/accounts/login/", {"username": "staff_a", "password": PASSWORD})
    client.post("/accounts/logout/")
    client.force_login(admin_user)
    changed = client.post(
        f"/admin/accounts/user/{staff_a.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert changed.status_code == 302
    staff_a.refresh_from_db()
    assert staff_a.check_password(NEW_PASSWORD)
    # then events were written for all of it ...
    assert AuditEvent.objects.filter(event_type__in=["login", "login_failed", "admin_action"]).count() >= 3
    # ... and none of them, nor any log line, holds a password or a hash
    text = _everything(audit_log)
    hashes = [User.objects.get(pk=staff_a.pk).password, *User.objects.values_list("password", flat=True)]
    for secret in (TYPED_WRONG, PASSWORD, NEW_PASSWORD, *hashes):
        assert secret not in text
    assert "pbkdf2_sha256$" not in text and "argon2" not in text


def test_secret_fields_are_hidden_in_changes(staff_a, agency_a):
    from notifications.models import Robot

    robot = Robot.objects.create(
        agency=agency_a,
        kind=Robot._meta.get_field("kind").choices[0][0],
        name="工作群",
        webhook_url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=SECRET-KEY-123",
        secret="SEC-456",
    )
    event = AuditEvent.objects.get(object_type="notifications.robot")
    text = str(event.detail)
    assert "SECRET-KEY-123" not in text and "SEC-456" not in text
    assert event.detail["changes"]["webhook_url"]["new"] == "（已隐藏）"
    assert robot.pk
