"""Who is calling: tokens (hashed, revocable, per user, made by the user only), the
session with CSRF on unsafe methods, and rate limits per user answered with 429."""

import datetime

import pytest
import time_machine
from django.core.cache import cache
from rest_framework.test import APIClient

from api.models import ApiToken, hash_token
from api.throttling import UserThrottle
from tests.api.conftest import as_user, etag

pytestmark = pytest.mark.django_db


def token_client(key: str, keyword: str = "Token") -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{keyword} {key}")
    return client


def test_a_token_acts_as_its_user_and_only_its_hash_is_stored(world):
    staff = world["users"]["staff_lead"]
    token, key = ApiToken.issue(staff, "省平台同步", created_by=staff)

    assert key.startswith("wpt_") and len(key) > 40
    assert token.key_hash == hash_token(key) and key not in {token.key_hash, token.prefix}
    assert token.prefix == key[:12]
    for keyword in ("Token", "Bearer"):
        response = token_client(key, keyword).get("/api/v1/tasks/")
        assert response.status_code == 200
        assert {row["heading"] for row in response.json()["results"]} == {
            "推进紧密型城市医疗集团建设",
            "醫療服務質量提升行動",
            "往年的医疗任务",
        }


def test_a_write_by_token_is_recorded_as_the_token_s_user(world):
    staff = world["users"]["staff_lead"]
    _, key = ApiToken.issue(staff, "省平台同步", created_by=staff)
    task = world["tasks"]["task_ab"]
    response = token_client(key).post(
        "/api/v1/progress-updates/",
        {"task": task.pk, "percent": 40},
        format="json",
        HTTP_IF_MATCH=etag(task),
        REMOTE_ADDR="10.9.8.7",
    )
    assert response.status_code == 201
    record = task.history.latest()
    assert (record.history_user, record.ip_address) == (staff, "10.9.8.7")


@pytest.mark.parametrize("header", ["Token wpt_not-a-real-token", "Token", "Token a b", "Bearer ünïcode"])
def test_a_wrong_token_is_401_in_chinese(world, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header.encode().decode("latin-1"))
    response = client.get("/api/v1/tasks/")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert response["WWW-Authenticate"] == 'Token realm="api"'
    assert any("\u4e00" <= ch <= "\u9fff" for ch in response.json()["detail"])


def test_a_revoked_token_or_a_disabled_user_stops_at_once(world):
    staff = world["users"]["staff_lead"]
    token, key = ApiToken.issue(staff, "省平台同步", created_by=staff)
    client = token_client(key)
    assert client.get("/api/v1/tasks/").status_code == 200

    assert client.post(f"/api/v1/tokens/{token.pk}/revoke/").status_code == 200
    response = client.get("/api/v1/tasks/")
    assert response.status_code == 401 and response.json()["detail"] == "令牌无效或已被撤销。"

    _, key = ApiToken.issue(staff, "新令牌", created_by=staff)
    staff.is_active = False
    staff.save()
    response = token_client(key).get("/api/v1/tasks/")
    assert response.status_code == 401 and response.json()["detail"] == "该用户已停用。"


def test_last_use_is_written_at_most_once_a_minute(world):
    staff = world["users"]["staff_lead"]
    token, key = ApiToken.issue(staff, "省平台同步", created_by=staff)
    client = token_client(key)
    client.get("/api/v1/plans/")
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    assert first is not None
    client.get("/api/v1/plans/")
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first
    with time_machine.travel(datetime.datetime(2026, 11, 24, 4, 2, tzinfo=datetime.UTC), tick=False):
        client.get("/api/v1/plans/")
    assert ApiToken.objects.get(pk=token.pk).last_used_at > first


def test_a_user_makes_and_revokes_their_tokens_and_both_are_audited(api, world):
    staff = world["users"]["staff_lead"]
    as_user(api, staff)
    response = api.post("/api/v1/tokens/", {"name": "局内工具"}, format="json")
    assert response.status_code == 201 and response["Cache-Control"] == "no-store"
    body = response.json()
    key = body["key"]
    assert token_client(key).get("/api/v1/plans/").status_code == 200
    # the key is never shown again
    assert "key" not in api.get(f"/api/v1/tokens/{body['id']}/").json()
    assert key not in str(api.get("/api/v1/tokens/").json())

    response = api.post(f"/api/v1/tokens/{body['id']}/revoke/")
    assert response.status_code == 200 and response.json()["active"] is False
    history = ApiToken.objects.get(pk=body["id"]).history.order_by("history_date", "history_id")
    assert [(h.history_type, h.history_user, h.revoked_at is None) for h in history] == [
        ("+", staff, True),
        ("~", staff, False),
    ]


