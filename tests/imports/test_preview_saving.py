"""Nothing typed in the import preview is lost: each change is saved as it is made (the
autosave endpoint), and a refused confirmation, a reload or the next day finds it all."""

import re

import pytest
from django.urls import reverse

from imports.choices import ImportStatus
from imports.forms import mapping_field_name
from tests.imports import test_pages as pages
from tests.imports.preview_helpers import autosave_url, district_names, form_data, many_owner_text, parse, preview_url
from tests.imports.test_pages import full_mapping
from workplans.models import Plan

admin_client, agencies, parsed, media = pages.admin_client, pages.agencies, pages.parsed, pages.media

pytestmark = pytest.mark.django_db


def selected_in(body: str, owner_name: str) -> str | None:
    """The value selected in the mapping select of `owner_name`, as the page renders it."""
    field = mapping_field_name(owner_name)
    select = re.search(rf'<select name="{field}"[^>]*>(.*?)</select>', body, re.S)
    assert select, owner_name
    chosen = re.search(r'<option value="([^"]*)" selected', select.group(1))
    return chosen.group(1) if chosen else None


def test_the_autosave_endpoint_stores_one_mapping_choice(admin_client, parsed, agencies):
    # when the page posts the form after the admin picks an agency for 市体育局
    response = admin_client.post(autosave_url(parsed), form_data({"市体育局": agencies["b"].pk}))
    # then it answers a short status and the choice is on the import
    assert response.status_code == 200
    assert response.json()["status"] == "saved" and "已自动保存" in response.json()["message"]
    parsed.refresh_from_db()
    assert parsed.owner_mapping["市体育局"] == agencies["b"].pk
    assert selected_in(admin_client.get(preview_url(parsed)).content.decode(), "市体育局") == str(agencies["b"].pk)


def test_the_autosave_keeps_the_valid_parts_of_a_half_typed_form(admin_client, parsed, agencies):
    # given a year being typed (not a year yet) and a section title too long
    data = form_data({"市体育局": "create"}, year="20")
    data["section-0"] = "长" * 400
    response = admin_client.post(autosave_url(parsed), data)
    # then the answer says what was not saved, in Chinese, and the mapping is saved
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "partial" and "年度" in body["message"] and "部分标题不能超过" in body["message"]
    parsed.refresh_from_db()
    assert parsed.owner_mapping["市体育局"] == "create"
    assert parsed.edited_document["plan"]["year"] == 2026  # the half-typed year is not saved


def test_a_forged_autosave_changes_nothing_and_gives_no_error_page(admin_client, parsed):
    response = admin_client.post(autosave_url(parsed), {mapping_field_name("市体育局"): "<script>", "decision-x": "1"})
    assert response.status_code == 400 and "所选单位不存在" in response.json()["message"]
    parsed.refresh_from_db()
    assert "市体育局" not in parsed.owner_mapping


def test_the_autosave_of_a_confirmed_import_is_refused(admin_client, parsed, agencies):
    admin_client.post(preview_url(parsed), form_data(full_mapping(agencies), action="confirm"))
    parsed.refresh_from_db()
    assert parsed.status == ImportStatus.IMPORTED
    response = admin_client.post(autosave_url(parsed), form_data({"市体育局": agencies["a"].pk}))
    assert response.status_code == 409 and "已确认" in response.json()["message"]


@pytest.mark.parametrize("persona", ["staff_a", "leader", "auditor"])
def test_the_new_endpoints_are_for_admins_only(client, request, parsed, persona, agencies):
    client.force_login(request.getfixturevalue(persona))
    for name in ("imports:autosave", "imports:bulk_owners", "imports:create_unmatched"):
        url = reverse(name, args=[parsed.pk])
        assert client.post(url, form_data({"市体育局": agencies["a"].pk})).status_code == 403, name
        assert client.get(url).status_code in (403, 405), name
    parsed.refresh_from_db()
    assert parsed.owner_mapping == {}


def test_a_refused_confirmation_keeps_every_choice(admin_client, agencies, django_capture_on_commit_callbacks):
    # given twelve owner names nothing matches, and a task that names no owner
    names = district_names(12)
    plan_import = parse(admin_client, django_capture_on_commit_callbacks, many_owner_text(names, ownerless=1))
    pool = [agencies["a"], agencies["b"], agencies["commission"], agencies["outside"]]
    chosen = {name: pool[n % 4].pk for n, name in enumerate(names)}
    # when the admin maps all twelve and confirms without deciding on the ownerless task
    response = admin_client.post(
        preview_url(plan_import),
        form_data(full_mapping(agencies) | chosen, action="confirm", title="2026年测试市卫生健康工作要点（第二稿）"),
    )
    # then the confirmation is refused, naming the class that needs a decision
    assert response.status_code == 400
    assert "请对“没有责任单位的任务”（1处）作出决定" in response.content.decode()
    assert not Plan.objects.exists()
    # and a reload (or the next day) shows all twelve choices and the new title as typed
    plan_import.refresh_from_db()
    assert plan_import.status == ImportStatus.PARSED
    assert {name: plan_import.owner_mapping[name] for name in names} == chosen
    body = admin_client.get(preview_url(plan_import)).content.decode()
    assert {name: selected_in(body, name) for name in names} == {name: str(pk) for name, pk in chosen.items()}
    assert "（第二稿）" in body
    # and once decided, the same page confirms
    response = admin_client.post(
        preview_url(plan_import),
        form_data(decisions={"ownerless": "later"}, action="confirm", title="2026年测试市卫生健康工作要点（第二稿）"),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Plan.objects.get().title == "2026年测试市卫生健康工作要点（第二稿）"


def test_the_preview_with_many_names_runs_a_bounded_number_of_queries(
    admin_client, agencies, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    names = district_names(40)
    plan_import = parse(admin_client, django_capture_on_commit_callbacks, many_owner_text(names, ownerless=5))
    admin_client.post(autosave_url(plan_import), form_data(dict.fromkeys(names[:20], agencies["a"].pk)))
    with django_assert_max_num_queries(20):
        assert admin_client.get(preview_url(plan_import)).status_code == 200
    # session, user, second factor, the import, agencies, aliases, target plan, the save,
    # the session's expiry (+ the audit middleware's reads)
    with django_assert_max_num_queries(14):
        assert admin_client.post(autosave_url(plan_import), form_data({names[0]: agencies["b"].pk})).status_code == 200
