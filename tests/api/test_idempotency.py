"""Idempotency-Key on POST: a retried request returns the first response and writes once."""

import datetime

import pytest
import time_machine

from api.models import IdempotencyKey
from indicators.models import Reading
from tasks.models import ProgressUpdate
from tests.api.conftest import as_user, etag

pytestmark = pytest.mark.django_db

URL = "/api/v1/progress-updates/"


@pytest.fixture
def staff(api, world):
    as_user(api, world["users"]["staff_co_owner"])
    return world["users"]["staff_co_owner"]


def post(api, data, key, **headers):
    return api.post(URL, data, format="json", HTTP_IDEMPOTENCY_KEY=key, **headers)


def test_a_retry_gets_the_first_response_and_writes_once(api, world, staff):
    task = world["tasks"]["task_ab"]
    data = {"task": task.pk, "note": "配合完成调研"}
    first = post(api, data, "report-2026-11-24-001")
    again = post(api, data, "report-2026-11-24-001")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Location"] == first["Location"]
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert ProgressUpdate.objects.filter(task=task, note="配合完成调研").count() == 1


def test_the_same_key_with_another_body_is_422_and_changes_nothing(api, world, staff):
    task = world["tasks"]["task_ab"]
    post(api, {"task": task.pk, "note": "第一次"}, "k1")
    response = post(api, {"task": task.pk, "note": "改过的内容"}, "k1")
    assert response.status_code == 422
    assert response.json()["code"] == "unprocessable"
    assert response.json()["detail"].startswith("此 Idempotency-Key 已用于内容不同的请求")
    assert not ProgressUpdate.objects.filter(note="改过的内容").exists()


def test_a_refusal_is_kept_too_it_is_the_first_response(api, world, staff):
    task = world["tasks"]["task_ab"]
    first = post(api, {"task": task.pk, "status": "lagging"}, "k2", HTTP_IF_MATCH=etag(task))
    assert first.status_code == 403
    again = post(api, {"task": task.pk, "status": "lagging"}, "k2", HTTP_IF_MATCH=etag(task))
    assert (again.status_code, again.json()) == (403, first.json())


def test_keys_are_per_user_method_and_path(api, world, staff):
    task = world["tasks"]["task_ab"]
    assert post(api, {"task": task.pk, "note": "甲"}, "shared").status_code == 201
    # the same key on another path is another request
    reading = {"indicator": world["indicators"]["ind_ab"].pk, "value": "2", "as_of": "2026-11-20"}
    response = api.post("/api/v1/readings/", reading, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    assert response.status_code == 201
    # and for another user
    as_user(api, world["users"]["staff_lead"])
    response = post(api, {"task": task.pk, "note": "甲"}, "shared")
    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert ProgressUpdate.objects.filter(note="甲").count() == 2
    assert Reading.objects.filter(as_of=datetime.date(2026, 11, 20)).count() == 1


def test_a_key_expires_after_24_hours(api, world, staff):
    task = world["tasks"]["task_ab"]
    post(api, {"task": task.pk, "note": "昨天的"}, "daily")
    with time_machine.travel(datetime.datetime(2026, 11, 25, 4, 1, tzinfo=datetime.UTC), tick=False):
        as_user(api, staff)
        response = post(api, {"task": task.pk, "note": "昨天的"}, "daily")
        assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert ProgressUpdate.objects.filter(note="昨天的").count() == 2
    assert IdempotencyKey.objects.count() == 1


def test_a_request_still_running_makes_its_twin_wait(api, world, staff):
    task = world["tasks"]["task_ab"]
    assert post(api, {"task": task.pk, "note": "并发"}, "busy").status_code == 201
    # as if the first request had not answered yet
    IdempotencyKey.objects.filter(key="busy").update(status_code=None, response_body=None)

    response = post(api, {"task": task.pk, "note": "并发"}, "busy")
    assert response.status_code == 409 and response.json()["code"] == "conflict"
    assert post(api, {"task": task.pk, "note": "另一个"}, "busy").status_code == 422
    assert ProgressUpdate.objects.filter(note="并发").count() == 1

    # a request that never answered (its process died) is taken over after a while
    with time_machine.travel(datetime.datetime(2026, 11, 24, 4, 5, tzinfo=datetime.UTC), tick=False):
        as_user(api, staff)
        assert post(api, {"task": task.pk, "note": "并发"}, "busy").status_code == 201
    assert ProgressUpdate.objects.filter(note="并发").count() == 2


def test_a_server_error_releases_the_key_so_the_retry_runs(api, world, staff, monkeypatch):
    import workbench.api

    task = world["tasks"]["task_ab"]
    real = workbench.api.report_progress

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(workbench.api, "report_progress", broken)
    api.raise_request_exception = False
    response = post(api, {"task": task.pk, "note": "重试"}, "retry-me")
    assert response.status_code == 500
    assert not IdempotencyKey.objects.filter(key="retry-me").exists()
    monkeypatch.setattr(workbench.api, "report_progress", real)
    response = post(api, {"task": task.pk, "note": "重试"}, "retry-me")
    assert response.status_code == 201 and "Idempotent-Replayed" not in response


@pytest.mark.parametrize("key", ["k" * 256, "with\x00nul", "键", "   "])
def test_a_key_too_long_or_not_plain_ascii_is_400(api, world, staff, key):
    response = post(api, {"task": world["tasks"]["task_ab"].pk, "note": "x"}, key.encode().decode("latin-1"))
    assert response.status_code == 400 and "Idempotency-Key" in response.json()["errors"]
    assert not ProgressUpdate.objects.filter(note="x").exists()
