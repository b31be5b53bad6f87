"""The close-out (销号) pages: the lead's completion report, the supervisor's checklist
decision (reject with requirements, approve), withdrawal, a leader's reopening, the task
page's panel, and who may do what."""

import datetime

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from core.roles import Role
from indicators.models import Indicator
from supervision import closeout
from supervision.choices import CloseOutState
from supervision.closeout_views import task_panel
from supervision.models import CloseOut, Transition
from tasks.choices import TaskStatus
from tasks.models import Milestone
from tests.fixtures.accounts import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def milestone(task):
    return Milestone.objects.create(task=task, due_on=datetime.date(2026, 11, 30), text="完成全市摸底")


def _request_close_out(client, task, **extra):
    task.refresh_from_db()
    data = {"version": task.version, "summary": "全部完成", **extra}
    return client.post(reverse("supervision:closeout_new", args=[task.pk]), data)


def _decide(client, close_out, **data):
    close_out.refresh_from_db()
    return client.post(
        reverse("supervision:closeout_decide", args=[close_out.pk]), {"version": close_out.version, **data}
    )


APPROVE = {"decision": "approve", "evidence_checked": "on", "milestones_checked": "on", "indicators_checked": "on"}


def test_it_closes_out_after_a_rejection(client, task, milestone, staff_a, supervisor):
    # given: the lead reports the task done, ticking its last milestone
    client.force_login(staff_a)
    assert client.get(reverse("supervision:closeout_new", args=[task.pk])).status_code == 200
    response = _request_close_out(client, task, milestones=[str(milestone.pk)])
    close_out = CloseOut.objects.get(task=task)
    assert response.status_code == 302 and response["Location"].endswith(f"/close-outs/{close_out.pk}/")
    task.refresh_from_db()
    milestone.refresh_from_db()
    assert task.status == TaskStatus.DONE and milestone.done_on is not None

    # when: the supervisor returns it without requirements, then with them
    client.force_login(supervisor)
    page = client.get(reverse("supervision:closeout_detail", args=[close_out.pk]))
    assert page.status_code == 200 and "批准销号" in page.content.decode()
    assert 'data-testid="checklist"' in page.content.decode()
    refused = _decide(client, close_out, decision="reject", requirements="")
    assert refused.status_code == 400 and "退回时请写明整改要求" in refused.content.decode()
    close_out.refresh_from_db()
    assert close_out.state == CloseOutState.PENDING
    assert _decide(client, close_out, decision="reject", requirements="缺少验收报告").status_code == 302

    # then: the task is in progress again, and the lead may ask again
    close_out.refresh_from_db()
    task.refresh_from_db()
    assert close_out.state == CloseOutState.REJECTED and close_out.requirements == "缺少验收报告"
    assert task.status == TaskStatus.IN_PROGRESS
    client.force_login(staff_a)
    assert _request_close_out(client, task, summary="补齐验收报告").status_code == 302
    second = CloseOut.objects.get(task=task, state=CloseOutState.PENDING)

    # approving needs every checklist item ticked
    client.force_login(supervisor)
    partial = _decide(client, second, decision="approve", evidence_checked="on")
    assert partial.status_code == 400 and "请逐项核对" in partial.content.decode()
    assert _decide(client, second, **APPROVE).status_code == 302
    second.refresh_from_db()
    task.refresh_from_db()
    assert second.state == CloseOutState.APPROVED
    assert task.status == TaskStatus.CLOSED and task.completed_on == timezone.localdate()
    assert Transition.objects.filter(close_out=second).count() == 2

    # the closed task is read-only: the report form and the close-out page refuse the lead
    client.force_login(staff_a)
    report = client.post(reverse("tasks:task_report", args=[task.pk]), {"version": task.version, "note": "再补充"})
    assert report.status_code == 403
    assert client.get(reverse("supervision:closeout_new", args=[task.pk])).status_code == 403


