"""Readings and milestone completion are history: never changed, corrected by a new reading
that supersedes the old one (with a reason), and a completion taken back only with a reason,
the earlier one kept; latest values and attainment follow the correction."""

import datetime
import decimal
import re

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from rest_framework.test import APIClient

from indicators.models import Indicator, Reading
from indicators.services import attained_q, correct_reading, missed_q, with_latest_reading
from supervision.progress import ReadingInput, report_progress
from tasks.choices import MilestoneEventKind
from tasks.models import Milestone, MilestoneEvent
from tasks.services import reopen_milestone

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 24)


@pytest.fixture(autouse=True)
def now():
    with time_machine.travel(datetime.datetime(2026, 11, 24, 4, 0, tzinfo=datetime.UTC), tick=False):
        yield


@pytest.fixture
def indicator(task):
    return Indicator.objects.create(
        task=task, name="预约诊疗率", comparator=">=", target=decimal.Decimal("60"), unit="%"
    )


@pytest.fixture
def reading(task, staff_a, indicator):
    update = report_progress(
        task.pk,
        staff_a,
        based_on_version=task.version,
        note="本月预约诊疗率",
        readings=[ReadingInput(indicator.pk, decimal.Decimal("61.2"), datetime.date(2026, 11, 20))],
    )
    return update.readings.get()


def correct(reading, user, value="58.4", reason="统计口径有误，重新核算", as_of=None):
    return correct_reading(reading.pk, user, value=value, as_of=as_of, reason=reason, today=TODAY)


def latest(indicator):
    return with_latest_reading(Indicator.objects.filter(pk=indicator.pk)).get()


# --- Never changed -------------------------------------------------------------------


def test_a_reading_cannot_be_changed_or_deleted(reading):
    reading.value = decimal.Decimal("99")
    with pytest.raises(ValidationError, match="只能新增，不能修改"):
        reading.save()
    with pytest.raises(ValidationError, match="只能新增，不能修改"):
        Reading.objects.filter(pk=reading.pk).update(value=99)
    with pytest.raises(ValidationError, match="只能新增，不能删除"):
        reading.delete()
    with pytest.raises(ValidationError, match="只能新增，不能删除"):
        Reading.objects.filter(pk=reading.pk).delete()
    assert Reading.objects.get(pk=reading.pk).value == decimal.Decimal("61.2")


def test_the_admin_shows_readings_and_milestone_events_read_only(client, admin_user, reading):
    client.force_login(admin_user)
    page = client.get(f"/admin/indicators/reading/{reading.pk}/change/")
    assert page.status_code == 200
    assert 'name="value"' not in page.content.decode()
    response = client.post(f"/admin/indicators/reading/{reading.pk}/change/", {"value": "99", "as_of": "2026-11-20"})
    assert response.status_code == 403
    assert client.post(f"/admin/indicators/reading/{reading.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/indicators/reading/add/").status_code == 403
    assert Reading.objects.get(pk=reading.pk).value == decimal.Decimal("61.2")


def test_the_api_has_no_way_to_change_or_delete_a_reading(staff_a, reading):
    api = APIClient()
    api.force_authenticate(staff_a)
    url = f"/api/v1/readings/{reading.pk}/"
    assert api.put(url, {"value": "99"}, format="json").status_code in (403, 405)
    assert api.patch(url, {"value": "99"}, format="json").status_code in (403, 405)
    assert api.delete(url).status_code in (403, 405)
    assert Reading.objects.get(pk=reading.pk).value == decimal.Decimal("61.2")


# --- Corrected by a new reading ------------------------------------------------------


def test_a_correction_supersedes_the_reading_and_the_latest_value_follows_it(staff_a, indicator, reading):
    assert latest(indicator).latest_value == decimal.Decimal("61.2")
    assert with_latest_reading(Indicator.objects.filter(pk=indicator.pk)).filter(attained_q()).exists()

    correction = correct(reading, staff_a)

    assert (correction.supersedes, correction.correction_reason, correction.reporter) == (
        reading,
        "统计口径有误，重新核算",
        staff_a,
    )
    assert correction.as_of == reading.as_of  # kept when not given
    found = latest(indicator)
    assert (found.latest_value, found.latest_id) == (decimal.Decimal("58.4"), correction.pk)
    # attainment, in SQL, counts the correction (58.4 < 60), not the superseded 61.2
    annotated = with_latest_reading(Indicator.objects.filter(pk=indicator.pk))
    assert not annotated.filter(attained_q()).exists()
    assert annotated.filter(missed_q()).exists()
    # the old reading is still there, unchanged, and says it was corrected
    reading.refresh_from_db()
    assert reading.value == decimal.Decimal("61.2") and reading.superseded_by == correction
    assert list(Reading.objects.current().filter(indicator=indicator)) == [correction]


def test_the_dashboard_trend_leaves_out_superseded_readings(staff_a, indicator, reading, task):
    from dashboards.services import _indicator_rows
    from tasks.models import Task

    correct(reading, staff_a)
    rows = _indicator_rows(Task.objects.filter(pk=task.pk), 2026)
    assert [value for _day, value in rows[0].trend] == [decimal.Decimal("58.4")]
    assert rows[0].met is False


