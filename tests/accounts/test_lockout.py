"""The login lockout counts what it must and nothing else: every spelling of a login name
counts against its one account, parallel guesses cannot overrun the limit, failures from a
shared (NAT) address lock nobody else out but bring a CAPTCHA, a locked-out security or
audit admin is announced, and the security admin's page and the break-glass command
unlock. Numbers come from settings.LOGIN_POLICY."""

import re
import threading

import pytest
from captcha.models import CaptchaStore
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connections
from django.test import Client

from accounts.lockout import login_key
from audit.choices import EventType
from audit.models import AuditEvent
from audit.signals import security_alert
from core.roles import ADMIN_ROLES
from tests.conftest import PASSWORD, make_user

POLICY = settings.LOGIN_POLICY
LIMIT = POLICY["max_failures"]
CAPTCHA_AFTER = POLICY["captcha_after_failures"]
LOCKED = 429
WRONG = "wrong-Password-1"

# Every way the same login name has been typed at us: padded with spaces, tabs and the
# ideographic space, in capitals, in full-width letters, with a zero-width space.
SPELLINGS = [
    " staff_a",
    "staff_a\t",
    "\u3000staff_a\u3000",
    "STAFF_A",
    "Staff_A ",
    "ｓｔａｆｆ＿ａ",
    "ＳＴＡＦＦ_Ａ",
    "staff\u200b_a",
    "\tstaff_a\u00a0",
]


def post_login(client, username, password, address="127.0.0.1", **data):
    return client.post("/accounts/login/", {"username": username, "password": password, **data}, REMOTE_ADDR=address)


def is_logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def captcha_on_page(client, address) -> str | None:
    """The key of the CAPTCHA the login page shows to `address`, or None if it shows none."""
    body = client.get("/accounts/login/", REMOTE_ADDR=address).content.decode()
    found = re.search(r'name="captcha_key" value="([0-9a-f]+)"', body)
    return found.group(1) if found else None


def sign_in(client, username, password, address):
    """What a person does: open the login page, type the CAPTCHA if there is one, submit."""
    key = captcha_on_page(client, address)
    answer = {}
    if key:
        answer = {"captcha_key": key, "captcha": CaptchaStore.objects.get(hashkey=key).response}
    return post_login(client, username, password, address, **answer)


def events(event_type, **filters):
    return AuditEvent.objects.filter(event_type=event_type, **filters)


# --- One login name, one account --------------------------------------------------------


def test_the_login_key_folds_width_case_whitespace_and_invisible_characters():
    assert {login_key(spelling) for spelling in SPELLINGS} == {"staff_a"}
    assert login_key("张三") == "张三"
    assert login_key("") == ""