def test_a_missed_indicator_needs_an_explanation(client, task, staff_a):
    # given: an indicator with no reading (so missed)
    indicator = Indicator.objects.create(plan=task.plan, task=task, name="基层就诊率", target=65, unit="%")
    client.force_login(staff_a)
    page = client.get(reverse("supervision:closeout_new", args=[task.pk]))
    assert 'data-testid="missed"' in page.content.decode()

    # when / then: without an explanation, refused and nothing changed
    refused = _request_close_out(client, task)
    assert refused.status_code == 400 and "请填写说明" in refused.content.decode()
    task.refresh_from_db()
    assert task.status != TaskStatus.DONE and not CloseOut.objects.exists()

    # a final reading that meets the target needs none
    today = timezone.localdate().isoformat()
    done = _request_close_out(
        client, task, **{f"reading_{indicator.pk}_value": "70", f"reading_{indicator.pk}_as_of": today}
    )
    assert done.status_code == 302
    assert CloseOut.objects.get(task=task).explanation == ""


def test_a_missed_indicator_explained_is_filed(client, task, staff_a):
    Indicator.objects.create(plan=task.plan, task=task, name="基层就诊率", target=65, unit="%")
    client.force_login(staff_a)
    assert _request_close_out(client, task, explanation="受疫情影响，已制定整改措施").status_code == 302
    assert CloseOut.objects.get(task=task).explanation == "受疫情影响，已制定整改措施"


def test_the_lead_withdraws_a_pending_close_out(client, task, staff_a):
    client.force_login(staff_a)
    _request_close_out(client, task)
    close_out = CloseOut.objects.get(task=task)
    response = client.post(
        reverse("supervision:closeout_withdraw", args=[close_out.pk]),
        {"version": close_out.version, "reason": "再完善"},
    )
    assert response.status_code == 302
    close_out.refresh_from_db()
    task.refresh_from_db()
    assert close_out.state == CloseOutState.WITHDRAWN and task.status == TaskStatus.IN_PROGRESS


def _closed(task, staff_a, supervisor):
    task.refresh_from_db()
    co = closeout.request_close_out(
        task.pk, staff_a, task_version=task.version, summary="全部完成", explanation="部分指标未达标的原因"
    )
    closeout.decide_close_out(
        co.pk,
        supervisor,
        version=co.version,
        approve=True,
        evidence_checked=True,
        milestones_checked=True,
        indicators_checked=True,
    )
    co.refresh_from_db()
    return co


def test_a_leader_reopens_a_closed_task_with_a_reason(client, task, staff_a, supervisor, leader):
    co = _closed(task, staff_a, supervisor)
    url = reverse("supervision:task_reopen", args=[task.pk])

    # staff may not
    client.force_login(staff_a)
    assert client.post(url, {"reason": "x"}).status_code == 403

    # a leader needs a reason
    client.force_login(leader)
    assert client.get(url).status_code == 200
    refused = client.post(url, {"reason": ""})
    assert refused.status_code == 400 and "请写明原因" in refused.content.decode()
    assert client.post(url, {"reason": "群众反映问题未解决"}).status_code == 302
    co.refresh_from_db()
    task.refresh_from_db()
    assert co.state == CloseOutState.REOPENED and co.reopen_reason == "群众反映问题未解决"
    assert task.status == TaskStatus.IN_PROGRESS
    # reopened, there is nothing more to reopen
    assert client.get(url).status_code == 403


def test_two_decisions_at_once_one_gets_409(client, task, staff_a, supervisor):
    client.force_login(staff_a)
    _request_close_out(client, task)
    close_out = CloseOut.objects.get(task=task)
    seen = close_out.version
    client.force_login(supervisor)
    url = reverse("supervision:closeout_decide", args=[close_out.pk])
    assert client.post(url, {"version": seen, **APPROVE}).status_code == 302
    late = client.post(url, {"version": seen, "decision": "reject", "requirements": "补充"})
    assert late.status_code == 409 and "已被他人处理" in late.content.decode()
    close_out.refresh_from_db()
    assert close_out.state == CloseOutState.APPROVED


