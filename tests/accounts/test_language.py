"""Chinese first; English when the user chooses it."""

import pytest

pytestmark = pytest.mark.django_db


def test_pages_are_in_chinese_whatever_the_browser_asks(client):
    body = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "登录名" in body and "Username" not in body
    assert '<html lang="zh-hans">' in body


def test_a_user_can_switch_to_english_and_back(client, staff_a, login):
    login(staff_a)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/tasks/mine/"}, follow=True)
    body = response.content.decode()
    assert "My tasks" in body and "Log out" in body and "我的任务" not in body
    assert '<html lang="en">' in body
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/tasks/mine/"}, follow=True)
    assert "我的任务" in response.content.decode()


def test_the_english_catalogue_covers_every_string(settings):
    from pathlib import Path

    po = (Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    entries = po.split("\n\n")[1:]
    untranslated = [e for e in entries if 'msgstr ""' in e.splitlines()[-1:] and 'msgid ""' not in e]
    assert untranslated == []


def test_the_language_menu_names_each_language_in_its_own_script(client, staff_a, login):
    login(staff_a)
    for language in ("zh-hans", "en"):
        client.post("/i18n/setlang/", {"language": language, "next": "/tasks/mine/"})
        body = client.get("/tasks/mine/").content.decode()
        assert '<option value="zh-hans" lang="zh-hans"' in body
        assert ">简体中文</option>" in body and ">English</option>" in body
        assert "Simplified Chinese" not in body and "英语" not in body
