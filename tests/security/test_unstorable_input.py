"""Input PostgreSQL cannot store (a NUL byte, a lone UTF-16 surrogate, bytes that are not
UTF-8) is refused with a Chinese 400 before any view, form or filter sees it: in the query
string of every page and API endpoint, in login and other form fields, in uploaded file
names, and in JSON bodies (keys and values, at any depth). Before, PostgreSQL raised
"A string literal cannot contain NUL" and the user got a 500."""

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import NoReverseMatch, reverse
from rest_framework.test import APIClient

from tasks.models import Attachment, ProgressUpdate
from tests.test_access_matrix import routes

pytestmark = pytest.mark.django_db

HAN = re.compile(r"[\u4e00-\u9fff]")
MESSAGE = "无法保存的字符"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _plain_urls() -> list[tuple[str, str]]:
    """Every named route that takes no argument: the list pages, the API's list endpoints,
    the admin's change lists, the forms."""
    found = []
    for name, pattern, _route in routes():
        if not pattern.name:
            continue
        try:
            found.append((name, reverse(name)))
        except NoReverseMatch:
            continue
    return sorted(set(found))


PLAIN_URLS = _plain_urls()


def refused_in_chinese(response, where: str = "") -> str:
    """The 400's message, JSON for the API, a page for people; it must say what is wrong."""
    assert response.status_code == 400, (response.status_code, response.content[:300])
    if response["Content-Type"].startswith("application/json"):
        body = response.json()
        assert body["code"] == "unstorable_input", body
        message = body["detail"]
    else:
        message = response.content.decode()
        assert "请求有误（400）" in message
    assert MESSAGE in message and len(HAN.findall(message)) >= 8, message
    assert where in message, message
    return message


@pytest.mark.parametrize("name, url", PLAIN_URLS, ids=[name for name, _url in PLAIN_URLS])
def test_a_nul_in_the_search_or_a_filter_of_any_page_is_a_chinese_400(client, admin_user, name, url):
    # given an admin, who may open every page
    client.force_login(admin_user)
    # when a search and a filter carry a NUL byte
    response = client.get(url, {"q": "医疗\x00", "status": "\x00"})
    # then the page answers 400 with a Chinese message, never a 500
    refused_in_chinese(response, "q")


@pytest.mark.parametrize(
    "query",
    ["q=%00", "agency=1%00", "q=%ff%fe", "q=%ed%a0%80", "%00=1", "page=1&ordering=%00-id"],
    ids=["nul", "nul-after-id", "not-utf8", "encoded-surrogate", "nul-in-name", "nul-in-ordering"],
)
def test_api_filters_with_unstorable_characters_get_a_json_400(admin_user, query):
    api = APIClient()
    api.force_authenticate(admin_user)
    for url in ("/api/v1/tasks/", "/api/v1/progress-updates/", "/api/v1/agencies/"):
        response = api.get(f"{url}?{query}")
        refused_in_chinese(response)


def test_a_task_page_with_a_nul_in_its_query_is_refused(client, staff_a, task):
    client.force_login(staff_a)
    response = client.get(reverse("tasks:task_detail", args=[task.pk]), {"tab": "\x00"})
    refused_in_chinese(response)


def test_ordinary_chinese_searches_still_work(client, staff_a, admin_user, task):
    client.force_login(staff_a)
    assert client.get(reverse("tasks:my_tasks"), {"q": "医疗集团"}).status_code == 200
    assert client.get(reverse("notifications:inbox"), {"q": "卫生健康 2026", "page": "1"}).status_code == 200
    api = APIClient()
    api.force_authenticate(admin_user)
    assert api.get("/api/v1/tasks/", {"q": "医疗集团", "status": "in_progress"}).status_code == 200


def test_a_login_name_with_a_nul_is_refused_and_nothing_is_recorded(client, staff_a):
    from axes.models import AccessAttempt

    # when someone signs in with a NUL in the login name, and in the password
    for data in ({"username": "a\x00", "password": "x"}, {"username": staff_a.username, "password": "p\x00w"}):
        response = client.post(reverse("accounts:login"), data)
        # then the sign-in page's 400 says why, and no failed attempt is stored with it
        refused_in_chinese(response, "username" if "\x00" in data["username"] else "password")
    assert not AccessAttempt.objects.exists()
    assert "_auth_user_id" not in client.session


