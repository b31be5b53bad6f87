"""A new version of a plan keeps what people decided: owners, 责任人 and due dates set by
hand stay unless the admin ticks "overwrite"; the diff marks changed words and every
changed indicator target."""

import datetime

import pytest

from imports.models import PlanImport
from imports.templatetags.import_marks import marked
from tests.imports import test_pages as pages
from tests.imports.preview_helpers import form_data, preview_url
from tests.imports.test_pages import PLAN_TEXT, full_mapping, upload
from workplans.models import Plan

admin_client, agencies, parsed, media = pages.admin_client, pages.agencies, pages.parsed, pages.media

pytestmark = pytest.mark.django_db

REVISED = PLAN_TEXT.replace("年内组建3个城市医疗集团", "年内组建5个城市医疗集团")


@pytest.fixture
def hand_set_plan(admin_client, parsed, agencies, staff_a):
    """The plan imported, then task 1 given by hand another owner, a due date and a 责任人."""
    admin_client.post(preview_url(parsed), form_data(full_mapping(agencies), action="confirm", activate="on"))
    plan = Plan.objects.get()
    task = plan.tasks.get(number="1")
    task.task_owners.all().delete()
    task.task_owners.create(agency=agencies["outside"], role="lead", order=0)
    task.due_on = datetime.date(2026, 9, 30)
    task.hand_set = ["owners", "responsible_users", "due_on"]
    task._change_reason = "测试：手工设定"
    task.save()
    task.responsible_users.set([staff_a])
    return plan


def new_version(client, capture):
    upload(client, capture, REVISED, name="要点（修订）.txt")
    return PlanImport.objects.latest("created_at")


def test_the_diff_shows_kept_values_marked_words_and_targets(
    admin_client, hand_set_plan, agencies, django_capture_on_commit_callbacks
):
    second = new_version(admin_client, django_capture_on_commit_callbacks)
    body = admin_client.get(preview_url(second)).content.decode()
    assert "与已有计划的差异" in body
    # the owner change is listed, marked kept; the hand-set values are named
    assert "手工设定，保留原值" in body
    assert "责任单位、责任人、完成时限" in body and "覆盖手工设定的值" in body
    # the changed word is marked inside the long text, and the target is shown old → new
    assert "组建<del>3</del>个" in body and "组建<ins>5</ins>个" in body
    assert "<li>“组建城市医疗集团”：&gt;=3个 → &gt;=5个</li>" in body


def test_a_new_version_keeps_values_set_by_hand(
    admin_client, hand_set_plan, agencies, staff_a, django_capture_on_commit_callbacks
):
    second = new_version(admin_client, django_capture_on_commit_callbacks)
    response = admin_client.post(preview_url(second), form_data(full_mapping(agencies), action="confirm"))
    assert response.status_code == 302, response.content.decode()[:3000]
    task = Plan.objects.get().tasks.get(number="1")
    assert "5个城市医疗集团" in task.text  # the document's change is applied
    assert list(task.owners.values_list("pk", flat=True)) == [agencies["outside"].pk]
    assert task.due_on == datetime.date(2026, 9, 30)
    assert list(task.responsible_users.all()) == [staff_a]
    assert set(task.hand_set) == {"owners", "responsible_users", "due_on"}
    assert task.indicators.get().target == 5


def test_a_new_version_overwrites_them_when_asked(
    admin_client, hand_set_plan, agencies, django_capture_on_commit_callbacks
):
    second = new_version(admin_client, django_capture_on_commit_callbacks)
    data = form_data(full_mapping(agencies), decisions={"overwrite": "on"}, action="save")
    admin_client.post(preview_url(second), data)
    body = admin_client.get(preview_url(second)).content.decode()
    assert "将覆盖" in body and "已选择覆盖手工设定的值" in body
    response = admin_client.post(preview_url(second), data | {"action": "confirm"})
    assert response.status_code == 302, response.content.decode()[:3000]
    task = Plan.objects.get().tasks.get(number="1")
    owners = list(task.task_owners.order_by("order").values_list("agency_id", flat=True))
    assert owners == [agencies["a"].pk, agencies["outside"].pk]
    assert task.due_on == datetime.date(2026, 12, 31)
    assert not task.responsible_users.exists() and task.hand_set == []


def test_a_new_version_starts_from_the_previous_import_s_choices(
    admin_client, parsed, agencies, django_capture_on_commit_callbacks
):
    # given 市医疗保障局 left out on purpose in the first import
    mapping = full_mapping(agencies) | {"市医疗保障局": "skip"}
    first = admin_client.post(preview_url(parsed), form_data(mapping, decisions={"unmapped": "skip"}, action="confirm"))
    assert first.status_code == 302
    # when a new version comes, the preview starts from that choice, not the matcher's
    second = new_version(admin_client, django_capture_on_commit_callbacks)
    body = admin_client.get(preview_url(second)).content.decode()
    assert "市医疗保障局（1项任务）" in body  # listed among the names mapped to nothing


@pytest.mark.parametrize(
    "old, new, before, after",
    [
        ("年内组建3个集团", "年内组建5个集团", "年内组建<del>3</del>个集团", "年内组建<ins>5</ins>个集团"),
        ("预约率60%", "预约率65%", "预约率<del>60%</del>", "预约率<ins>65%</ins>"),
        ("<b>粗</b>", "<i>斜</i>", "&lt;", "&lt;"),
        ("不变", "不变", "不变", "不变"),
    ],
)
def test_word_level_marks_are_escaped(old, new, before, after):
    marked_old, marked_new = marked(old, new)
    assert before in marked_old and after in marked_new
    assert "<b>" not in marked_old and "<i>" not in marked_new