def test_any_spelling_of_the_login_name_signs_in_to_the_one_account(client, staff_a):
    response = post_login(client, "\u3000ＳＴＡＦＦ_a ", PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(staff_a.pk)
    assert events(EventType.LOGIN).get().username == "staff_a"


def test_failures_in_any_spelling_count_against_one_account(client, staff_a):
    # given: one failure in each of LIMIT spellings, each from another address
    statuses = [
        post_login(client, spelling, WRONG, address=f"10.0.0.{i}").status_code
        for i, spelling in enumerate(SPELLINGS[:LIMIT], start=1)
    ]
    # then: the LIMIT-th locks the account, and the right password in its plain spelling
    # from a fresh address is refused without being checked
    assert statuses == [200] * (LIMIT - 1) + [LOCKED]
    response = post_login(client, "staff_a", PASSWORD, address="10.0.1.1")
    assert response.status_code == LOCKED
    assert "账户已临时锁定" in response.content.decode()
    assert not is_logged_in(client)
    # and the audit trail names the account the way the lockout counts it
    failures = events(EventType.LOGIN_FAILED)
    assert failures.count() == LIMIT
    assert set(failures.values_list("username", "user_id")) == {("staff_a", staff_a.pk)}
    assert events(EventType.LOCKOUT, username="staff_a", user_id=staff_a.pk).count() == 1


@pytest.mark.django_db(transaction=True)
def test_twenty_five_parallel_guesses_in_many_spellings_get_only_the_limits_password_checks(staff_a, monkeypatch):
    # given: every password check counted, and 25 guesses at one account fired at once,
    # each in another spelling of its name and from another address
    from accounts.models import User

    checks = []
    check_password = User.check_password

    def counted(user, raw_password):
        checks.append(user.pk)
        return check_password(user, raw_password)

    monkeypatch.setattr(User, "check_password", counted)
    guesses = 25
    barrier = threading.Barrier(guesses)
    statuses = []

    def guess(i):
        client = Client()
        spelling = SPELLINGS[i % len(SPELLINGS)] + " " * (i // len(SPELLINGS))
        barrier.wait()
        try:
            statuses.append(post_login(client, spelling, f"guess-Password-{i}", address=f"10.2.0.{i}").status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(guesses)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then: the password was checked LIMIT times, every other guess was refused unchecked
    assert len(statuses) == guesses
    assert len(checks) == LIMIT
    assert statuses.count(200) == LIMIT - 1
    assert statuses.count(LOCKED) == guesses - (LIMIT - 1)
    assert events(EventType.LOGIN_FAILED, username="staff_a").count() == LIMIT
    assert events(EventType.LOGIN_REFUSED, username="staff_a").count() == guesses - LIMIT
    # and the right password is refused too
    assert post_login(Client(), "staff_a", PASSWORD, address="10.2.1.1").status_code == LOCKED
    assert len(checks) == LIMIT


# --- A shared address: a CAPTCHA, never a lock on the others ----------------------------


@pytest.fixture
def bureau(agency_a):
    """Six people of one bureau, behind one NAT address."""
    return [make_user(f"clerk{i}", "staff", agency_a) for i in range(6)]


NAT = "10.9.0.1"


def test_behind_one_nat_address_a_mistyper_locks_only_their_own_account(bureau):
    mistyper, *colleagues = bureau
    client = Client()
    # given: the mistyper fails CAPTCHA_AFTER times; until then nobody is asked for a CAPTCHA
    for _ in range(CAPTCHA_AFTER):
        assert captcha_on_page(client, NAT) is None
        assert sign_in(client, mistyper.username, WRONG, NAT).status_code == 200
    # then: the address now gets a CAPTCHA
    assert captcha_on_page(client, NAT) is not None
    # when: the mistyper goes on (answering the CAPTCHA) to the account's limit
    statuses = [sign_in(client, mistyper.username, WRONG, NAT).status_code for _ in range(LIMIT - CAPTCHA_AFTER)]
    assert statuses[-1] == LOCKED
    # then: the mistyper's account is locked, even with the right password ...
    assert sign_in(Client(), mistyper.username, PASSWORD, NAT).status_code == LOCKED
    # ... and each colleague at the same address signs in (with the CAPTCHA)
    for colleague in colleagues:
        colleague_client = Client()
        response = sign_in(colleague_client, colleague.username, PASSWORD, NAT)
        assert response.status_code == 302, colleague.username
        assert colleague_client.session["_auth_user_id"] == str(colleague.pk)
    assert events(EventType.LOCKOUT).count() == 1
    assert events(EventType.LOGIN).count() == len(colleagues)


def test_the_captcha_is_checked_before_the_password_and_a_wrong_answer_counts_nothing(client, bureau):
    clerk = bureau[0]
    for i in range(CAPTCHA_AFTER):
        post_login(client, f"nobody{i}", WRONG, NAT)
    key = captcha_on_page(client, NAT)
    assert key is not None
    failures_before = events(EventType.LOGIN_FAILED).count()

    # no answer, a wrong answer, a used-up picture: each refused with the right password
    for answer in ({}, {"captcha_key": key, "captcha": "WRONG"}, {"captcha_key": key, "captcha": "x"}):
        response = post_login(client, clerk.username, PASSWORD, NAT, **answer)
        assert response.status_code == 200
        assert "验证码不正确" in response.content.decode()
        assert not is_logged_in(client)
    # and none of them was a password check counted against the account
    assert events(EventType.LOGIN_FAILED).count() == failures_before
    # the right answer, in capitals, signs in
    key = captcha_on_page(client, NAT)
    answer = CaptchaStore.objects.get(hashkey=key).response.upper()
    assert post_login(client, clerk.username, PASSWORD, NAT, captcha_key=key, captcha=answer).status_code == 302


def test_the_login_page_shows_the_captcha_as_a_picture_with_a_chinese_prompt(client, db):
    for i in range(CAPTCHA_AFTER):
        post_login(client, f"nobody{i}", WRONG, NAT)
    response = client.get("/accounts/login/", REMOTE_ADDR=NAT)
    body = response.content.decode()
    assert 'src="data:image/png;base64,' in body
    assert "验证码" in body and "请输入图片中的字符" in body
    # another address is not asked
    assert "验证码" not in client.get("/accounts/login/", REMOTE_ADDR="10.9.0.2").content.decode()


def test_the_django_admin_signs_in_through_the_same_login_page(client, db):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/admin/")


# --- Locked-out administrators are announced --------------------------------------------


@pytest.fixture
def alerts():
    sent = []

    def receive(sender, **kwargs):
        sent.append(kwargs)

    security_alert.connect(receive, dispatch_uid="test_lockout_alerts")
    yield sent
    security_alert.disconnect(dispatch_uid="test_lockout_alerts")


@pytest.mark.parametrize("persona", ["security_admin", "auditor"])
def test_a_locked_out_security_or_audit_admin_is_announced(
    request, client, persona, alerts, django_capture_on_commit_callbacks
):
    admin = request.getfixturevalue(persona)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(LIMIT):
            sign_in(client, admin.username.upper(), WRONG, "127.0.0.1")
    assert len(alerts) == 1
    assert alerts[0]["kind"] == "admin_locked_out"
    assert set(alerts[0]["roles"]) == set(ADMIN_ROLES)
    assert admin.display_name in alerts[0]["title"] and "锁定" in alerts[0]["body"]
    alert = events(EventType.SECURITY_ALERT).get()
    assert alert.user_id == admin.pk and alert.detail["kind"] == "admin_locked_out"


def test_a_locked_out_staff_member_raises_no_alert(client, staff_a, alerts, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(LIMIT):
            sign_in(client, "staff_a", WRONG, "127.0.0.1")
    assert events(EventType.LOCKOUT).exists()
    assert alerts == []
    assert not events(EventType.SECURITY_ALERT).exists()


# --- Unlocking --------------------------------------------------------------------------


def lock(username):
    client = Client()
    for _ in range(LIMIT):
        sign_in(client, username, WRONG, "10.3.0.1")


def test_the_lockout_page_lists_one_row_per_account_and_unlocks_any_spelling(client, staff_a, security_admin):
    # given: staff_a locked by failures in several spellings from several addresses
    for i, spelling in enumerate(SPELLINGS[:LIMIT]):
        post_login(Client(), spelling, WRONG, address=f"10.4.0.{i}")
    client.force_login(security_admin)
    body = client.get("/accounts/lockouts/").content.decode()
    assert body.count('name="username" value="staff_a"') == 1
    # when: the security admin unlocks by a spelling of the name
    response = client.post("/accounts/lockouts/unlock/", {"username": "ＳＴＡＦＦ_A"})
    assert response.status_code == 302
    # then: staff_a signs in again, and the unlock is in the trail as 解除锁定
    assert post_login(Client(), "staff_a", PASSWORD).status_code == 302
    unlock = events(EventType.UNLOCK).get()
    assert unlock.user_id == security_admin.pk and unlock.object_id == str(staff_a.pk)
    assert unlock.detail["username"] == "staff_a" and unlock.detail["cleared"] >= 1


def test_break_glass_unlock_refuses_while_a_security_admin_can_still_sign_in(staff_a, security_admin):
    lock("staff_a")
    with pytest.raises(CommandError, match="请由其在「锁定的账户」页面解锁"):
        call_command("break_glass_unlock", "staff_a", reason="测试")
    assert post_login(Client(), "staff_a", PASSWORD).status_code == LOCKED
    assert not events(EventType.UNLOCK).exists()


def test_break_glass_unlock_frees_the_last_security_admin_audited_and_announced(
    security_admin, alerts, django_capture_on_commit_callbacks
):
    # given: the only security admin locked out
    lock(security_admin.username)
    # when: the operator runs the break-glass command with a reason
    with django_capture_on_commit_callbacks(execute=True):
        call_command("break_glass_unlock", security_admin.username.upper(), reason="安全管理员忘记密码，经领导批准")
    # then: the account is unlocked, the unlock recorded as 解除锁定 with the reason, and
    # the administrators told
    assert post_login(Client(), security_admin.username, PASSWORD).status_code == 302
    unlock = events(EventType.UNLOCK).get()
    assert unlock.object_id == str(security_admin.pk)
    assert unlock.detail["break_glass"] is True and unlock.detail["reason"] == "安全管理员忘记密码，经领导批准"
    assert unlock.detail["os_user"]
    assert [alert["kind"] for alert in alerts] == ["break_glass_unlock"]
    assert set(alerts[0]["roles"]) == set(ADMIN_ROLES)


def test_break_glass_unlock_needs_a_reason_and_an_existing_account(security_admin):
    with pytest.raises(CommandError):
        call_command("break_glass_unlock", "nobody", reason="测试")
    with pytest.raises(CommandError):
        call_command("break_glass_unlock", security_admin.username, reason="  ")


def test_break_glass_unlock_explains_itself_in_its_help():
    from django.core.management import load_command_class

    parser = load_command_class("accounts", "break_glass_unlock").create_parser("manage.py", "break_glass_unlock")
    assert "没有可登录的安全管理员时" in parser.format_help()
