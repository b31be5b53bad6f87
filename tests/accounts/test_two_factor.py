"""Two-factor sign-in (等保 2.0 level 3): the three administrators reach nothing until they
have enrolled an authenticator and given its code in this session; anyone else may turn
it on; recovery codes are shown once and kept as digests; the security admin resets
someone else's second factor, nobody their own.

These tests ask for `two_factor_enforced`: force_login signs in with the password only,
as the login form does, and the second step is theirs to pass."""

import json

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import RecoveryCode, RecoveryCodeDevice
from accounts.two_factor import services
from api.models import ApiToken
from audit.choices import EventType, Outcome
from audit.models import AuditEvent
from core.roles import Role
from tests.fixtures.accounts import give_authenticator, make_user, totp_code

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("two_factor_enforced")]

VERIFY = "/accounts/two-factor/verify/"
ENROL = "/accounts/two-factor/enrol/"
CODES = "/accounts/two-factor/recovery-codes/"
SETTINGS = "/accounts/two-factor/"


def events(event_type, **filters):
    return list(AuditEvent.objects.filter(event_type=event_type, **filters).order_by("pk"))


def verify(client, device):
    return client.post(VERIFY, {"method": "totp", "token": totp_code(device)})


# --- Who must pass the second step ------------------------------------------------------


@pytest.mark.parametrize("persona", ["admin_user", "security_admin", "auditor"])
def test_it_keeps_an_administrator_without_authenticator_on_the_enrolment_page(client, request, persona):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    # when: any page after the password
    response = client.get("/notifications/")
    # then
    assert response.status_code == 302
    assert response["Location"] == f"{ENROL}?next=%2Fnotifications%2F"
    page = client.get(ENROL)
    assert page.status_code == 200
    # no menu leads anywhere else meanwhile, but signing out is there
    body = page.content.decode()
    assert 'href="/notifications/"' not in body and 'href="/accounts/two-factor/"' not in body
    assert "退出" in body


def test_it_sends_an_enrolled_administrator_to_the_code_after_the_real_login_form(client, login, admin_user):
    give_authenticator(admin_user)
    login(admin_user)
    response = client.get("/plans/")
    assert response.status_code == 302
    assert response["Location"] == f"{VERIFY}?next=%2Fplans%2F"


def test_it_refuses_the_django_admin_and_the_api_by_session_until_verified(client, admin_user):
    give_authenticator(admin_user)
    client.force_login(admin_user)
    admin_page = client.get("/admin/")
    api = client.get("/api/v1/tasks/")
    assert admin_page.status_code == 302 and admin_page["Location"].startswith(VERIFY)
    assert api.status_code == 403
    assert "两步验证" in json.loads(api.content)["detail"]


def test_it_lets_an_unverified_session_sign_out_and_switch_language(client, admin_user):
    client.force_login(admin_user)
    assert client.post("/i18n/setlang/", {"language": "en", "next": "/"}).status_code == 302
    assert client.post("/accounts/logout/").status_code == 302
    assert "_auth_user_id" not in client.session


def test_it_leaves_other_users_alone_unless_they_enrolled(client, staff_a, task):
    client.force_login(staff_a)
    assert client.get("/tasks/mine/").status_code == 200


def test_otp_required_for_all_asks_it_of_everyone(client, settings, staff_a):
    settings.OTP_REQUIRED_FOR_ALL = True
    client.force_login(staff_a)
    response = client.get("/tasks/mine/")
    assert response.status_code == 302 and response["Location"].startswith(ENROL)


def test_an_api_token_is_not_held_back_but_another_header_is(client, settings, staff_a):
    settings.OTP_REQUIRED_FOR_ALL = True
    raw = ApiToken.issue(staff_a, "同步", created_by=staff_a)[1]
    client.force_login(staff_a)
    by_token = client.get("/api/v1/tasks/", HTTP_AUTHORIZATION=f"Token {raw}")
    by_session = client.get("/api/v1/tasks/", HTTP_AUTHORIZATION="Basic c3RhZmZfYTp4")
    assert by_token.status_code == 200
    assert by_session.status_code == 403


# --- Enrolment ----------------------------------------------------------------------------


