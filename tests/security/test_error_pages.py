"""Error pages as a user meets them with DEBUG off: Chinese, from a base that needs no
database or context processor, and never a trace, exception text, setting or path. API
errors are JSON without a trace."""

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from tests.security.urls import SECRET_DETAIL

pytestmark = pytest.mark.django_db

LEAKS = ("Traceback", "RuntimeError", "hunter2", "/work/", "settings.py", "SECRET_KEY", "DATABASES", ".py")


def assert_no_leak(body: str):
    for leak in LEAKS:
        assert leak not in body, leak


@pytest.fixture(autouse=True)
def production_like(settings):
    settings.DEBUG = False
    settings.ROOT_URLCONF = "tests.security.urls"


def test_a_failing_page_shows_the_chinese_500_page_and_nothing_of_the_error(staff_a):
    # given staff, signed in
    client = Client(raise_request_exception=False)
    client.force_login(staff_a)
    # when a page fails with an exception
    response = client.get("/boom/")
    # then the answer is the Chinese 500 page, with nothing of the exception in it
    body = response.content.decode()
    assert response.status_code == 500
    assert "服务器内部错误（500）" in body and "请稍后重试" in body
    assert_no_leak(body)
    assert SECRET_DETAIL not in body


def test_a_failing_api_answers_json_without_a_trace(staff_a):
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/boom/")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"detail": "服务器内部错误，请稍后重试。", "code": "server_error"}
    assert_no_leak(response.content.decode())


def test_an_unknown_page_is_the_chinese_404_page(client, staff_a):
    client.force_login(staff_a)
    response = client.get("/no/such/page/")
    body = response.content.decode()
    assert response.status_code == 404
    assert "页面不存在（404）" in body
    assert_no_leak(body)


def test_a_refusal_is_the_chinese_403_page_without_its_reason(client, staff_a):
    # given staff, signed in
    client.force_login(staff_a)
    # when a page refuses them
    response = client.get("/boom/?status=403")
    # then the 403 page says so in Chinese, without the refusal's internal text
    body = response.content.decode()
    assert response.status_code == 403
    assert "无权访问（403）" in body
    assert_no_leak(body)


def test_a_suspicious_request_is_the_chinese_400_page_without_its_reason(client, staff_a):
    client.force_login(staff_a)
    response = client.get("/boom/?status=400")
    body = response.content.decode()
    assert response.status_code == 400
    assert "请求有误（400）" in body
    assert_no_leak(body)


def test_a_forged_post_gets_the_chinese_csrf_page_and_changes_nothing(staff_a):
    # given a browser with no CSRF token (a form posted from another site)
    client = Client(enforce_csrf_checks=True)
    # when it posts the login form
    response = client.post(reverse("accounts:login"), {"username": staff_a.username, "password": "Qz7!rT9#kLm2"})
    # then the Chinese CSRF page answers, and nobody was signed in
    body = response.content.decode()
    assert response.status_code == 403
    assert "请求无法验证（403）" in body and "请刷新页面后重试" in body
    assert "CSRF" not in body and "Referer" not in body
    assert "_auth_user_id" not in client.session


def test_a_forged_json_post_gets_a_json_csrf_refusal(staff_a):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("accounts:login"), {"username": "x"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"


def test_a_bad_host_gets_the_chinese_400_page(client):
    response = client.get(reverse("accounts:login"), HTTP_HOST="evil.example")
    body = response.content.decode()
    assert response.status_code == 400
    assert "请求有误（400）" in body
    assert "evil.example" not in body and "ALLOWED_HOSTS" not in body


@override_settings(
    TEMPLATES=[
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "DIRS": [__import__("django.conf").conf.settings.BASE_DIR / "templates"],
            "APP_DIRS": True,
            "OPTIONS": {"context_processors": ["tests.security.test_error_pages.broken_context_processor"]},
        }
    ]
)
def test_the_error_pages_render_without_any_context_processor(client, staff_a):
    # given a context processor that fails (as one reading the database would, with it down)
    client = Client(raise_request_exception=False)
    client.force_login(staff_a)
    # when the 500 page is rendered
    response = client.get("/boom/")
    # then it still renders: the error base needs nothing from the request
    assert response.status_code == 500
    assert "服务器内部错误（500）" in response.content.decode()


def broken_context_processor(request):
    raise RuntimeError("the database is down")
