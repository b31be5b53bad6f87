"""An API token's life: made only by its own user (never for the security or audit admin),
valid for API_TOKEN_DAYS, revoked with a password change, a disabled account or a move to
a role without tokens; every use named in the audit trail; and its plaintext never in the
database, the Idempotency-Key replay store included."""

import datetime
import hashlib
import json

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from api.idempotency import fingerprint
from api.jobs import purge_idempotency_keys
from api.models import ApiToken, IdempotencyKey
from audit.choices import EventType
from audit.models import AuditEvent
from core.roles import Role
from tests.api.conftest import NOW, as_user, etag

pytestmark = pytest.mark.django_db


def token_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


# --- Who makes a token, for whom ------------------------------------------------------


def test_an_admin_cannot_mint_a_token_for_someone_else(api, world):
    admin, staff = world["users"]["admin"], world["users"]["staff_co_owner"]
    as_user(api, admin)
    response = api.post("/api/v1/tokens/", {"name": "代为创建", "user": staff.pk}, format="json")
    assert response.status_code == 403
    assert response.json()["detail"] == "令牌只能由其本人在登录后创建。"
    assert not ApiToken.objects.exists()
    with pytest.raises(ValueError, match="its own user"):
        ApiToken.issue(staff, "代为创建", created_by=admin)


@pytest.mark.parametrize("role", [Role.SECURITY, Role.AUDITOR])
def test_the_security_and_audit_admins_have_no_tokens(api, world, role, security_admin):
    user = security_admin if role == Role.SECURITY else world["users"]["auditor"]
    with pytest.raises(ValidationError):
        ApiToken.issue(user, "审计同步")
    as_user(api, user)
    assert api.post("/api/v1/tokens/", {"name": "审计同步"}, format="json").status_code == 403
    assert not ApiToken.objects.exists()


def test_a_user_made_auditor_loses_their_tokens(world):
    staff = world["users"]["staff_lead"]
    token, key = ApiToken.issue(staff, "同步")
    staff.role, staff.person_id = Role.AUDITOR, "QL-9"
    staff.save()
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    assert token_client(key).get("/api/v1/tokens/").status_code == 401


# --- Expiry and revocation ------------------------------------------------------------


def test_a_token_expires_after_api_token_days(settings, world):
    assert django_settings.API_TOKEN_DAYS == 90
    settings.API_TOKEN_DAYS = 30
    staff = world["users"]["staff_lead"]
    token, key = ApiToken.issue(staff, "同步")
    assert token.expires_at == NOW + datetime.timedelta(days=30)
    assert as_user(APIClient(), staff).get(f"/api/v1/tokens/{token.pk}/").json()["expires_at"]

    with time_machine.travel(NOW + datetime.timedelta(days=29, hours=23), tick=False):
        assert token_client(key).get("/api/v1/plans/").status_code == 200
    with time_machine.travel(NOW + datetime.timedelta(days=30, seconds=1), tick=False):
        response = token_client(key).get("/api/v1/plans/")
    assert response.status_code == 401
    assert response.json()["detail"] == "令牌已过期，请在“API 令牌”页面重新创建。"
    assert response.wsgi_request.denial_reason == "token_expired"


def test_a_password_change_revokes_the_user_s_tokens_and_says_why(world):
    staff = world["users"]["staff_lead"]
    token, key = ApiToken.issue(staff, "同步")
    staff.set_password("Nw5#kQ8!vLp2")
    staff.save()

    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_reason == "password_changed"
    event = AuditEvent.objects.get(event_type=EventType.TOKEN_REVOKE)
    assert event.detail["reason"] == "password_changed" and event.object_id == str(token.pk)
    response = token_client(key).get("/api/v1/plans/")
    assert response.status_code == 401 and response.wsgi_request.denial_reason == "token_revoked"


def test_a_login_that_only_upgrades_the_password_hash_keeps_the_tokens(world):
    staff = world["users"]["staff_lead"]
    token, _ = ApiToken.issue(staff, "同步")
    staff.save(update_fields=["last_login"])
    staff.full_name = "改名"
    staff.save()
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


def test_disabling_the_account_revokes_its_tokens(world):
    staff = world["users"]["staff_lead"]
    token, _ = ApiToken.issue(staff, "同步")
    staff.is_active = False
    staff.save()
    token.refresh_from_db()
    assert token.revoked_reason == "user_disabled"


@pytest.mark.parametrize(
    "header, reason",
    [("Token wpt_nonsense", "token_invalid"), ("Token", "token_invalid"), ("revoked", "token_revoked")],
)
def test_a_refused_token_says_why_to_the_trail(world, header, reason):
    if header == "revoked":
        token, key = ApiToken.issue(world["users"]["staff_lead"], "同步")
        token.revoke()
        header = f"Token {key}"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/plans/")
    assert response.status_code == 401
    assert response.wsgi_request.denial_reason == reason


