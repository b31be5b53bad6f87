"""The public progress page (政务公开) in a browser nobody signed in to: it opens from the
public list, shows the published tasks with their status in words beside the colour,
skips to the content from the keyboard, fits a 390 px phone without sideways scrolling,
runs no script, and asks nothing of any host but this one (the `page` fixture records
every request that leaves 127.0.0.1 and fails the test on one)."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from publication import services
from tasks.choices import TaskStatus
from tests.conftest import make_task
from tests.publication.conftest import ALL_FIELDS, make_public, publish_now
from workplans.choices import PlanStatus
from workplans.models import Plan, Section

pytestmark = pytest.mark.django_db(transaction=True)

HEADING = "推进紧密型县域医共体建设，实现县域内就诊率稳步提升的长标题任务"
NARRATIVE = "全市已有三个县完成医共体章程制定。"


@pytest.fixture
def published_plan(commission, agency_a, admin_user, supervisor):
    today = timezone.localdate()
    plan = Plan.objects.create(
        title=f"{today.year}年测试市卫生健康工作要点", year=today.year, issuer=commission, status=PlanStatus.ACTIVE
    )
    section = Section.objects.create(plan=plan, label="一", title="深化医药卫生体制改革")
    task = make_task(
        plan,
        section,
        "1",
        lead=agency_a,
        heading=HEADING,
        due_on=datetime.date(today.year, 12, 31),
        status=TaskStatus.IN_PROGRESS,
        percent=60,
    )
    make_task(
        plan,
        section,
        "2",
        lead=agency_a,
        due_on=today - datetime.timedelta(days=3),
        status=TaskStatus.LAGGING,
        percent=20,
    )
    make_public(plan, admin_user, fields=ALL_FIELDS)
    services.save_narrative(task.pk, supervisor, text=NARRATIVE, version=1)
    publish_now(plan, admin_user)
    return plan


def test_the_public_page_works_without_login_on_a_phone_and_stays_on_this_host(page, published_plan):
    # given: a phone's screen
    page.set_viewport_size({"width": 390, "height": 844})

    # when: the public list, then the plan
    page.goto("/public/")
    page.get_by_role("link", name=published_plan.title).click()
    page.wait_for_load_state("networkidle")

    # then: the published tasks, status in words, no sign-in asked for
    assert "/accounts/login/" not in page.url
    expect(page.get_by_role("heading", level=1)).to_have_text(published_plan.title)
    expect(page.get_by_role("heading", name="一 深化医药卫生体制改革")).to_be_visible()
    expect(page.get_by_text(NARRATIVE)).to_be_visible()
    expect(page.get_by_text("滞后").first).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    assert page.locator("script").count() == 0
    # the style sheet loaded (its rules apply), from this host
    assert page.evaluate("getComputedStyle(document.querySelector('.task')).borderStyle") == "solid"
    # nothing wider than the phone
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # the skip link is the first stop of the keyboard and leads to the content
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="跳到正文")).to_be_focused()
    page.keyboard.press("Enter")
    assert page.url.endswith("#main")


def test_a_plan_not_published_is_not_found_in_the_browser(page, commission, agency_a):
    plan = Plan.objects.create(title="未公开的计划", year=2026, issuer=commission, status=PlanStatus.ACTIVE)
    make_task(plan, None, "1", lead=agency_a)

    response = page.goto(f"/public/{plan.pk}/")

    assert response.status == 404
    expect(page.get_by_text("未公开的计划")).to_have_count(0)
