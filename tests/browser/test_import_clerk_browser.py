"""A clerk finishes an import preview alone in the browser: a mapping choice is saved as it
is made (static/js/import_preview.js), ticked tasks get their owners in one step, and a
reload finds everything. Screenshots at desktop width and at 390 px."""

import os
import re

import pytest

from imports.choices import ImportStatus
from imports.models import PlanImport
from imports.parsing import parse_bytes
from tests.imports.preview_helpers import district_names, many_owner_text

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def plan_import(admin_user):
    text = many_owner_text(district_names(6), ownerless=2)
    return PlanImport.objects.create(
        file="imports/clerk.txt",
        original_name="2026年工作要点.txt",
        sha256="c" * 64,
        status=ImportStatus.PARSED,
        progress=100,
        document=parse_bytes(text.encode("utf-8"), "clerk.txt"),
        created_by=admin_user,
    )


def test_a_clerk_maps_owners_and_sets_many_tasks_at_once(
    page, browser_login, admin_user, plan_import, commission, agency_a, agency_b, outside_agency, tmp_path
):
    shots = os.environ.get("SCREENSHOT_DIR") or str(tmp_path)  # set it to look at them by hand
    browser_login(admin_user)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"/plans/imports/{plan_import.pk}/preview/")
    assert page.get_by_role("heading", name=re.compile("导入预览")).is_visible()
    page.screenshot(path=f"{shots}/import_preview_desktop.png", full_page=True)

    # when the clerk picks an agency for one unmatched name, nothing else
    name = district_names(1)[0]
    page.get_by_label(f"“{name}”对应的单位").select_option(str(agency_b.pk))
    # then the page says it is saved, and it is
    page.locator("#autosave-status", has_text="已自动保存").wait_for()
    plan_import.refresh_from_db()
    assert plan_import.owner_mapping[name] == agency_b.pk

    # when the clerk ticks the two tasks without owners and sets their lead from the tree
    page.locator("#task-10 input[name='bulk-tasks']").check()
    page.locator("#task-11 input[name='bulk-tasks']").check()
    assert page.locator("#bulk-count").text_content() == "已选 2 项任务"
    page.locator("#id_bulk-lead").select_option(str(agency_a.pk))
    page.get_by_role("button", name="设置所选任务的责任单位").click()
    page.wait_for_url(re.compile(r"/preview/#tasks$"))
    assert page.get_by_text(re.compile("已为2项任务设置责任单位")).is_visible()

    # and after a reload every choice is still there
    page.reload()
    assert page.get_by_label(f"“{name}”对应的单位").input_value() == str(agency_b.pk)
    plan_import.refresh_from_db()
    tasks = plan_import.edited_document["tasks"]
    assert tasks[10]["owners"] == tasks[11]["owners"] == [agency_a.name]

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.screenshot(path=f"{shots}/import_preview_390.png", full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1, width