# --- Attribution ----------------------------------------------------------------------


def test_making_and_revoking_a_token_are_token_events(api, world):
    staff = world["users"]["staff_lead"]
    as_user(api, staff)
    body = api.post("/api/v1/tokens/", {"name": "局内工具"}, format="json").json()
    api.post(f"/api/v1/tokens/{body['id']}/revoke/")
    events = AuditEvent.objects.filter(event_type__in=[EventType.TOKEN_CREATE, EventType.TOKEN_REVOKE])
    assert [(e.event_type, e.user_id, e.object_id) for e in events.order_by("id")] == [
        (EventType.TOKEN_CREATE, staff.pk, str(body["id"])),
        (EventType.TOKEN_REVOKE, staff.pk, str(body["id"])),
    ]
    assert body["key"] not in json.dumps([e.detail for e in events], ensure_ascii=False)


def test_every_event_of_a_token_request_names_the_token(api, world):
    staff = world["users"]["staff_lead"]
    token, key = ApiToken.issue(staff, "省平台同步")
    task = world["tasks"]["task_ab"]
    before = AuditEvent.objects.count()
    response = token_client(key).post(
        "/api/v1/progress-updates/", {"task": task.pk, "percent": 40}, format="json", HTTP_IF_MATCH=etag(task)
    )
    assert response.status_code == 201
    events = list(AuditEvent.objects.order_by("id")[before:])
    assert events
    assert {e.detail.get("token") for e in events} == {f"{token.pk}:{token.prefix}"}

    # a session request names none
    before = AuditEvent.objects.count()
    as_user(api, staff).post(
        "/api/v1/progress-updates/", {"task": task.pk, "percent": 50}, format="json", HTTP_IF_MATCH=etag(task)
    )
    assert all("token" not in e.detail for e in AuditEvent.objects.order_by("id")[before:])


# --- The Idempotency-Key store keeps no secret ----------------------------------------


def test_a_response_with_a_new_key_is_neither_stored_nor_replayed(api, world):
    staff = world["users"]["staff_lead"]
    as_user(api, staff)
    first = api.post("/api/v1/tokens/", {"name": "重试"}, format="json", HTTP_IDEMPOTENCY_KEY="mint-1")
    assert first.status_code == 201
    key = first.json()["key"]

    stored = IdempotencyKey.objects.get(key="mint-1")
    assert key not in json.dumps([stored.response_body, stored.response_headers, stored.fingerprint])
    again = api.post("/api/v1/tokens/", {"name": "重试"}, format="json", HTTP_IDEMPOTENCY_KEY="mint-1")
    assert again.status_code == 409
    assert key not in again.content.decode()
    assert "只显示一次的令牌" in again.json()["detail"]
    assert ApiToken.objects.filter(user=staff).count() == 1


def test_the_stored_fingerprint_is_keyed_so_a_body_cannot_be_guessed_from_it(api, world):
    staff = world["users"]["staff_co_owner"]
    task = world["tasks"]["task_ab"]
    body = {"task": task.pk, "note": "带密码的说明"}
    as_user(api, staff).post("/api/v1/progress-updates/", body, format="json", HTTP_IDEMPOTENCY_KEY="fp-1")
    stored = IdempotencyKey.objects.get(key="fp-1").fingerprint
    plain = json.dumps({"query": [], "body": body}, sort_keys=True, ensure_ascii=False)
    assert stored != hashlib.sha256(plain.encode()).hexdigest()
    assert len(stored) == 64 and fingerprint  # still a fixed-size digest


def test_expired_replay_rows_are_purged_by_the_beat_job_not_by_a_request(api, world):
    staff = world["users"]["staff_co_owner"]
    task = world["tasks"]["task_ab"]
    as_user(api, staff)
    api.post("/api/v1/progress-updates/", {"task": task.pk, "note": "旧"}, format="json", HTTP_IDEMPOTENCY_KEY="old")
    with time_machine.travel(NOW + datetime.timedelta(hours=25), tick=False):
        as_user(api, staff)
        api.post(
            "/api/v1/progress-updates/", {"task": task.pk, "note": "新"}, format="json", HTTP_IDEMPOTENCY_KEY="new"
        )
        assert set(IdempotencyKey.objects.values_list("key", flat=True)) == {"old", "new"}
        assert purge_idempotency_keys() == 1
        assert purge_idempotency_keys() == 0
    assert set(IdempotencyKey.objects.values_list("key", flat=True)) == {"new"}
    entry = django_settings.CELERY_BEAT_SCHEDULE["purge-idempotency-keys"]
    assert entry["task"] == "api.jobs.purge_idempotency_keys" and entry["options"]["expires"]
