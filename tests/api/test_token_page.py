"""/api/tokens/: a user's own tokens, the key shown once, revoked with a click."""

import re

import pytest

from api.models import ApiToken
from tests.api.conftest import as_user

pytestmark = pytest.mark.django_db


def test_a_user_makes_a_token_sees_its_key_once_and_revokes_it(client, world):
    staff = world["users"]["staff_lead"]
    client.force_login(staff)
    response = client.post("/api/tokens/", {"name": "省平台同步"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    key = re.search(r'id="issued-key">([^<]+)<', response.content.decode())[1]
    token = ApiToken.objects.get(user=staff)
    assert token.key_hash != key and token.prefix == key[:12]

    listing = client.get("/api/tokens/").content.decode()
    assert "省平台同步" in listing and key not in listing

    response = client.post(f"/api/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None


def test_a_user_cannot_revoke_someone_else_s_token(client, world):
    other = world["users"]["staff_co_owner"]
    token, _ = ApiToken.issue(other, "别人的", created_by=other)
    client.force_login(world["users"]["staff_lead"])
    assert client.post(f"/api/tokens/{token.pk}/revoke/").status_code == 404
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


def test_a_nameless_token_is_refused(client, world):
    client.force_login(world["users"]["staff_lead"])
    response = client.post("/api/tokens/", {"name": ""})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_the_page_needs_a_login(client, db):
    response = client.get("/api/tokens/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_admins_revoke_tokens_in_the_admin(client, world, api):
    staff = world["users"]["staff_lead"]
    token, _ = ApiToken.issue(staff, "泄露的", created_by=staff)
    client.force_login(world["users"]["admin"])
    response = client.post("/admin/api/apitoken/", {"action": "revoke", "_selected_action": [token.pk]})
    assert response.status_code == 302
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    assert as_user(api, staff).get("/api/v1/tokens/").json()["results"][0]["active"] is False