def test_an_admin_revokes_tokens_of_others_but_a_user_only_their_own(api, world):
    # (An admin no longer makes tokens for others: tests/api/test_token_lifecycle.py.)
    staff_a, staff_b, admin = (world["users"][p] for p in ("staff_lead", "staff_co_owner", "admin"))
    token, _ = ApiToken.issue(staff_b, "经办人的令牌")

    as_user(api, staff_a)
    assert api.post(f"/api/v1/tokens/{token.pk}/revoke/").status_code == 404
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None
    as_user(api, admin)
    assert api.post(f"/api/v1/tokens/{token.pk}/revoke/").status_code == 200
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None


def test_a_token_cannot_mint_tokens(world):
    staff = world["users"]["staff_lead"]
    _, key = ApiToken.issue(staff, "省平台同步", created_by=staff)
    response = token_client(key).post("/api/v1/tokens/", {"name": "继任者"}, format="json")
    assert response.status_code == 403
    assert response.json()["detail"] == "只能在登录后的页面上创建令牌，不能用令牌创建令牌。"
    assert ApiToken.objects.filter(user=staff).count() == 1


def test_the_session_works_for_the_pages_with_csrf_on_writes(world, client):
    staff = world["users"]["staff_co_owner"]
    task = world["tasks"]["task_ab"]
    csrf_client = APIClient(enforce_csrf_checks=True)
    csrf_client.force_login(staff)
    assert csrf_client.get("/api/v1/tasks/").status_code == 200

    response = csrf_client.post("/api/v1/progress-updates/", {"task": task.pk, "note": "无 CSRF"}, format="json")
    assert response.status_code == 403
    assert response.json()["detail"].startswith("CSRF 校验失败")
    assert task.progress_updates.count() == 1

    page = csrf_client.get("/api/tokens/")  # any page sets the CSRF cookie
    token = page.cookies["csrftoken"].value
    response = csrf_client.post(
        "/api/v1/progress-updates/", {"task": task.pk, "note": "带 CSRF"}, format="json", HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code == 201


def test_a_token_request_needs_no_csrf(world):
    staff = world["users"]["staff_co_owner"]
    _, key = ApiToken.issue(staff, "工具", created_by=staff)
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = client.post(
        "/api/v1/progress-updates/", {"task": world["tasks"]["task_ab"].pk, "note": "令牌"}, format="json"
    )
    assert response.status_code == 201


def test_too_many_requests_get_429_per_user(settings, world):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"user": "3/min", "anon": "2/min"}}
    staff_a, staff_b = world["users"]["staff_lead"], world["users"]["staff_co_owner"]
    clients = {}
    for user in (staff_a, staff_b):
        _, key = ApiToken.issue(user, "工具", created_by=user)
        clients[user] = token_client(key)
        # This user's history only (the cache may be the CI's shared Redis: no flushing).
        cache.delete(UserThrottle().cache_format % {"scope": "user", "ident": user.pk})

    codes = [clients[staff_a].get("/api/v1/plans/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    response = clients[staff_a].get("/api/v1/plans/")
    assert response.json()["code"] == "throttled"
    assert response.json()["detail"].startswith("请求过于频繁")
    assert 0 < int(response["Retry-After"]) <= 60
    # another user has their own allowance
    assert clients[staff_b].get("/api/v1/plans/").status_code == 200


def test_messages_follow_the_language_the_user_chose(world):
    client = APIClient()
    client.force_login(world["users"]["staff_lead"])
    client.post("/i18n/setlang/", {"language": "en", "next": "/"}, format="multipart")
    response = client.get(f"/api/v1/tasks/{world['tasks']['task_out'].pk}/")
    assert response.json() == {"detail": "Not found.", "code": "not_found"}
    response = client.post(
        "/api/v1/progress-updates/", {"task": world["tasks"]["task_ab"].pk, "status": "lagging"}, format="json"
    )
    assert response.json()["detail"].startswith("To change status, percent or milestones")
