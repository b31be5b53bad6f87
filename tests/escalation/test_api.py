"""Escalation through the API (/api/v1/notices/, /urges/, /instructions/): who lists and
opens what; a 督办单 issued by hand, acknowledged, answered with a file and closed; an urge
answered in one step; an instruction responded to, returned and settled. For every step:
success for the right person (the state moved, a Step was written), 403 for the wrong role
or person, 404 for another agency's object or task, 400 with a Chinese message for bad
input, 428 without a version, 409 for a stale one. Lists run a bounded number of queries."""

import datetime
import re

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from core.roles import Role
from escalation import notices as notice_service
from escalation import urges as urge_service
from escalation.by_hand import issue_by_hand
from escalation.choices import Action, InstructionState, Level, NoticeState, UrgeState
from escalation.models import Instruction, Notice, Step, Urge
from notifications.choices import Rule
from notifications.models import Delivery
from supervision.evidence import check_evidence_files
from supervision.progress import EvidenceInput
from tests.api.conftest import as_user, ids
from tests.fixtures.accounts import make_user
from tests.fixtures.tasks import PDF, make_task

pytestmark = pytest.mark.django_db

# Noon in Shanghai, so "today" is the same calendar day in every test.
NOW = datetime.datetime(2026, 11, 24, 4, 0, tzinfo=datetime.UTC)
TODAY = datetime.date(2026, 11, 24)
NEXT_WEEK = TODAY + datetime.timedelta(days=7)
YESTERDAY = TODAY - datetime.timedelta(days=1)
HAN = re.compile("[\u4e00-\u9fff]")


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def unthrottled(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "100000/min", "anon": "100000/min"},
    }


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def other_task(plan, section, outside_agency):
    """Another agency's task: outside the commission's tree, so none of A's, B's, the
    commission's leader's or its supervisor's."""
    return make_task(plan, section, "9", lead=outside_agency, due_on=datetime.date(2026, 12, 31))


@pytest.fixture
def supervisor_outside(outside_agency):
    return make_user("supervisor_outside", Role.SUPERVISOR, outside_agency)


@pytest.fixture
def notice(task, supervisor):
    """A yellow notice on the task (A leads, B is copied): it asks for evidence."""
    return issue_by_hand(task.pk, supervisor, level=Level.YELLOW, requirements="请说明滞后原因", reply_due_on=NEXT_WEEK)


def url(kind, obj=None, step=""):
    path = f"/api/v1/{kind}/"
    if obj is not None:
        path += f"{obj.pk}/"
    return path + (f"{step}/" if step else "")


def errors(response) -> dict:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid" and HAN.search(body["detail"])
    return body["errors"]


def refused(response, status=403):
    assert response.status_code == status, response.content
    body = response.json()
    assert HAN.search(body["detail"]), body
    return body


def steps_of(obj) -> list[str]:
    return list(Step.objects.filter(**{obj._meta.model_name: obj}).order_by("pk").values_list("action", flat=True))


