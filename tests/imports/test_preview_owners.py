"""Owners in the import preview picked from the agency tree: for many tasks in one step,
unmatched names created under a chosen parent, a generic name mapped to a group."""

import pytest
from django.urls import reverse

from accounts.models import Agency
from audit.models import AuditEvent
from imports.choices import ImportStatus
from imports.models import PlanImport
from imports.services import CREATE_UNDER, SKIP_AGENCY
from tasks.choices import OwnerRole
from tasks.models import TaskOwner
from tests.imports import test_pages as pages
from tests.imports.preview_helpers import district_names, form_data, many_owner_text, parse, preview_url
from tests.imports.test_pages import full_mapping
from workplans.models import Plan

# The page tests' fixtures: an admin signed in, the agencies, a parsed import, media in tmp.
admin_client, agencies, parsed, media = pages.admin_client, pages.agencies, pages.parsed, pages.media

pytestmark = pytest.mark.django_db


def bulk_url(plan_import):
    return reverse("imports:bulk_owners", args=[plan_import.pk])


def test_the_owners_of_eight_tasks_are_set_in_one_post(admin_client, agencies, django_capture_on_commit_callbacks):
    # given a plan of 12 tasks whose owners are names nothing matches
    names = district_names(8)
    plan_import = parse(admin_client, django_capture_on_commit_callbacks, many_owner_text(names, ownerless=0))
    body = admin_client.get(preview_url(plan_import)).content.decode()
    assert all(f'<tr class="unmatched" data-owner="{name}">' in body for name in names)
    assert 'name="bulk-tasks"' in body and 'form="bulk-form"' in body and "data-agency-picker" in body
    # when the admin ticks the eight tasks and picks a lead and two co-owners from the tree
    picked = list(range(4, 12))
    response = admin_client.post(
        bulk_url(plan_import),
        {
            "bulk-tasks": [str(i) for i in picked],
            "bulk-lead": str(agencies["b"].pk),
            "bulk-co_owners": [str(agencies["a"].pk), str(agencies["outside"].pk)],
        },
    )
    # then the eight tasks name exactly those agencies, and each name maps to its agency
    assert response.status_code == 302
    plan_import.refresh_from_db()
    tasks = plan_import.edited_document["tasks"]
    expected = [agencies["b"].name, agencies["a"].name, agencies["outside"].name]
    assert all(tasks[i]["owners"] == expected for i in picked)
    assert tasks[0]["owners"] == ["医政医管处", "市医疗保障局"]  # untouched
    assert plan_import.owner_mapping[agencies["b"].name] == agencies["b"].pk
    assert AuditEvent.objects.filter(detail__action="import_set_owners").count() == 1
    # and the page no longer asks for the eight names nothing matched
    body = admin_client.get(preview_url(plan_import)).content.decode()
    assert all(f'data-owner="{name}"' not in body for name in names)

    # when confirmed, the plan has them as picked: the lead first
    response = admin_client.post(
        preview_url(plan_import), form_data(full_mapping(agencies), action="confirm", activate="on")
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    plan = Plan.objects.get()
    for task in plan.tasks.filter(order__in=picked):
        owners = list(task.task_owners.order_by("order").values_list("agency_id", "role"))
        assert owners == [
            (agencies["b"].pk, OwnerRole.LEAD),
            (agencies["a"].pk, OwnerRole.CO_OWNER),
            (agencies["outside"].pk, OwnerRole.CO_OWNER),
        ]


def test_setting_owners_without_tasks_or_lead_is_refused_in_chinese(admin_client, parsed, agencies):
    response = admin_client.post(bulk_url(parsed), {"bulk-co_owners": [str(agencies["a"].pk)]})
    body = response.content.decode()
    assert response.status_code == 400
    assert "请先勾选要设置责任单位的任务" in body and "请选择牵头单位" in body
    forged = admin_client.post(bulk_url(parsed), {"bulk-tasks": ["99", "x"], "bulk-lead": "abc"})
    assert forged.status_code == 400
    parsed.refresh_from_db()
    assert parsed.edited_document is None and not AuditEvent.objects.filter(detail__action="import_set_owners")


def test_one_task_gets_its_owners_from_the_tree_on_its_edit_page(admin_client, parsed, agencies):
    edit_url = reverse("imports:task_edit", args=[parsed.pk, 1])
    assert "data-agency-picker" in admin_client.get(edit_url).content.decode()
    response = admin_client.post(
        edit_url,
        {
            "section": "1",
            "number": "2",
            "heading": "改善就医体验",
            "owners": "随便写的名称",
            "lead": str(agencies["outside"].pk),
            "co_owners": [str(agencies["a"].pk)],
            "ms-TOTAL_FORMS": "0",
            "ms-INITIAL_FORMS": "0",
            "ind-TOTAL_FORMS": "0",
            "ind-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    parsed.refresh_from_db()
    assert parsed.edited_document["tasks"][1]["owners"] == [agencies["outside"].name, agencies["a"].name]
    assert parsed.owner_mapping[agencies["outside"].name] == agencies["outside"].pk


def test_all_unmatched_names_are_created_under_the_chosen_parent(
    admin_client, agencies, django_capture_on_commit_callbacks
):
    # given three names nothing matches (and 市体育局 of the base plan)
    names = ["甲区卫生健康局", "乙区卫生健康局", "丙区卫生健康局"]
    plan_import = parse(admin_client, django_capture_on_commit_callbacks, many_owner_text(names, ownerless=0))
    body = admin_client.get(preview_url(plan_import)).content.decode()
    assert "还有 4 个名称没有对应单位" in body and "新建这 4 个单位" in body
    # when the admin creates them all under the commission, in one step
    response = admin_client.post(
        reverse("imports:create_unmatched", args=[plan_import.pk]), {"create-parent": str(agencies["commission"].pk)}
    )
    assert response.status_code == 302
    plan_import.refresh_from_db()
    for name in [*names, "市体育局"]:
        assert plan_import.owner_mapping[name] == f"{CREATE_UNDER}{agencies['commission'].pk}"
    body = admin_client.get(preview_url(plan_import)).content.decode()
    assert "还有" not in body and f"新建到“{agencies['commission'].name}”之下" in body
    # and confirms: the agencies exist under the parent, named as written, owning their tasks
    mapping = {k: v for k, v in full_mapping(agencies).items() if k != "市体育局"}
    response = admin_client.post(preview_url(plan_import), form_data(mapping, action="confirm"))
    assert response.status_code == 302, response.content.decode()[:3000]
    for name in [*names, "市体育局"]:
        created = Agency.objects.get(name=name)
        assert created.parent == agencies["commission"]
        assert TaskOwner.objects.filter(agency=created).exists()


def test_a_bad_parent_is_refused(admin_client, parsed):
    response = admin_client.post(reverse("imports:create_unmatched", args=[parsed.pk]), {"create-parent": "999999"})
    assert response.status_code == 400 and "选择一个有效的选项" in response.content.decode()
    parsed.refresh_from_db()
    assert parsed.owner_mapping == {}


def test_a_generic_owner_mapped_to_a_group_makes_every_agency_of_it_an_owner(
    admin_client, agencies, django_capture_on_commit_callbacks
):
    # given 各区 (generic) written after the lead of task 1, and alone on another task
    text = many_owner_text(["各区"], ownerless=0).replace("（医政医管处、市医疗保障局）", "（医政医管处、各区）")
    plan_import = parse(admin_client, django_capture_on_commit_callbacks, text)
    body = admin_client.get(preview_url(plan_import)).content.decode()
    assert f'<option value="{SKIP_AGENCY}" selected>' in body and "对应到一组单位" in body
    # when the admin maps 各区 to a group of two agencies
    group = [agencies["b"].pk, agencies["outside"].pk]
    mapping = full_mapping(agencies) | {"各区": "group"}
    response = admin_client.post(preview_url(plan_import), form_data(mapping, groups={"各区": group}, action="confirm"))
    # then task 1 keeps its lead and gets both as co-owners; the task of 各区 alone is led by
    # the first of the group (the group stands for its agencies, in the order picked)
    assert response.status_code == 302, response.content.decode()[:3000]
    plan = Plan.objects.get()
    first = plan.tasks.get(number="1")
    assert list(first.task_owners.order_by("order").values_list("agency_id", "role")) == [
        (agencies["a"].pk, OwnerRole.LEAD),
        (agencies["b"].pk, OwnerRole.CO_OWNER),
        (agencies["outside"].pk, OwnerRole.CO_OWNER),
    ]
    alone = plan.tasks.get(number="5")
    assert list(alone.task_owners.order_by("order").values_list("agency_id", "role")) == [
        (agencies["b"].pk, OwnerRole.LEAD),
        (agencies["outside"].pk, OwnerRole.CO_OWNER),
    ]
    assert PlanImport.objects.get().status == ImportStatus.IMPORTED
    assert not Agency.objects.filter(name="各区").exists()


def test_a_group_with_no_agency_is_refused(admin_client, agencies, django_capture_on_commit_callbacks):
    plan_import = parse(admin_client, django_capture_on_commit_callbacks, many_owner_text(["各区"], ownerless=0))
    mapping = full_mapping(agencies) | {"各区": "group"}
    response = admin_client.post(preview_url(plan_import), form_data(mapping, action="confirm"))
    assert response.status_code == 400 and "请选择“各区”对应的一组单位" in response.content.decode()
    assert not Plan.objects.exists()