@pytest.mark.parametrize(
    "value, reason, field",
    [
        ("58.4", "  ", "reason"),
        ("abc", "口径有误", "value"),
        ("61.2", "口径有误", "value"),  # the same value and date: nothing to correct
        ("120", "口径有误", "value"),  # over 100 %
    ],
)
def test_a_bad_correction_says_why_and_changes_nothing(staff_a, reading, value, reason, field):
    with pytest.raises(ValidationError) as refused:
        correct(reading, staff_a, value=value, reason=reason)
    assert field in refused.value.message_dict
    assert Reading.objects.count() == 1


def test_a_reading_is_corrected_once_then_its_correction_is(staff_a, reading):
    correction = correct(reading, staff_a)
    with pytest.raises(ValidationError, match="已被更正过"):
        correct(reading, staff_a, value="59")
    second = correct(correction, staff_a, value="59", reason="再次核对")
    assert second.supersedes == correction


def test_only_who_may_report_on_the_task_may_correct(reading, staff_b, staff_outside, leader):
    correct(reading, staff_b)  # the co-owner reports readings, so corrects them
    newest = Reading.objects.current().get()
    for user in (staff_outside, leader):
        with pytest.raises(PermissionDenied):
            correct(newest, user, value="57")


def test_the_task_page_shows_the_correction_with_the_old_value_struck_through(client, staff_a, task, reading):
    client.force_login(staff_a)

    response = client.post(
        f"/tasks/{task.pk}/readings/{reading.pk}/correct/",
        {"value": "58.4", "as_of": "2026-11-20", "reason": "统计口径有误，重新核算"},
    )

    assert response.status_code == 302
    page = client.get(f"/tasks/{task.pk}/").content.decode()
    card = page[page.index('id="indicators"') :]
    assert "58.4%" in card and "<del>61.2%</del>" in card and "统计口径有误，重新核算" in card
    history = page[page.index('id="progress"') :]
    assert "<del>61.2%（2026-11-20）</del>" in history and "更正为 58.4%（2026-11-20）" in history


def test_the_task_page_refuses_a_correction_without_a_reason(client, staff_a, task, reading):
    client.force_login(staff_a)
    response = client.post(f"/tasks/{task.pk}/readings/{reading.pk}/correct/", {"value": "58.4", "reason": ""})
    assert response.status_code == 400
    assert "请填写更正原因。" in re.findall(r'class="error" role="alert">([^<]+)<', response.content.decode())
    assert Reading.objects.count() == 1


def test_the_api_corrects_a_reading(staff_a, reading):
    api = APIClient()
    api.force_authenticate(staff_a)

    response = api.post(
        f"/api/v1/readings/{reading.pk}/correct/", {"value": "58.4", "reason": "口径有误"}, format="json"
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["value"], body["supersedes"], body["correction_reason"]) == ("58.4000", reading.pk, "口径有误")
    old = api.get(f"/api/v1/readings/{reading.pk}/").json()
    assert old["superseded_by"] == body["id"] and old["value"] == "61.2000"
    assert [r["id"] for r in api.get("/api/v1/readings/?current=1").json()["results"]] == [body["id"]]
    refused = api.post(f"/api/v1/readings/{body['id']}/correct/", {"value": "57"}, format="json")
    assert refused.status_code == 400 and "reason" in refused.json()["errors"]


# --- Milestones: done, and taken back with a reason ----------------------------------


@pytest.fixture
def milestone(task):
    return Milestone.objects.create(task=task, due_on=datetime.date(2026, 9, 30), text="完成实施方案")


def test_marking_a_milestone_done_records_who_and_when(task, staff_a, milestone):
    update = report_progress(
        task.pk, staff_a, based_on_version=task.version, note="方案已印发", milestone_ids=[milestone.pk]
    )

    event = MilestoneEvent.objects.get()
    assert (event.kind, event.done_on, event.recorded_by, event.progress_update) == (
        MilestoneEventKind.DONE,
        TODAY,
        staff_a,
        update,
    )
    with pytest.raises(ValidationError):
        event.save()
    with pytest.raises(ValidationError):
        MilestoneEvent.objects.filter(pk=event.pk).update(reason="x")


def test_reopening_needs_a_reason_and_keeps_the_earlier_completion(client, task, staff_a, staff_b, milestone):
    report_progress(task.pk, staff_a, based_on_version=task.version, note="方案已印发", milestone_ids=[milestone.pk])
    with pytest.raises(ValidationError, match="请填写原因"):
        reopen_milestone(milestone.pk, staff_a, " ")
    with pytest.raises(PermissionDenied):
        reopen_milestone(milestone.pk, staff_b, "配合单位不能撤销")

    client.force_login(staff_a)
    response = client.post(
        f"/tasks/{task.pk}/milestones/{milestone.pk}/reopen/", {"reason": "督查发现方案未经党委会审议"}
    )

    assert response.status_code == 302
    milestone.refresh_from_db()
    assert milestone.done_on is None
    assert list(MilestoneEvent.objects.values_list("kind", "reason")) == [
        (MilestoneEventKind.DONE, ""),
        (MilestoneEventKind.REOPENED, "督查发现方案未经党委会审议"),
    ]
    page = client.get(f"/tasks/{task.pk}/").content.decode()
    card = page[page.index('id="milestones"') :]
    assert "撤销完成：督查发现方案未经党委会审议" in card and "完成" in card


def test_the_admin_does_not_edit_a_milestone_s_completion(client, admin_user, milestone):
    client.force_login(admin_user)
    page = client.get(f"/admin/tasks/milestone/{milestone.pk}/change/").content.decode()
    assert 'name="done_on"' not in page