def pdf(name="整改报告.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


# --- Who sees what --------------------------------------------------------------------------


def test_each_list_shows_only_what_the_caller_may_open(
    api,
    task,
    other_task,
    supervisor,
    supervisor_outside,
    staff_a,
    staff_b,
    leader,
    leader_outside,
    staff_outside,
    admin_user,
    auditor,
):
    near = {
        "notices": issue_by_hand(task.pk, supervisor, level=Level.BLUE, requirements="请加快"),
        "urges": urge_service.urge(task.pk, supervisor, message="请本周报送进展"),
        "instructions": urge_service.instruct(task.pk, leader, text="抓紧落实", respond_by=NEXT_WEEK),
    }
    far = {
        "notices": issue_by_hand(other_task.pk, supervisor_outside, level=Level.RED, requirements="限期整改"),
        "urges": urge_service.urge(other_task.pk, supervisor_outside, message="请说明"),
        "instructions": urge_service.instruct(other_task.pk, leader_outside, text="限期办结", respond_by=NEXT_WEEK),
    }
    sees = {
        staff_a: {"near"},  # the lead
        staff_b: {"near"},  # a co-owner
        leader: {"near"},
        supervisor: {"near"},
        admin_user: {"near", "far"},
        staff_outside: {"far"},
        leader_outside: {"far"},
    }
    for user, seen in sees.items():
        as_user(api, user)
        for kind in ("notices", "urges", "instructions"):
            expected = {side[kind].pk for name, side in (("near", near), ("far", far)) if name in seen}
            assert ids(api.get(url(kind))) == expected, (user.username, kind)
            for name, side in (("near", near), ("far", far)):
                response = api.get(url(kind, side[kind]))
                if name in seen:
                    assert response.status_code == 200, (user.username, kind)
                    assert response["ETag"] == response.json()["etag"]
                else:
                    assert response.status_code == 404, (user.username, kind)
                    assert response.json() == {"detail": "未找到。", "code": "not_found"}
    # the audit admin reads no work data; nobody unsigned
    as_user(api, auditor)
    for kind in ("notices", "urges", "instructions"):
        assert refused(api.get(url(kind)))["code"] == "permission_denied"
    as_user(api, None)
    assert api.get(url("notices")).status_code == 401


def test_filters_narrow_the_notice_list(api, task, plan, section, agency_b, supervisor, leader):
    other = make_task(plan, section, "2", lead=agency_b, due_on=datetime.date(2026, 12, 31))
    yellow = issue_by_hand(task.pk, supervisor, level=Level.YELLOW, requirements="请说明原因")
    blue = issue_by_hand(other.pk, supervisor, level=Level.BLUE, requirements="请加快")
    notice_service.decide(blue.pk, supervisor, Action.CLOSE, version=blue.version)
    Notice.objects.filter(pk=yellow.pk).update(reply_due_on=YESTERDAY)  # past its deadline, unanswered
    both = {yellow.pk, blue.pk}
    as_user(api, supervisor)
    for query, expected in [
        ({"level": "yellow"}, {yellow.pk}),
        ({"level": ["yellow", "blue"]}, both),
        ({"state": "open"}, {yellow.pk}),
        ({"state": "closed"}, {blue.pk}),
        ({"state": ["open", "closed"]}, both),
        ({"agency_id": task.task_owners.get(role="lead").agency_id}, {yellow.pk}),
        ({"agency": "疾病预防控制处"}, {blue.pk}),
        ({"copied_to_id": agency_b.pk}, {yellow.pk}),
        ({"plan_id": plan.pk}, both),
        ({"plan": plan.title}, both),
        ({"task_id": other.pk}, {blue.pk}),
        ({"overdue": "true"}, {yellow.pk}),
        ({"overdue": "false"}, {blue.pk}),
        ({"origin": "hand"}, both),
        ({"number": yellow.number}, {yellow.pk}),
    ]:
        assert ids(api.get(url("notices"), query)) == expected, query
    for bad in ({"state": "nope"}, {"task_id": "x"}, {"level": "purple"}):
        assert api.get(url("notices"), bad).status_code == 400, bad

    urge = urge_service.urge(task.pk, supervisor, message="请加快", reply_by=TODAY)
    instruction = urge_service.instruct(task.pk, leader, text="抓紧", respond_by=TODAY, notice_id=yellow.pk)
    assert ids(api.get(url("urges"), {"state": "open", "task_id": task.pk})) == {urge.pk}
    assert ids(api.get(url("urges"), {"state": "answered"})) == set()
    assert ids(api.get(url("instructions"), {"notice_id": yellow.pk})) == {instruction.pk}
    assert ids(api.get(url("instructions"), {"notice": yellow.number})) == {instruction.pk}
    assert ids(api.get(url("instructions"), {"issued_by": leader.username})) == {instruction.pk}


# --- A 督办单 --------------------------------------------------------------------------------


def test_a_notice_is_issued_acknowledged_answered_with_a_file_and_closed(
    api, task, agency_a, agency_b, supervisor, staff_a, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    as_user(api, supervisor)
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post(
            url("notices"),
            {
                "task": task.pk,
                "level": "yellow",
                "requirements": "请说明滞后原因",
                "reply_due_on": NEXT_WEEK.isoformat(),
            },
            format="json",
        )
    assert created.status_code == 201, created.content
    body = created.json()
    notice = Notice.objects.get()
    assert created["Location"] == f"/api/v1/notices/{notice.pk}/"
    assert created["ETag"] == body["etag"] == f'"notice-{notice.pk}-v1"'
    assert body["number"] == notice.number and "2026" in body["number"]
    assert (body["level"], body["level_label"], body["state"], body["state_label"]) == (
        "yellow",
        "黄色督办",
        "issued",
        "已发出",
    )
    assert (body["agency"], body["agency_name"], body["copied_to"]) == (agency_a.pk, agency_a.name, [agency_b.pk])
    assert body["origin"] == "hand" and body["issued_by"] == supervisor.pk and body["issued_by_name"]
    assert body["wants_evidence"] is True and body["wants_plan"] is False  # yellow's defaults
    assert body["facts"] and body["reply_due_on"] == NEXT_WEEK.isoformat() and body["overdue"] is False
    assert body["actions"] == ["close", "cancel"]
    assert [s["action"] for s in body["steps"]] == ["issue"]
    # the lead's staff are told
    assert Delivery.objects.filter(rule=Rule.ESCALATION, recipient=staff_a).exists()

    # the lead's staff acknowledge, with the ETag
    as_user(api, staff_a)
    seen = api.get(url("notices", notice))
    assert seen.json()["actions"] == ["acknowledge", "answer"]
    acknowledged = api.post(url("notices", notice, "acknowledge"), {}, format="json", HTTP_IF_MATCH=seen["ETag"])
    assert acknowledged.status_code == 200, acknowledged.content
    assert acknowledged.json()["state"] == NoticeState.ACKNOWLEDGED and acknowledged.json()["acknowledged_at"]
    assert acknowledged["ETag"] == f'"notice-{notice.pk}-v2"'

    # and answer with a file (multipart, version in the body)
    with django_capture_on_commit_callbacks(execute=True):
        answered = api.post(
            url("notices", notice, "answer"),
            {"version": acknowledged.json()["version"], "text": "已加派人手，下月完成", "files": [pdf()]},
            format="multipart",
        )
    assert answered.status_code == 200, answered.content
    body = answered.json()
    assert body["state"] == NoticeState.ANSWERED and body["answer"] == "已加派人手，下月完成"
    assert body["answered_late"] is False and body["answer_update"] is not None
    notice.refresh_from_db()
    assert notice.answered_by == staff_a and notice.answer_update.attachments.count() == 1
    assert Delivery.objects.filter(rule=Rule.ESCALATION, recipient=supervisor).exists()  # the issuer is told

    # the office closes it
    as_user(api, supervisor)
    assert api.get(url("notices", notice)).json()["actions"] == ["close", "return", "cancel"]
    closed = api.post(
        url("notices", notice, "decide"), {"decision": "close", "version": body["version"]}, format="json"
    )
    assert closed.status_code == 200, closed.content
    assert closed.json()["state"] == NoticeState.CLOSED and closed.json()["closed_at"]
    assert closed.json()["actions"] == []
    assert [s["action"] for s in closed.json()["steps"]] == ["issue", "acknowledge", "answer", "close"]
    assert steps_of(notice) == ["issue", "acknowledge", "answer", "close"]


def test_issuing_is_the_office_s_for_tasks_it_covers_and_needs_requirements_and_a_future_date(
    api, task, other_task, supervisor, leader, staff_a
):
    body = {"task": task.pk, "level": "blue", "requirements": "请加快推进"}
    for user in (leader, staff_a):  # the policy: the office issues
        as_user(api, user)
        assert refused(api.post(url("notices"), body, format="json"))["code"] == "permission_denied"
    as_user(api, supervisor)
    assert refused(api.post(url("notices"), {**body, "task": other_task.pk}, format="json"), 404)
    assert errors(api.post(url("notices"), {**body, "requirements": "  "}, format="json")) == {
        "requirements": ["请填写督办要求。"]
    }
    assert errors(api.post(url("notices"), {"task": task.pk, "level": "blue"}, format="json")) == {
        "requirements": ["请填写督办要求。"]
    }
    for day in (YESTERDAY, TODAY):
        past = api.post(url("notices"), {**body, "reply_due_on": day.isoformat()}, format="json")
        assert errors(past) == {"reply_due_on": ["反馈时限须晚于今天。"]}
    assert errors(api.post(url("notices"), {**body, "level": "purple"}, format="json")) == {
        "level": ["请选择督办等级。"]
    }
    assert not Notice.objects.exists() and not Step.objects.exists()

    # one of the same level still open is continued, not doubled; a higher one supersedes it
    first = api.post(url("notices"), body, format="json")
    assert first.status_code == 201 and first.json()["wants_evidence"] is False
    again = errors(api.post(url("notices"), body, format="json"))
    assert "该任务已有未办结的蓝色督办" in again["non_field_errors"][0]
    red = api.post(url("notices"), {**body, "level": "red", "wants_plan": False}, format="json")
    assert red.status_code == 201 and red.json()["wants_plan"] is False and red.json()["wants_evidence"] is True
    superseded = api.get(url("notices") + f"{first.json()['id']}/").json()
    assert superseded["state"] == NoticeState.SUPERSEDED and superseded["superseded_by"] == red.json()["id"]
    assert Notice.objects.count() == 2


def test_acknowledging_takes_the_addressee_and_the_current_version(
    api, notice, staff_a, staff_b, staff_outside, leader, supervisor
):
    ack = url("notices", notice, "acknowledge")
    as_user(api, supervisor)  # the policy: not the office's step
    assert refused(api.post(ack, {"version": 1}, format="json"))["code"] == "permission_denied"
    as_user(api, staff_b)  # copied, not addressed
    assert refused(api.post(ack, {"version": 1}, format="json"))["detail"] == "您无权签收该督办单。"
    as_user(api, staff_outside)
    refused(api.post(ack, {"version": 1}, format="json"), 404)
    as_user(api, staff_a)
    missing = refused(api.post(ack, {}, format="json"), 428)
    assert missing["code"] == "precondition_required"
    assert "version" in errors(api.post(ack, {"version": "第一版"}, format="json"))
    other_tag = refused(api.post(ack, {}, format="json", HTTP_IF_MATCH=f'"urge-{notice.pk}-v1"'), 412)
    assert other_tag["current"]["state"] == NoticeState.ISSUED
    notice.refresh_from_db()
    assert notice.state == NoticeState.ISSUED and steps_of(notice) == ["issue"]

    done = api.post(ack, {"version": 1}, format="json")
    assert done.status_code == 200 and done.json()["state"] == NoticeState.ACKNOWLEDGED
    # the lead's unit head (the commission's leader) on the version it saw: someone was first
    as_user(api, leader)
    stale = refused(api.post(ack, {"version": 1}, format="json"), 409)
    assert stale["code"] == "stale_decision" and stale["current"]["state"] == NoticeState.ACKNOWLEDGED
    assert steps_of(notice) == ["issue", "acknowledge"]


def test_a_leader_heading_the_lead_agency_may_acknowledge(api, notice, leader):
    as_user(api, leader)
    assert api.get(url("notices", notice)).json()["actions"] == ["acknowledge"]
    done = api.post(url("notices", notice, "acknowledge"), {"version": notice.version}, format="json")
    assert done.status_code == 200 and done.json()["state"] == NoticeState.ACKNOWLEDGED
    notice.refresh_from_db()
    assert notice.acknowledged_by == leader


def test_an_answer_needs_the_addressee_text_and_the_evidence_asked_for(
    api, notice, staff_a, staff_b, leader, supervisor, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    answer = url("notices", notice, "answer")
    as_user(api, leader)  # the policy: staff answer
    refused(api.post(answer, {"version": 1, "text": "x"}, format="json"))
    as_user(api, staff_b)  # staff, but of a co-owner
    assert refused(api.post(answer, {"version": 1, "text": "x"}, format="json"))["detail"] == (
        "只有主送单位的经办人可以反馈督办单。"
    )
    as_user(api, staff_a)
    assert errors(api.post(answer, {"version": 1, "text": ""}, format="json")) == {"text": ["请填写办理情况。"]}
    assert errors(api.post(answer, {"version": 1, "text": "已整改"}, format="json")) == {
        "files": ["该督办单要求附佐证材料，请上传文件。"]
    }
    exe = SimpleUploadedFile("工具.exe", b"MZ\x90\x00" + b"\x00" * 60, content_type="application/octet-stream")
    bad = errors(api.post(answer, {"version": 1, "text": "已整改", "files": [exe]}, format="multipart"))
    assert list(bad) == ["files"] and "工具.exe" in bad["files"][0] and HAN.search(bad["files"][0])
    assert refused(api.post(answer, {"text": "已整改", "files": [pdf()]}, format="multipart"), 428)
    notice.refresh_from_db()
    assert notice.state == NoticeState.ISSUED and notice.answer_update is None and steps_of(notice) == ["issue"]

    # answered without acknowledging first: acknowledged by the answer
    done = api.post(answer, {"version": 1, "text": "已整改", "files": [pdf()]}, format="multipart")
    assert done.status_code == 200, done.content
    assert done.json()["state"] == NoticeState.ANSWERED and done.json()["acknowledged_at"]
    stale = refused(api.post(answer, {"version": 1, "text": "再次反馈", "files": [pdf()]}, format="multipart"), 409)
    assert stale["current"]["state"] == NoticeState.ANSWERED and stale["current"]["answer"] == "已整改"
    assert steps_of(notice) == ["issue", "answer"]


def test_a_red_notice_asks_for_a_corrective_plan(api, task, supervisor, staff_a, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    red = issue_by_hand(task.pk, supervisor, level=Level.RED, requirements="限期整改", wants_evidence=False)
    as_user(api, staff_a)
    answer = url("notices", red, "answer")
    assert errors(api.post(answer, {"version": 1, "text": "已整改"}, format="json")) == {
        "plan": ["该督办单要求报送整改计划。"]
    }
    done = api.post(answer, {"version": 1, "text": "已整改", "plan": "十二月底前完成"}, format="json")
    assert done.status_code == 200 and done.json()["answer_plan"] == "十二月底前完成"


def test_the_office_decides_on_the_notices_of_tasks_it_covers(api, notice, staff_a, supervisor, supervisor_outside):
    decide = url("notices", notice, "decide")
    as_user(api, staff_a)  # the policy: the office decides
    refused(api.post(decide, {"decision": "close", "version": 1}, format="json"))
    as_user(api, supervisor_outside)  # another office: not its task
    refused(api.post(decide, {"decision": "close", "version": 1}, format="json"), 404)
    as_user(api, supervisor)
    assert "decision" in errors(api.post(decide, {"decision": "approve", "version": 1}, format="json"))
    assert refused(api.post(decide, {"decision": "close"}, format="json"), 428)
    # nothing to return before an answer
    early = errors(api.post(decide, {"decision": "return", "comment": "补充", "version": 1}, format="json"))
    assert early == {"non_field_errors": ["该事项当前为“已发出”，不能“退回反馈”。"]}
    notice.refresh_from_db()
    assert notice.state == NoticeState.ISSUED and steps_of(notice) == ["issue"]


@pytest.fixture
def answered(notice, staff_a, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    evidence = [EvidenceInput(uploaded, kind) for uploaded, kind in check_evidence_files([pdf()])]
    return notice_service.answer(notice.pk, staff_a, version=notice.version, text="已整改", evidence=evidence)


def test_an_answer_is_returned_with_a_comment_then_the_notice_cancelled_with_a_reason(api, answered, supervisor):
    decide = url("notices", answered, "decide")
    as_user(api, supervisor)
    version = answered.version
    assert errors(api.post(decide, {"decision": "return", "version": version}, format="json")) == {
        "comment": ["请写明意见或要求。"]
    }
    returned = api.post(decide, {"decision": "return", "version": version, "comment": "佐证不足"}, format="json")
    assert returned.status_code == 200 and returned.json()["state"] == NoticeState.ACKNOWLEDGED
    stale = refused(api.post(decide, {"decision": "close", "version": version}, format="json"), 409)
    assert stale["current"]["state"] == NoticeState.ACKNOWLEDGED
    version = returned.json()["version"]
    assert errors(api.post(decide, {"decision": "cancel", "version": version}, format="json")) == {
        "comment": ["请写明意见或要求。"]
    }
    cancelled = api.post(decide, {"decision": "cancel", "version": version, "comment": "重复下发"}, format="json")
    assert cancelled.status_code == 200, cancelled.content
    assert cancelled.json()["state"] == NoticeState.CANCELLED and cancelled.json()["cancel_reason"] == "重复下发"
    assert steps_of(answered) == ["issue", "answer", "return", "cancel"]
    assert Step.objects.get(notice=answered, action=Action.CANCEL).comment == "重复下发"


# --- 催办 ------------------------------------------------------------------------------------


def test_an_urge_is_sent_by_the_office_or_a_leader_and_answered_by_the_lead(
    api, task, other_task, supervisor, leader, staff_a, staff_b, staff_outside, django_capture_on_commit_callbacks
):
    body = {"task": task.pk, "message": "请本周内报送进展"}
    as_user(api, staff_a)  # the policy: staff do not urge
    refused(api.post(url("urges"), body, format="json"))
    as_user(api, supervisor)
    refused(api.post(url("urges"), {**body, "task": other_task.pk}, format="json"), 404)
    assert errors(api.post(url("urges"), {**body, "message": ""}, format="json")) == {"message": ["请填写催办内容。"]}
    past = api.post(url("urges"), {**body, "reply_by": YESTERDAY.isoformat()}, format="json")
    assert errors(past) == {"reply_by": ["答复时限不能早于今天。"]}
    assert not Urge.objects.exists()

    as_user(api, leader)
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post(url("urges"), {**body, "reply_by": NEXT_WEEK.isoformat()}, format="json")
    assert created.status_code == 201, created.content
    urge = Urge.objects.get()
    assert created["Location"] == f"/api/v1/urges/{urge.pk}/"
    assert created.json()["state"] == UrgeState.OPEN and created.json()["issued_by"] == leader.pk
    assert created.json()["actions"] == [] and steps_of(urge) == ["urge"]
    assert Delivery.objects.filter(rule=Rule.ESCALATION, recipient=staff_a).exists()

    reply = url("urges", urge, "reply")
    as_user(api, leader)  # the policy: staff reply
    refused(api.post(reply, {"version": 1, "answer": "x"}, format="json"))
    as_user(api, staff_outside)
    refused(api.post(reply, {"version": 1, "answer": "x"}, format="json"), 404)
    as_user(api, staff_b)  # a co-owner, not urged
    assert refused(api.post(reply, {"version": 1, "answer": "x"}, format="json"))["detail"] == "您无权答复该催办。"
    as_user(api, staff_a)
    assert api.get(url("urges", urge)).json()["actions"] == ["reply"]
    refused(api.post(reply, {"answer": "本周五前报送"}, format="json"), 428)
    assert errors(api.post(reply, {"version": 1, "answer": " "}, format="json")) == {"answer": ["请填写答复内容。"]}
    done = api.post(reply, {"version": 1, "answer": "本周五前报送"}, format="json")
    assert done.status_code == 200, done.content
    assert done.json()["state"] == UrgeState.ANSWERED and done.json()["answer"] == "本周五前报送"
    assert done.json()["answered_by"] == staff_a.pk
    assert refused(api.post(reply, {"version": 1, "answer": "再答一次"}, format="json"), 409)["code"] == (
        "stale_decision"
    )
    assert steps_of(urge) == ["urge", "reply"]


def test_an_urge_sent_to_the_co_owners_too_is_theirs_to_answer(api, task, supervisor, staff_b):
    as_user(api, supervisor)
    created = api.post(url("urges"), {"task": task.pk, "message": "请配合报送", "to_co_owners": True}, format="json")
    assert created.status_code == 201 and created.json()["to_co_owners"] is True
    as_user(api, staff_b)
    urge = Urge.objects.get()
    done = api.post(url("urges", urge, "reply"), {"version": urge.version, "answer": "已配合"}, format="json")
    assert done.status_code == 200 and done.json()["state"] == UrgeState.ANSWERED


def test_an_urge_sent_twice_with_one_idempotency_key_is_written_once(api, task, supervisor):
    as_user(api, supervisor)
    body = {"task": task.pk, "message": "请加快"}
    first = api.post(url("urges"), body, format="json", HTTP_IDEMPOTENCY_KEY="urge-1")
    again = api.post(url("urges"), body, format="json", HTTP_IDEMPOTENCY_KEY="urge-1")
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"] and Urge.objects.count() == 1


# --- 批示 ------------------------------------------------------------------------------------


def test_an_instruction_is_given_responded_to_returned_and_settled(
    api, task, other_task, notice, commission, leader, supervisor, staff_a, staff_b, django_capture_on_commit_callbacks
):
    body = {"task": task.pk, "text": "抓紧落实，月底前办结", "respond_by": NEXT_WEEK.isoformat()}
    for user in (supervisor, staff_a):  # the policy: leaders instruct
        as_user(api, user)
        refused(api.post(url("instructions"), body, format="json"))
    as_user(api, leader)
    refused(api.post(url("instructions"), {**body, "task": other_task.pk}, format="json"), 404)
    assert errors(api.post(url("instructions"), {**body, "text": ""}, format="json")) == {"text": ["请填写批示内容。"]}
    assert errors(api.post(url("instructions"), {"task": task.pk, "text": "抓紧"}, format="json")) == {
        "respond_by": ["请填写反馈时限。"]
    }
    past = api.post(url("instructions"), {**body, "respond_by": YESTERDAY.isoformat()}, format="json")
    assert errors(past) == {"respond_by": ["反馈时限不能早于今天。"]}
    far_notice = issue_by_hand(
        make_task(task.plan, task.section, "3", lead=staff_a.agency).pk, supervisor, level=Level.BLUE, requirements="x"
    )
    wrong = api.post(url("instructions"), {**body, "notice": far_notice.pk}, format="json")
    assert errors(wrong) == {"notice": ["该督办单不属于此任务。"]}
    assert not Instruction.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        created = api.post(url("instructions"), {**body, "notice": notice.pk}, format="json")
    assert created.status_code == 201, created.content
    instruction = Instruction.objects.get()
    assert created["Location"] == f"/api/v1/instructions/{instruction.pk}/"
    assert created.json()["notice"] == notice.pk and created.json()["state"] == InstructionState.OPEN
    assert created.json()["actions"] == ["settle"]  # its author may settle it at once
    assert Delivery.objects.filter(rule=Rule.ESCALATION, recipient=staff_a).exists()

    respond = url("instructions", instruction, "respond")
    as_user(api, leader)  # the policy: staff respond
    refused(api.post(respond, {"version": 1, "response": "x"}, format="json"))
    as_user(api, staff_b)  # a co-owner's staff
    assert refused(api.post(respond, {"version": 1, "response": "x"}, format="json"))["detail"] == (
        "您无权反馈该批示的落实情况。"
    )
    as_user(api, staff_a)
    assert errors(api.post(respond, {"version": 1}, format="json")) == {"response": ["请填写落实情况。"]}
    refused(api.post(respond, {"response": "已落实"}, format="json"), 428)
    done = api.post(respond, {"version": 1, "response": "已召开专题会"}, format="json")
    assert done.status_code == 200 and done.json()["state"] == InstructionState.RESPONDED
    assert refused(api.post(respond, {"version": 1, "response": "再报"}, format="json"), 409)["current"]["state"] == (
        InstructionState.RESPONDED
    )

    conclude = url("instructions", instruction, "conclude")
    as_user(api, staff_a)  # the policy: leaders conclude
    refused(api.post(conclude, {"version": 2, "decision": "settle"}, format="json"))
    as_user(api, make_user("leader_two", Role.LEADER, commission))  # a leader, not its author
    assert refused(api.post(conclude, {"version": 2, "decision": "settle"}, format="json"))["detail"] == (
        "只有作出批示的领导可以办结或退回批示。"
    )
    as_user(api, leader)
    assert "decision" in errors(api.post(conclude, {"version": 2, "decision": "close"}, format="json"))
    assert errors(api.post(conclude, {"version": 2, "decision": "return"}, format="json")) == {
        "comment": ["请写明意见或要求。"]
    }
    returned = api.post(conclude, {"version": 2, "decision": "return", "comment": "请补充进度"}, format="json")
    assert returned.status_code == 200 and returned.json()["state"] == InstructionState.OPEN

    as_user(api, staff_a)
    again = api.post(respond, {"version": 3, "response": "已补充"}, format="json")
    assert again.status_code == 200 and again.json()["state"] == InstructionState.RESPONDED
    as_user(api, leader)
    settled = api.post(conclude, {"decision": "settle"}, format="json", HTTP_IF_MATCH=again["ETag"])
    assert settled.status_code == 200, settled.content
    assert settled.json()["state"] == InstructionState.SETTLED and settled.json()["settled_at"]
    assert refused(api.post(conclude, {"version": 4, "decision": "settle"}, format="json"), 409)
    assert steps_of(instruction) == ["instruct", "respond", "return", "respond", "settle"]


# --- Query counts -----------------------------------------------------------------------------


def _fill(plan, section, lead, co, supervisor, leader, staff, start, stop):
    for k in range(start, stop):
        task = make_task(plan, section, f"q{k}", lead=lead, co_owners=[co], due_on=datetime.date(2026, 12, 31))
        notice = issue_by_hand(task.pk, supervisor, level=Level.BLUE, requirements="请加快")
        notice_service.acknowledge(notice.pk, staff, version=notice.version)
        urge = urge_service.urge(task.pk, supervisor, message="请报送", to_co_owners=bool(k % 2))
        urge_service.reply(urge.pk, staff, version=urge.version, answer="已报送")
        urge_service.instruct(task.pk, leader, text="抓紧", respond_by=NEXT_WEEK, notice_id=notice.pk)


def _queries(api, path) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as captured:
        response = api.get(path, {"page_size": 100})
    assert response.status_code == 200, response.content
    return len(captured.captured_queries), response.json()["count"]


@pytest.mark.parametrize("kind", ["notices", "urges", "instructions"])
@pytest.mark.parametrize("persona", ["supervisor", "leader", "staff_a"])
def test_the_lists_run_a_bounded_number_of_queries(
    api, request, plan, section, agency_a, agency_b, supervisor, leader, staff_a, kind, persona
):
    fill = (plan, section, agency_a, agency_b, supervisor, leader, staff_a)
    _fill(*fill, 0, 3)
    as_user(api, request.getfixturevalue(persona))
    small, small_count = _queries(api, url(kind))
    _fill(*fill, 3, 20)
    large, large_count = _queries(api, url(kind))
    assert (small_count, large_count) == (3, 20)
    assert large == small <= 14, (small, large)


# --- The schema -------------------------------------------------------------------------------


def test_the_schema_describes_the_endpoints_without_warnings(tmp_path):
    import yaml

    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(target), "--validate", "--fail-on-warn")
    schema = yaml.safe_load(target.read_text())
    paths = schema["paths"]
    for path, methods in {
        "/api/v1/notices/": {"get", "post"},
        "/api/v1/notices/{id}/": {"get"},
        "/api/v1/notices/{id}/acknowledge/": {"post"},
        "/api/v1/notices/{id}/answer/": {"post"},
        "/api/v1/notices/{id}/decide/": {"post"},
        "/api/v1/urges/": {"get", "post"},
        "/api/v1/urges/{id}/": {"get"},
        "/api/v1/urges/{id}/reply/": {"post"},
        "/api/v1/instructions/": {"get", "post"},
        "/api/v1/instructions/{id}/": {"get"},
        "/api/v1/instructions/{id}/respond/": {"post"},
        "/api/v1/instructions/{id}/conclude/": {"post"},
    }.items():
        assert set(paths[path]) == methods, path
    answer = paths["/api/v1/notices/{id}/answer/"]["post"]
    assert set(answer["requestBody"]["content"]) == {"application/json", "multipart/form-data"}
    assert {"200", "400", "403", "404", "409", "412", "428"} <= set(answer["responses"])
    assert {p["name"] for p in answer["parameters"] if p["in"] == "header"} == {"If-Match", "Idempotency-Key"}
    filters = {p["name"] for p in paths["/api/v1/notices/"]["get"]["parameters"]}
    assert {"level", "state", "agency_id", "agency", "plan_id", "plan", "task_id", "overdue"} <= filters
    components = schema["components"]["schemas"]
    assert components["NoticeLevelEnum"]["enum"] == [level.value for level in Level]
    assert set(components["NoticeRequest"]["required"]) == {"task", "level", "requirements"}
