"""One's own profile: name, agency and role shown; phone and email edited (checked,
audited); the way to the password change."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent

pytestmark = pytest.mark.django_db

PROFILE = "/accounts/profile/"


def test_it_shows_the_account_and_links_to_the_password_change(client, staff_a):
    client.force_login(staff_a)

    page = client.get(PROFILE).content.decode()

    assert "staff_a" in page and "医政医管处" in page and "经办人" in page
    assert reverse("accounts:password_change") in page


def test_it_saves_phone_and_email_and_audits_the_change(client, staff_a):
    # given
    client.force_login(staff_a)

    # when
    response = client.post(PROFILE, {"phone": "138 0013 8000", "email": "a@example.cn"})

    # then
    assert response.status_code == 302
    staff_a.refresh_from_db()
    assert (staff_a.phone, staff_a.email) == ("13800138000", "a@example.cn")
    event = AuditEvent.objects.get(detail__action="profile_change")
    assert event.detail["changes"]["phone"] == ["", "13800138000"]


@pytest.mark.parametrize(
    "data, message",
    [
        ({"phone": "12345", "email": ""}, "手机号“12345”格式不正确"),
        ({"phone": "", "email": "not-an-email"}, "电子邮箱格式不正确"),
    ],
)
def test_bad_contact_details_are_refused_and_nothing_changes(client, staff_a, data, message):
    client.force_login(staff_a)

    response = client.post(PROFILE, data)

    assert response.status_code == 400
    assert message in response.content.decode()
    staff_a.refresh_from_db()
    assert (staff_a.phone, staff_a.email) == ("", "")
    assert not AuditEvent.objects.filter(detail__action="profile_change").exists()


def test_each_user_edits_only_their_own_details(client, staff_a, staff_b):
    client.force_login(staff_b)

    client.post(PROFILE, {"phone": "13900139000", "email": ""})

    staff_a.refresh_from_db()
    staff_b.refresh_from_db()
    assert staff_a.phone == "" and staff_b.phone == "13900139000"
