"""The supervision loop through the API: who lists what, a report's cycle (submit, sign-off,
return, resubmit, accept), a close-out decided, a delay approved with a named date, one of
two decisions on the same version refused with 409, refusals by role (403) and by scope
(404), and lists whose query count does not grow with their rows."""

import datetime

import pytest
import time_machine

from supervision import closeout, reports, requests
from supervision.choices import CloseOutState, ReportState, RequestKind, RequestState
from supervision.models import Transition
from tasks.choices import TaskStatus
from tests.api.conftest import NOW, as_user, ids
from tests.conftest import make_task
from workplans.choices import PlanStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def active(task):
    plan = task.plan
    plan.status = PlanStatus.ACTIVE
    plan.requires_unit_signoff = True
    plan.requests_need_unit_signoff = False
    plan.save()
    task.refresh_from_db()
    return task


def submit_body(task, **extra):
    task.refresh_from_db()
    return {
        "task": task.pk,
        "task_version": task.version,
        "progress": "完成调研",
        "problems": "人手不足",
        "next_steps": "下月完成",
        "status": TaskStatus.IN_PROGRESS,
        "percent": 40,
        **extra,
    }


def tag(kind, obj):
    obj.refresh_from_db()
    return f'"{kind}-{obj.pk}-v{obj.version}"'


# --- Lists and scope ------------------------------------------------------------------------


def test_lists_show_each_person_only_the_objects_of_tasks_they_may_open(
    api, active, staff_a, staff_b, leader, supervisor, admin_user, staff_outside
):
    report = reports.submit_report(active.pk, staff_a, version=None, **_service_body(active))
    for user, seen in [
        (staff_a, True),
        (staff_b, True),  # co-owner of the task
        (leader, True),
        (supervisor, True),
        (admin_user, True),
        (staff_outside, False),
    ]:
        as_user(api, user)
        assert ids(api.get("/api/v1/reports/")) == ({report.pk} if seen else set()), user.username
        threads = ids(api.get("/api/v1/transitions/", {"task_id": active.pk}))
        assert bool(threads) == seen, user.username
        detail = api.get(f"/api/v1/reports/{report.pk}/")
        assert detail.status_code == (200 if seen else 404), user.username