def test_who_may_use_the_close_out_pages(client, task, staff_a, staff_b, staff_outside, leader, supervisor):
    client.force_login(staff_a)
    _request_close_out(client, task)
    close_out = CloseOut.objects.get(task=task)
    detail = reverse("supervision:closeout_detail", args=[close_out.pk])
    decide = reverse("supervision:closeout_decide", args=[close_out.pk])
    # the lead may not decide their own close-out (the policy: supervisors only)
    assert client.post(decide, {"version": close_out.version, **APPROVE}).status_code == 403
    # a co-owner sees it but may not file or withdraw
    client.force_login(staff_b)
    assert client.get(detail).status_code == 200
    assert client.get(reverse("supervision:closeout_new", args=[task.pk])).status_code == 403
    withdraw = reverse("supervision:closeout_withdraw", args=[close_out.pk])
    assert client.post(withdraw, {"version": close_out.version}).status_code == 403
    # another agency's staff: the same 404 as a close-out that does not exist
    client.force_login(staff_outside)
    assert client.get(detail).status_code == 404
    assert client.get(reverse("supervision:closeout_new", args=[task.pk])).status_code == 404
    # a leader reads, may not decide
    client.force_login(leader)
    assert client.get(detail).status_code == 200
    assert client.post(decide, {"version": close_out.version, **APPROVE}).status_code == 403
    # a supervisor outside the task's scope: 404
    client.force_login(make_user("supervisor_out", Role.SUPERVISOR, staff_outside.agency))
    assert client.post(decide, {"version": close_out.version, **APPROVE}).status_code == 404
    close_out.refresh_from_db()
    assert close_out.state == CloseOutState.PENDING


def test_the_task_panel_shows_three_dates_in_bounded_queries(
    client, task, milestone, staff_a, supervisor, django_assert_max_num_queries
):
    for n in range(3):
        Indicator.objects.create(plan=task.plan, task=task, name=f"指标{n}", target=60 + n, unit="%")
    _closed(task, staff_a, supervisor)
    task.refresh_from_db()
    request = RequestFactory().get("/")
    request.user = staff_a
    task = type(task).objects.select_related("plan").prefetch_related("task_owners").get(pk=task.pk)
    with django_assert_max_num_queries(6):
        context = task_panel(request, task)
        html = render_to_string("supervision/_task_closeout_requests.html", context)
    assert 'data-testid="baseline-due"' in html and "2026-12-31" in html
    assert timezone.localdate().strftime("%Y-%m-%d") in html  # the completion date
    assert "已销号" in html
    assert not context["closeout_panel"]["can_request_close_out"]


def test_the_close_out_page_in_bounded_queries(client, task, staff_a, supervisor, django_assert_max_num_queries):
    for n in range(5):
        Milestone.objects.create(task=task, due_on=datetime.date(2026, 12, 1 + n), text=f"节点{n}")
        Indicator.objects.create(plan=task.plan, task=task, name=f"指标{n}", target=60 + n, unit="%")
    client.force_login(staff_a)
    _request_close_out(client, task, explanation="说明")
    close_out = CloseOut.objects.get(task=task)
    client.force_login(supervisor)
    url = reverse("supervision:closeout_detail", args=[close_out.pk])
    client.get(url)  # warm the session and the per-process caches
    with django_assert_max_num_queries(30):
        assert client.get(url).status_code == 200


def test_the_task_page_shows_the_panel_and_the_lead_s_buttons(client, task, staff_a, leader, supervisor):
    url = reverse("tasks:task_detail", args=[task.pk])
    client.force_login(staff_a)
    page = client.get(url).content.decode()
    assert 'data-testid="closeout-panel"' in page
    assert reverse("supervision:closeout_new", args=[task.pk]) in page
    assert reverse("supervision:request_new", args=[task.pk]) in page
    _closed(task, staff_a, supervisor)
    client.force_login(leader)
    page = client.get(url).content.decode()
    assert reverse("supervision:task_reopen", args=[task.pk]) in page
    assert 'data-testid="completed-on"' in page