def test_an_administrator_enrols_with_a_qr_code_and_gets_recovery_codes_once(client, admin_user):
    client.force_login(admin_user)
    # given: the enrolment page, its QR code drawn here
    page = client.get(f"{ENROL}?next=/plans/")
    body = page.content.decode()
    assert 'src="data:image/svg+xml' in body
    device = TOTPDevice.objects.get(user=admin_user, confirmed=False)
    assert services.manual_key(device).replace(" ", "") in body.replace(" ", "")
    # when: a wrong code, then the right one
    wrong = client.post(ENROL, {"token": "000000" if totp_code(device) != "000000" else "111111", "next": "/plans/"})
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=None)  # the wait is over
    right = client.post(ENROL, {"token": totp_code(device), "next": "/plans/"})
    # then
    assert wrong.status_code == 400 and "验证码不正确" in wrong.content.decode()
    assert right.status_code == 302 and right["Location"] == f"{CODES}?next=%2Fplans%2F"
    shown = client.get(right["Location"])
    codes = shown.context["codes"]
    assert len(codes) == 10 and all(code in shown.content.decode() for code in codes)
    assert client.get(CODES).status_code == 302  # shown once
    assert client.get("/plans/").status_code == 200
    device.refresh_from_db()
    assert device.confirmed
    [enrolled] = events(EventType.OTP_ENROL)
    assert enrolled.object_id == str(admin_user.pk)
    [failed] = events(EventType.OTP_FAILED)
    assert failed.outcome == Outcome.FAILURE and failed.detail["stage"] == "enrol"


def test_recovery_codes_are_kept_only_as_digests(admin_user):
    codes = services.issue_recovery_codes(admin_user)
    stored = list(RecoveryCode.objects.values_list("digest", flat=True))
    assert len(stored) == len(codes) == len(set(codes))
    assert not any(code.replace("-", "") in digest.upper() or code in digest for code in codes for digest in stored)
    assert all(len(code.replace("-", "")) == services.CODE_LENGTH for code in codes)


def test_an_enrolled_user_cannot_enrol_a_second_authenticator_without_the_code(client, admin_user):
    give_authenticator(admin_user)
    client.force_login(admin_user)
    response = client.get(ENROL)
    assert response.status_code == 302 and response["Location"].startswith(VERIFY)
    assert client.post(ENROL, {"token": "123456"}).status_code == 302
    assert TOTPDevice.objects.filter(user=admin_user).count() == 1


# --- The second step ------------------------------------------------------------------------


def test_the_right_code_lets_an_administrator_in_and_a_wrong_one_is_recorded(client, admin_user):
    device = give_authenticator(admin_user)
    client.force_login(admin_user)
    wrong = client.post(f"{VERIFY}?next=/plans/", {"method": "totp", "token": "12345"})
    assert wrong.status_code == 400 and "6 位数字" in wrong.content.decode()
    wrong = client.post(VERIFY, {"method": "totp", "token": "000000" if totp_code(device) != "000000" else "111111"})
    assert wrong.status_code == 400
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=None)
    right = client.post(VERIFY, {"method": "totp", "token": totp_code(device), "next": "/plans/"})
    assert right.status_code == 302 and right["Location"] == "/plans/"
    assert client.get("/plans/").status_code == 200
    [failed] = events(EventType.OTP_FAILED)
    assert failed.detail == {"method": "totp", "stage": "verify", "failures": 1}


def test_wrong_codes_make_the_next_try_wait(client, admin_user):
    device = give_authenticator(admin_user)
    client.force_login(admin_user)
    client.post(VERIFY, {"method": "totp", "token": "000000" if totp_code(device) != "000000" else "111111"})
    # when: the right code at once after a wrong one
    response = client.post(VERIFY, {"method": "totp", "token": totp_code(device)})
    # then: refused until the wait is over, and recorded
    assert response.status_code == 400
    assert "秒后再试" in response.content.decode()
    assert client.get("/plans/").status_code == 302
    assert events(EventType.OTP_FAILED)[-1].detail["throttled"] is True


def test_a_recovery_code_signs_in_once_and_the_user_may_then_enrol_a_new_phone(client, admin_user):
    give_authenticator(admin_user)
    codes = services.issue_recovery_codes(admin_user)
    client.force_login(admin_user)
    # when: the phone is lost
    response = client.post(VERIFY, {"method": "recovery", "code": codes[0].lower().replace("-", " ")})
    # then
    assert response.status_code == 302 and response["Location"] == SETTINGS
    [used] = events(EventType.RECOVERY_CODE_USED)
    assert used.detail == {"remaining": 9}
    # and the same code does not work twice
    client.post("/accounts/logout/")
    client.force_login(admin_user)
    again = client.post(VERIFY, {"method": "recovery", "code": codes[0]})
    assert again.status_code == 400 and "恢复码不正确" in again.content.decode()
    assert client.get("/plans/").status_code == 302
    # when: signed in by another code, the user re-enrols without a code from the lost phone
    RecoveryCodeDevice.objects.update(throttling_failure_timestamp=None)
    assert client.post(VERIFY, {"method": "recovery", "code": codes[1]}).status_code == 302
    response = client.post(SETTINGS, {"action": "reenrol"})
    # then
    assert response.status_code == 302 and response["Location"] == ENROL
    assert not TOTPDevice.objects.filter(user=admin_user, confirmed=True).exists()
    assert events(EventType.OTP_RESET)[-1].detail == {"action": "reenrol", "by": "self"}
    assert client.get("/plans/")["Location"].startswith(ENROL)