def test_filters_narrow_the_lists(api, active, staff_a):
    report = reports.submit_report(active.pk, staff_a, version=None, **_service_body(active))
    as_user(api, staff_a)
    assert ids(api.get("/api/v1/reports/", {"task_id": active.pk})) == {report.pk}
    assert ids(api.get("/api/v1/reports/", {"plan_id": active.plan_id, "state": "pending_signoff"})) == {report.pk}
    assert ids(api.get("/api/v1/reports/", {"state": "accepted"})) == set()
    assert ids(api.get("/api/v1/reports/", {"period_start": report.period_start.isoformat()})) == {report.pk}
    assert ids(api.get("/api/v1/transitions/", {"subject": "close_out"})) == set()
    bad = api.get("/api/v1/reports/", {"task_id": "x"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"


def _service_body(task):
    task.refresh_from_db()
    return {
        "task_version": task.version,
        "progress": "完成调研",
        "problems": "人手不足",
        "next_steps": "下月完成",
        "status": TaskStatus.IN_PROGRESS,
        "percent": 40,
    }


# --- A report's cycle -------------------------------------------------------------------------


def test_a_report_goes_round_the_loop_through_the_api(api, active, staff_a, leader, supervisor):
    # a draft first, then the submission
    as_user(api, staff_a)
    draft = api.post("/api/v1/reports/", {"task": active.pk, "progress": "草稿"}, format="json")
    assert draft.status_code == 201, draft.content
    assert draft.json()["state"] == ReportState.DRAFT and draft["ETag"] == draft.json()["etag"]
    report_id, version = draft.json()["id"], draft.json()["version"]
    again = api.post("/api/v1/reports/", {"task": active.pk, "version": version, "progress": "草稿2"}, format="json")
    assert again.status_code == 200 and again.json()["progress"] == "草稿2"
    sent = api.post("/api/v1/reports/submit/", submit_body(active, version=again.json()["version"]), format="json")
    assert sent.status_code == 200, sent.content
    assert sent.json()["state"] == ReportState.PENDING_SIGNOFF and sent.json()["revision"] == 1

    # the unit head signs off, with the ETag
    as_user(api, leader)
    signed = api.post(
        f"/api/v1/reports/{report_id}/sign-off/", {"approve": True}, format="json", HTTP_IF_MATCH=sent["ETag"]
    )
    assert signed.status_code == 200, signed.content
    assert signed.json()["state"] == ReportState.PENDING_REVIEW
    assert signed.json()["actions"] == []  # the leader does not review

    # the supervision office returns it with requirements (version in the body)
    as_user(api, supervisor)
    assert api.get(f"/api/v1/reports/{report_id}/").json()["actions"] == ["accept", "return"]
    returned = api.post(
        f"/api/v1/reports/{report_id}/review/",
        {"accept": False, "requirements": "补充佐证", "version": signed.json()["version"]},
        format="json",
    )
    assert returned.status_code == 200, returned.content
    assert returned.json()["state"] == ReportState.RETURNED and returned.json()["requirements"] == "补充佐证"

    # resubmitted, signed off again, accepted
    as_user(api, staff_a)
    resent = api.post(
        "/api/v1/reports/submit/",
        submit_body(active, version=returned.json()["version"], progress="补充了材料", percent=45),
        format="json",
    )
    assert resent.status_code == 200, resent.content
    assert resent.json()["revision"] == 2
    as_user(api, leader)
    signed = api.post(f"/api/v1/reports/{report_id}/sign-off/", {"approve": True, "version": resent.json()["version"]})
    assert signed.status_code == 200, signed.content
    as_user(api, supervisor)
    accepted = api.post(
        f"/api/v1/reports/{report_id}/review/", {"accept": True}, format="json", HTTP_IF_MATCH=signed["ETag"]
    )
    assert accepted.status_code == 200, accepted.content
    body = accepted.json()
    assert body["state"] == ReportState.ACCEPTED and body["actions"] == []
    assert [r["number"] for r in body["revisions"]] == [1, 2]
    assert [t["action"] for t in body["transitions"]] == [
        "submit",
        "sign_off",
        "return",
        "submit",
        "sign_off",
        "accept",
    ]


def test_two_decisions_on_the_same_version_one_gets_409_with_the_current_report(api, active, staff_a, leader):
    report = reports.submit_report(active.pk, staff_a, version=None, **_service_body(active))
    seen = tag("report", report)
    as_user(api, leader)
    first = api.post(f"/api/v1/reports/{report.pk}/sign-off/", {"approve": True}, format="json", HTTP_IF_MATCH=seen)
    assert first.status_code == 200
    second = api.post(
        f"/api/v1/reports/{report.pk}/sign-off/",
        {"approve": False, "comment": "重写"},
        format="json",
        HTTP_IF_MATCH=seen,
    )
    assert second.status_code == 409, second.content
    body = second.json()
    assert body["code"] == "stale_decision"
    assert body["current"]["state"] == ReportState.PENDING_REVIEW
    assert second["ETag"] == first["ETag"]
    # the same with the version in the body
    stale = api.post(
        f"/api/v1/reports/{report.pk}/sign-off/", {"approve": True, "version": report.version}, format="json"
    )
    assert stale.status_code == 409


def test_a_decision_needs_a_version_and_a_tag_of_this_object(api, active, staff_a, leader):
    report = reports.submit_report(active.pk, staff_a, version=None, **_service_body(active))
    as_user(api, leader)
    missing = api.post(f"/api/v1/reports/{report.pk}/sign-off/", {"approve": True}, format="json")
    assert missing.status_code == 428
    other = api.post(
        f"/api/v1/reports/{report.pk}/sign-off/",
        {"approve": True},
        format="json",
        HTTP_IF_MATCH=f'"task-{active.pk}-v1"',
    )
    assert other.status_code == 412


def test_a_return_without_requirements_is_400_with_the_field(api, active, staff_a, leader):
    report = reports.submit_report(active.pk, staff_a, version=None, **_service_body(active))
    as_user(api, leader)
    response = api.post(
        f"/api/v1/reports/{report.pk}/sign-off/", {"approve": False, "version": report.version}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and "comment" in response.json()["errors"]


def test_refusals_by_role_and_by_object(api, active, staff_a, staff_b, leader, supervisor, staff_outside):
    report = reports.submit_report(active.pk, staff_a, version=None, **_service_body(active))
    # the policy: a supervisor does not sign off, staff do not review
    as_user(api, supervisor)
    assert api.post(f"/api/v1/reports/{report.pk}/sign-off/", {"approve": True, "version": 1}).status_code == 403
    as_user(api, staff_a)
    assert api.post(f"/api/v1/reports/{report.pk}/review/", {"accept": True, "version": 1}).status_code == 403
    # the object's rule: the co-owner's staff may not submit the lead's report, nor its author sign it off
    as_user(api, staff_b)
    refused = api.post("/api/v1/reports/", {"task": active.pk, "progress": "配合单位写的"}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    as_user(api, staff_a)
    own = api.post(
        f"/api/v1/reports/{report.pk}/sign-off/", {"approve": True, "version": report.version}, format="json"
    )
    assert own.status_code == 403
    # not in scope: 404, whatever the role may do
    as_user(api, staff_outside)
    assert api.post("/api/v1/reports/submit/", submit_body(active), format="json").status_code == 404
    assert api.post(f"/api/v1/reports/{report.pk}/sign-off/", {"approve": True, "version": 1}).status_code == 404
    assert api.get(f"/api/v1/reports/{report.pk}/").status_code == 404


# --- Co-owners' input ---------------------------------------------------------------------------


def test_a_co_owner_saves_and_submits_its_input(api, active, staff_a, staff_b):
    as_user(api, staff_b)
    draft = api.post("/api/v1/co-inputs/", {"task": active.pk, "text": "配合调研"}, format="json")
    assert draft.status_code == 201, draft.content
    sent = api.post(
        "/api/v1/co-inputs/submit/", {"task": active.pk, "text": "完成配合", "version": draft.json()["version"]}
    )
    assert sent.status_code == 200, sent.content
    assert sent.json()["state"] == "submitted" and sent.json()["agency"] == staff_b.agency_id
    as_user(api, staff_a)
    assert ids(api.get("/api/v1/co-inputs/", {"task_id": active.pk})) == {sent.json()["id"]}
    refused = api.post("/api/v1/co-inputs/submit/", {"task": active.pk, "text": "牵头单位"}, format="json")
    assert refused.status_code == 403


# --- Close-out ----------------------------------------------------------------------------------


def test_a_close_out_is_requested_rejected_requested_again_and_approved(api, active, staff_a, supervisor, leader):
    as_user(api, staff_a)
    filed = api.post(
        "/api/v1/close-outs/", {"task": active.pk, "task_version": active.version, "summary": "全部完成"}, format="json"
    )
    assert filed.status_code == 201, filed.content
    close_out = filed.json()
    assert close_out["state"] == CloseOutState.PENDING and filed["Location"].endswith(f"/{close_out['id']}/")

    as_user(api, supervisor)
    rejected = api.post(
        f"/api/v1/close-outs/{close_out['id']}/decide/",
        {"approve": False, "requirements": "缺少验收报告"},
        format="json",
        HTTP_IF_MATCH=filed["ETag"],
    )
    assert rejected.status_code == 200, rejected.content
    assert rejected.json()["state"] == CloseOutState.REJECTED
    active.refresh_from_db()
    assert active.status == TaskStatus.IN_PROGRESS

    as_user(api, staff_a)
    filed = api.post(
        "/api/v1/close-outs/", {"task": active.pk, "task_version": active.version, "summary": "补齐验收"}, format="json"
    )
    assert filed.status_code == 201
    as_user(api, supervisor)
    unchecked = api.post(
        f"/api/v1/close-outs/{filed.json()['id']}/decide/",
        {"approve": True, "version": filed.json()["version"]},
        format="json",
    )
    assert unchecked.status_code == 400 and "checklist" in unchecked.json()["errors"]
    approved = api.post(
        f"/api/v1/close-outs/{filed.json()['id']}/decide/",
        {
            "approve": True,
            "evidence_checked": True,
            "milestones_checked": True,
            "indicators_checked": True,
            "version": filed.json()["version"],
        },
        format="json",
    )
    assert approved.status_code == 200, approved.content
    assert approved.json()["state"] == CloseOutState.APPROVED
    task = api.get(f"/api/v1/tasks/{active.pk}/").json()
    assert task["status"] == TaskStatus.CLOSED and task["completed_on"] is not None

    # a leader reopens it with a reason; staff may not
    as_user(api, staff_a)
    assert api.post("/api/v1/close-outs/reopen/", {"task": active.pk, "reason": "x"}).status_code == 403
    as_user(api, leader)
    reopened = api.post("/api/v1/close-outs/reopen/", {"task": active.pk, "reason": "验收不合格"}, format="json")
    assert reopened.status_code == 200, reopened.content
    assert reopened.json()["state"] == CloseOutState.REOPENED


def test_a_close_out_is_withdrawn_by_its_lead(api, active, staff_a, staff_b):
    close_out = closeout.request_close_out(active.pk, staff_a, task_version=active.version, summary="完成")
    as_user(api, staff_b)
    assert api.post(f"/api/v1/close-outs/{close_out.pk}/withdraw/", {"version": close_out.version}).status_code == 403
    as_user(api, staff_a)
    response = api.post(f"/api/v1/close-outs/{close_out.pk}/withdraw/", {"version": close_out.version})
    assert response.status_code == 200 and response.json()["state"] == CloseOutState.WITHDRAWN


# --- Delay and change requests --------------------------------------------------------------------


def test_a_delay_is_approved_with_a_named_date_and_the_baseline_stays(api, active, staff_a, supervisor):
    as_user(api, staff_a)
    filed = api.post(
        "/api/v1/change-requests/",
        {"task": active.pk, "kind": RequestKind.DELAY, "reason": "征地延误", "proposed_due_on": "2027-03-31"},
        format="json",
    )
    assert filed.status_code == 201, filed.content
    assert filed.json()["state"] == RequestState.PENDING_SUPERVISOR and filed.json()["steps"] == ["supervisor"]

    as_user(api, supervisor)
    decided = api.post(
        f"/api/v1/change-requests/{filed.json()['id']}/decide/",
        {"approve": True, "approved_due_on": "2027-02-28", "comment": "同意延至二月底"},
        format="json",
        HTTP_IF_MATCH=filed["ETag"],
    )
    assert decided.status_code == 200, decided.content
    assert decided.json()["state"] == RequestState.APPROVED and decided.json()["approved_due_on"] == "2027-02-28"
    task = api.get(f"/api/v1/tasks/{active.pk}/").json()
    assert task["due_on"] == "2027-02-28" and task["baseline_due_on"] == "2026-12-31"
    assert task["completed_on"] is None

    # the same version again: someone decided first
    again = api.post(
        f"/api/v1/change-requests/{filed.json()['id']}/decide/",
        {"approve": False, "comment": "x"},
        format="json",
        HTTP_IF_MATCH=filed["ETag"],
    )
    assert again.status_code == 409 and again.json()["current"]["state"] == RequestState.APPROVED


def test_a_request_with_a_date_out_of_range_is_400(api, active, staff_a):
    as_user(api, staff_a)
    response = api.post(
        "/api/v1/change-requests/",
        {"task": active.pk, "kind": RequestKind.DELAY, "reason": "x", "proposed_due_on": "2026-01-01"},
        format="json",
    )
    assert response.status_code == 400 and "proposed_due_on" in response.json()["errors"]


def test_a_request_is_withdrawn_and_refused_to_others(api, active, staff_a, supervisor, staff_outside):
    change = requests.file_request(
        active.pk, staff_a, kind=RequestKind.WORDING, reason="表述调整", proposed_text="年内组建3个城市医疗集团。"
    )
    as_user(api, staff_outside)
    assert api.post(f"/api/v1/change-requests/{change.pk}/withdraw/", {"version": 1}).status_code == 404
    as_user(api, supervisor)
    assert api.post(f"/api/v1/change-requests/{change.pk}/withdraw/", {"version": 1}).status_code == 403
    as_user(api, staff_a)
    response = api.post(f"/api/v1/change-requests/{change.pk}/withdraw/", {"version": change.version})
    assert response.status_code == 200 and response.json()["state"] == RequestState.WITHDRAWN


def test_baselines_are_in_the_task_and_indicator_api(api, active, staff_a):
    from indicators.models import Indicator
    from tasks.models import Milestone

    Milestone.objects.create(task=active, due_on=datetime.date(2026, 12, 1), text="节点")
    indicator = Indicator.objects.create(plan=active.plan, task=active, name="集团数", target=2, unit="个")
    as_user(api, staff_a)
    task = api.get(f"/api/v1/tasks/{active.pk}/").json()
    assert task["baseline_due_on"] == "2026-12-31" and task["milestones"][0]["baseline_due_on"] == "2026-12-01"
    assert api.get(f"/api/v1/indicators/{indicator.pk}/").json()["baseline_target"] == "2.0000"


# --- Query counts -------------------------------------------------------------------------------


def _fill(active, staff_a, start, stop):
    # a minute apart, each within the reporting quota (tasks.quotas)
    for k in range(start, stop):
        with time_machine.travel(NOW - datetime.timedelta(minutes=60 - k), tick=False):
            _fill_one(active, staff_a, k)


def _fill_one(active, staff_a, k):
    task = make_task(
        active.plan,
        active.section,
        f"q{k}",
        lead=staff_a.agency,
        due_on=datetime.date(2026, 12, 31),
    )
    reports.submit_report(task.pk, staff_a, version=None, **_service_body(task))
    closeout.request_close_out(task.pk, staff_a, task_version=task.version + 1, summary="完成")
    requests.file_request(task.pk, staff_a, kind=RequestKind.WORDING, reason="调整", proposed_text=f"新内容{k}")


@pytest.mark.parametrize("endpoint", ["reports", "co-inputs", "close-outs", "change-requests", "transitions"])
def test_the_lists_run_a_bounded_number_of_queries(
    api, active, staff_a, supervisor, endpoint, django_assert_max_num_queries
):
    _fill(active, staff_a, 0, 3)
    as_user(api, supervisor)
    with django_assert_max_num_queries(14) as small:
        assert api.get(f"/api/v1/{endpoint}/", {"page_size": 100}).status_code == 200
    _fill(active, staff_a, 3, 15)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = api.get(f"/api/v1/{endpoint}/", {"page_size": 100})
    assert response.status_code == 200
    if endpoint != "co-inputs":
        assert response.json()["count"] >= 15
    assert Transition.objects.count() >= 45
