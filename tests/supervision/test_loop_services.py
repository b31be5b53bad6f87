"""The supervision loop's services end to end, without pages: a cycle's report through
sign-off and review, co-owner input, close-out, and a delay request up its chain."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.roles import Role
from supervision import closeout, reports, requests
from supervision.choices import CloseOutState, ReportState, RequestKind, RequestState
from supervision.machine import StaleDecision
from supervision.models import Transition
from tasks.choices import TaskStatus
from tests.fixtures.accounts import make_user
from workplans.choices import PlanStatus

TODAY = datetime.date(2026, 6, 10)

pytestmark = pytest.mark.django_db


@pytest.fixture
def active_task(task):
    task.plan.status = PlanStatus.ACTIVE
    task.plan.requires_unit_signoff = True
    task.plan.save()
    return task


@pytest.fixture
def head_a(agency_a):
    return make_user("head_a", Role.LEADER, agency_a)


def test_report_signed_off_returned_resubmitted_accepted(active_task, staff_a, head_a, supervisor):
    report = reports.submit_report(
        active_task.pk,
        staff_a,
        version=None,
        task_version=active_task.version,
        progress="完成调研",
        status=TaskStatus.IN_PROGRESS,
        percent=40,
        today=TODAY,
    )
    assert report.state == ReportState.PENDING_SIGNOFF
    with pytest.raises(ValidationError):  # not the supervisor's turn yet
        reports.review(report.pk, supervisor, version=report.version, accept=True)
    with pytest.raises(PermissionDenied):  # nor anyone's but the unit head's
        reports.sign_off(report.pk, supervisor, version=report.version, approve=True, today=TODAY)
    reports.sign_off(report.pk, head_a, version=report.version, approve=True, today=TODAY)
    report.refresh_from_db()
    assert report.state == ReportState.PENDING_REVIEW
    assert report.decision_due_on == datetime.date(2026, 6, 15)  # 3 working days after Wed 06-10
    reports.review(report.pk, supervisor, version=report.version, accept=False, requirements="补充佐证")
    report.refresh_from_db()
    assert report.state == ReportState.RETURNED and report.requirements == "补充佐证"
    active_task.refresh_from_db()
    report = reports.submit_report(
        active_task.pk,
        staff_a,
        version=report.version,
        task_version=active_task.version,
        progress="补充了材料",
        status=TaskStatus.IN_PROGRESS,
        percent=45,
        today=TODAY,
    )
    assert report.revision == 2 and report.state == ReportState.PENDING_SIGNOFF
    reports.sign_off(report.pk, head_a, version=report.version, approve=True, today=TODAY)
    report.refresh_from_db()
    reports.review(report.pk, supervisor, version=report.version, accept=True)
    report.refresh_from_db()
    assert report.state == ReportState.ACCEPTED
    assert report.revisions.count() == 2
    assert Transition.objects.filter(report=report).count() == 6


def test_two_decisions_on_one_report_one_wins(active_task, staff_a, head_a, supervisor):
    report = reports.submit_report(
        active_task.pk,
        staff_a,
        version=None,
        task_version=active_task.version,
        progress="p",
        problems="人手不足",
        next_steps="下月完成",
        today=TODAY,
    )
    seen = report.version
    reports.sign_off(report.pk, head_a, version=seen, approve=True, today=TODAY)
    with pytest.raises(StaleDecision):
        reports.sign_off(report.pk, head_a, version=seen, approve=False, comment="x", today=TODAY)


def test_close_out_rejected_then_approved(active_task, staff_a, supervisor):
    co = closeout.request_close_out(active_task.pk, staff_a, task_version=active_task.version, summary="全部完成")
    active_task.refresh_from_db()
    assert active_task.status == TaskStatus.DONE and co.state == CloseOutState.PENDING
    closeout.decide_close_out(co.pk, supervisor, version=co.version, approve=False, requirements="缺少验收报告")
    active_task.refresh_from_db()
    assert active_task.status == TaskStatus.IN_PROGRESS
    co = closeout.request_close_out(active_task.pk, staff_a, task_version=active_task.version, summary="补齐验收")
    with pytest.raises(ValidationError):
        closeout.decide_close_out(co.pk, supervisor, version=co.version, approve=True)
    closeout.decide_close_out(
        co.pk,
        supervisor,
        version=co.version,
        approve=True,
        evidence_checked=True,
        milestones_checked=True,
        indicators_checked=True,
    )
    active_task.refresh_from_db()
    assert active_task.status == TaskStatus.CLOSED and active_task.completed_on is not None


def test_delay_request_climbs_the_chain_and_keeps_the_baseline(active_task, staff_a, head_a, supervisor):
    baseline = active_task.due_on
    request = requests.file_request(
        active_task.pk,
        staff_a,
        kind=RequestKind.DELAY,
        reason="设备未到货",
        proposed_due_on=baseline + datetime.timedelta(days=1) if baseline.month == 12 else datetime.date(2027, 3, 31),
        today=TODAY,
    )
    assert request.state == RequestState.PENDING_UNIT and not request.filed_late
    requests.decide_request(request.pk, head_a, version=request.version, approve=True, today=TODAY)
    request.refresh_from_db()
    assert request.state == RequestState.PENDING_SUPERVISOR
    requests.decide_request(
        request.pk, supervisor, version=request.version, approve=True, approved_due_on=datetime.date(2027, 2, 28)
    )
    request.refresh_from_db()
    active_task.refresh_from_db()
    assert request.state == RequestState.APPROVED
    assert active_task.due_on == datetime.date(2027, 2, 28) and active_task.baseline_due_on == baseline


def test_a_task_left_done_without_a_close_out_can_file_one(active_task, staff_a):
    """A task 已完成 from before the loop, with no close-out (nothing said who finished it):
    its lead files one by reporting it done again."""
    from tasks.models import Task

    Task.objects.filter(pk=active_task.pk).update(status=TaskStatus.DONE, percent=100)
    active_task.refresh_from_db()
    co = closeout.request_close_out(active_task.pk, staff_a, task_version=active_task.version, summary="早已完成")
    assert co.state == CloseOutState.PENDING
    active_task.refresh_from_db()
    with pytest.raises(ValidationError):  # and only one at a time
        closeout.request_close_out(active_task.pk, staff_a, task_version=active_task.version, summary="再次")