# --- One's own settings ----------------------------------------------------------------------


def test_a_staff_member_may_turn_it_on_and_is_then_asked_for_the_code(client, staff_a, task):
    client.force_login(staff_a)
    assert "启用两步验证" in client.get(SETTINGS).content.decode()
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=staff_a)
    assert client.post(ENROL, {"token": totp_code(device)}).status_code == 302
    # when: the next sign-in
    client.post("/accounts/logout/")
    client.force_login(staff_a)
    # then
    assert client.get("/tasks/mine/")["Location"].startswith(VERIFY)
    assert verify(client, device).status_code == 302
    assert client.get("/tasks/mine/").status_code == 200


def test_nobody_turns_off_their_own_second_factor_without_a_code(client, staff_a):
    device = give_authenticator(staff_a)
    client.force_login(staff_a)
    verify(client, device)
    without = client.post(SETTINGS, {"action": "disable", "code": ""})
    wrong = client.post(SETTINGS, {"action": "disable", "code": "000000" if totp_code(device) != "000000" else "1"})
    assert without.status_code == wrong.status_code == 400
    assert TOTPDevice.objects.filter(user=staff_a).exists()
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=None)
    right = client.post(SETTINGS, {"action": "disable", "code": totp_code(device)})
    assert right.status_code == 302
    assert not TOTPDevice.objects.filter(user=staff_a).exists()
    assert events(EventType.OTP_RESET)[-1].detail == {"action": "disable", "by": "self"}


def test_an_administrator_cannot_turn_it_off(client, auditor):
    device = give_authenticator(auditor)
    client.force_login(auditor)
    verify(client, device)
    response = client.post(SETTINGS, {"action": "disable", "code": totp_code(device)})
    assert response.status_code == 400 and "不能停用" in response.content.decode()
    assert TOTPDevice.objects.filter(user=auditor).exists()


# --- The security admin's reset --------------------------------------------------------------


def test_the_security_admin_resets_someone_elses_second_factor(client, security_admin, admin_user):
    # given: the system admin signed in with both factors in another browser
    device = give_authenticator(admin_user)
    services.issue_recovery_codes(admin_user)
    admin_client = Client()
    admin_client.force_login(admin_user)
    verify(admin_client, device)
    assert admin_client.get("/plans/").status_code == 200
    client.force_login(security_admin)
    verify(client, give_authenticator(security_admin))
    # when
    page = client.get(f"/accounts/users/{admin_user.pk}/two-factor/")
    response = client.post(f"/accounts/users/{admin_user.pk}/two-factor/")
    # then
    assert page.status_code == 200 and "重置两步验证" in page.content.decode()
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=admin_user).exists()
    assert not RecoveryCodeDevice.objects.filter(user=admin_user).exists()
    [reset] = events(EventType.OTP_RESET)
    assert reset.user_id == security_admin.pk and reset.object_id == str(admin_user.pk)
    assert admin_client.get("/plans/")["Location"].startswith(ENROL)


def test_the_security_admin_cannot_reset_their_own(client, security_admin):
    device = give_authenticator(security_admin)
    client.force_login(security_admin)
    verify(client, device)
    response = client.post(f"/accounts/users/{security_admin.pk}/two-factor/")
    assert response.status_code == 400
    assert TOTPDevice.objects.filter(user=security_admin).exists()
    assert events(EventType.OTP_RESET) == []


def test_only_the_security_admin_may_reset(client, admin_user, commission):
    other = make_user("other_admin_target", Role.STAFF, commission)
    give_authenticator(other)
    device = give_authenticator(admin_user)
    client.force_login(admin_user)
    verify(client, device)
    assert client.post(f"/accounts/users/{other.pk}/two-factor/").status_code == 403
    assert TOTPDevice.objects.filter(user=other).exists()


def test_the_system_admin_sees_no_ones_authenticator_in_the_django_admin(client, admin_user, staff_a):
    give_authenticator(staff_a)
    client.force_login(admin_user)
    verify(client, give_authenticator(admin_user))
    assert client.get("/admin/otp_totp/totpdevice/").status_code == 404
    assert "totpdevice" not in client.get("/admin/").content.decode()