def test_a_form_field_with_a_nul_changes_nothing(client, staff_a, task):
    client.force_login(staff_a)
    response = client.post(
        reverse("tasks:task_report", args=[task.pk]),
        {"version": task.version, "status": "in_progress", "percent": 20, "note": "已完成\x00"},
    )
    refused_in_chinese(response, "note")
    task.refresh_from_db()
    assert task.percent == 0 and not ProgressUpdate.objects.exists()


def test_a_multipart_upload_with_a_nul_in_a_field_stores_nothing(client, staff_a, task, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    client.force_login(staff_a)
    # when a report with a file attached carries a NUL in its note
    response = client.post(
        reverse("tasks:task_report", args=[task.pk]),
        {
            "version": task.version,
            "status": "in_progress",
            "percent": 20,
            "note": "材料\x00",
            "files": [SimpleUploadedFile("扫描件.pdf", PDF)],
        },
    )
    # then it is refused, and neither the report nor the file is stored
    refused_in_chinese(response, "note")
    assert not ProgressUpdate.objects.exists() and not Attachment.objects.exists()
    assert not (tmp_path / "media").exists() or not any(p.is_file() for p in (tmp_path / "media").rglob("*"))


def test_an_api_multipart_upload_with_a_nul_in_a_field_gets_a_json_400_and_stores_nothing(
    staff_a, task, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    api = APIClient()
    api.force_authenticate(staff_a)
    response = api.post(
        "/api/v1/progress-updates/",
        {"task": task.pk, "note": "材料\x00", "files": [SimpleUploadedFile("扫描件.pdf", PDF)]},
        format="multipart",
    )
    refused_in_chinese(response, "note")
    assert not ProgressUpdate.objects.exists() and not Attachment.objects.exists()


def test_a_nul_in_an_uploaded_file_name_never_reaches_the_database(client, staff_a, task, settings, tmp_path):
    # Django's multipart parser drops unprintable characters from file names, so the file
    # is kept under its printable name; the middleware checks the names it is left with.
    settings.MEDIA_ROOT = tmp_path / "media"
    client.force_login(staff_a)
    response = client.post(
        reverse("tasks:task_report", args=[task.pk]),
        {"version": task.version, "note": "材料", "files": [SimpleUploadedFile("扫描\x00件.pdf", PDF)]},
    )
    assert response.status_code == 302
    assert [a.original_name for a in Attachment.objects.all()] == ["扫描件.pdf"]


@pytest.mark.parametrize(
    "payload",
    [
        '{"task": %(task)d, "note": "\\u0000"}',
        '{"task": %(task)d, "note": "ok", "x\\u0000": 1}',
        '{"task": %(task)d, "note": "\\ud800"}',
        '{"task": %(task)d, "note": "ok", "readings": [{"note": ["a", {"v": "\\udfff"}]}]}',
    ],
    ids=["nul-value", "nul-key", "lone-surrogate", "nested-surrogate"],
)
def test_a_json_write_with_unstorable_characters_gets_a_json_400_and_changes_nothing(staff_a, task, payload):
    api = APIClient()
    api.force_authenticate(staff_a)
    response = api.post(
        "/api/v1/progress-updates/", (payload % {"task": task.pk}).encode(), content_type="application/json"
    )
    refused_in_chinese(response)
    assert not ProgressUpdate.objects.exists()


def test_a_json_write_with_chinese_and_escapes_still_works(staff_a, task):
    api = APIClient()
    api.force_authenticate(staff_a)
    body = json.dumps({"task": task.pk, "status": "in_progress", "percent": 30, "note": "已起草\n\t“章程”😀"})
    tag = f'"task-{task.pk}-v{task.version}"'
    response = api.post("/api/v1/progress-updates/", body, content_type="application/json", HTTP_IF_MATCH=tag)
    assert response.status_code == 201, response.content
    assert ProgressUpdate.objects.get().note == "已起草\n\t“章程”😀"


def test_a_nul_in_a_header_does_not_break_the_page(client, staff_a):
    client.force_login(staff_a)
    response = client.get(reverse("tasks:my_tasks"), headers={"X-Request-ID": "abc\x00def", "User-Agent": "x\x00"})
    assert response.status_code < 500
