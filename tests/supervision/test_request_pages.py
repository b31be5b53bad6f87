"""The delay and change request pages (延期/调整申请): filing, the chain with each step
naming the exact value, the leader in charge for targets, filed late, 409 and who may do
what."""

import datetime
import decimal

import pytest
from django.urls import reverse

from core.roles import Role
from indicators.models import Indicator
from supervision.choices import RequestKind, RequestState
from supervision.models import ChangeRequest
from tasks.models import Milestone
from tests.fixtures.accounts import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def head_a(agency_a):
    return make_user("head_a", Role.LEADER, agency_a)


def _file(client, task, **data):
    return client.post(reverse("supervision:request_new", args=[task.pk]), {"reason": "设备未到货", **data})


def _decide(client, change_request, **data):
    change_request.refresh_from_db()
    return client.post(
        reverse("supervision:request_decide", args=[change_request.pk]), {"version": change_request.version, **data}
    )


def test_a_delay_climbs_the_chain_and_the_approver_names_the_date(client, task, staff_a, head_a, supervisor):
    # given: the lead asks to move the task's due date
    client.force_login(staff_a)
    assert client.get(reverse("supervision:request_new", args=[task.pk])).status_code == 200
    response = _file(client, task, kind=RequestKind.DELAY, proposed_due_on="2027-03-31", progress_so_far="完成招标")
    change_request = ChangeRequest.objects.get(task=task)
    assert response.status_code == 302
    assert change_request.state == RequestState.PENDING_UNIT and not change_request.filed_late

    # when: the unit head approves (the proposal pre-filled), then the supervisor names an earlier date
    client.force_login(head_a)
    page = client.get(reverse("supervision:request_detail", args=[change_request.pk])).content.decode()
    assert 'value="2027-03-31"' in page and 'data-testid="current-step"' in page
    assert _decide(client, change_request, decision="approve", approved_due_on="2027-03-31").status_code == 302
    change_request.refresh_from_db()
    assert change_request.state == RequestState.PENDING_SUPERVISOR
    client.force_login(supervisor)
    assert _decide(client, change_request, decision="approve", approved_due_on="2027-02-28").status_code == 302

    # then: the task's current date moves, its baseline stays
    change_request.refresh_from_db()
    task.refresh_from_db()
    assert change_request.state == RequestState.APPROVED
    assert change_request.approved_due_on == datetime.date(2027, 2, 28)
    assert task.due_on == datetime.date(2027, 2, 28) and task.baseline_due_on == datetime.date(2026, 12, 31)
    page = client.get(reverse("supervision:request_detail", args=[change_request.pk])).content.decode()
    assert "2027-02-28" in page and "2027-03-31" in page and "2026-12-31" in page
    assert change_request.transitions.count() == 3


def test_a_target_change_needs_the_leader_in_charge(client, task, staff_a, head_a, supervisor, leader):
    task.plan.leader_in_charge = leader
    task.plan.save()
    indicator = Indicator.objects.create(plan=task.plan, task=task, name="基层就诊率", target=65, unit="%")
    client.force_login(staff_a)
    assert _file(client, task, kind=RequestKind.TARGET, indicator=indicator.pk, proposed_target="60").status_code == 302
    change_request = ChangeRequest.objects.get(task=task)
    client.force_login(head_a)
    _decide(client, change_request, decision="approve")
    client.force_login(supervisor)
    _decide(client, change_request, decision="approve")
    change_request.refresh_from_db()
    indicator.refresh_from_db()
    assert change_request.state == RequestState.PENDING_LEADER and indicator.target == 65
    # the supervisor cannot take the leader's step
    assert _decide(client, change_request, decision="approve").status_code == 403
    client.force_login(leader)
    assert _decide(client, change_request, decision="approve", approved_target="62").status_code == 302
    indicator.refresh_from_db()
    change_request.refresh_from_db()
    assert change_request.state == RequestState.APPROVED
    assert indicator.target == decimal.Decimal("62") and indicator.baseline_target == decimal.Decimal("65")


def test_a_request_after_the_date_is_marked_filed_late(client, task, staff_a):
    milestone = Milestone.objects.create(task=task, due_on=datetime.date(2026, 1, 31), text="完成摸底")
    client.force_login(staff_a)
    response = _file(client, task, kind=RequestKind.DELAY, milestone=milestone.pk, proposed_due_on="2027-01-31")
    assert response.status_code == 302
    change_request = ChangeRequest.objects.get(task=task)
    assert change_request.filed_late and change_request.milestone == milestone
    page = client.get(reverse("supervision:request_detail", args=[change_request.pk])).content.decode()
    assert 'data-testid="filed-late"' in page


def test_a_request_with_errors_changes_nothing(client, task, staff_a):
    client.force_login(staff_a)
    refused = _file(client, task, kind=RequestKind.DELAY, proposed_due_on="2026-06-30")
    assert refused.status_code == 400 and "应晚于现时限" in refused.content.decode()
    refused = _file(client, task, kind=RequestKind.WORDING, proposed_text="", reason="")
    assert refused.status_code == 400 and "请写明申请理由" in refused.content.decode()
    assert not ChangeRequest.objects.exists()


def test_a_rejection_needs_a_comment_and_the_lead_may_withdraw(client, task, staff_a, head_a):
    client.force_login(staff_a)
    _file(client, task, kind=RequestKind.WORDING, proposed_text="调整后的任务内容")
    change_request = ChangeRequest.objects.get(task=task)
    client.force_login(head_a)
    refused = _decide(client, change_request, decision="reject", comment="")
    assert refused.status_code == 400 and "不予批准时请写明理由" in refused.content.decode()
    change_request.refresh_from_db()
    assert change_request.state == RequestState.PENDING_UNIT
    client.force_login(staff_a)
    response = client.post(
        reverse("supervision:request_withdraw", args=[change_request.pk]), {"version": change_request.version}
    )
    assert response.status_code == 302
    change_request.refresh_from_db()
    assert change_request.state == RequestState.WITHDRAWN


def test_two_decisions_at_once_one_gets_409(client, task, staff_a, head_a):
    client.force_login(staff_a)
    _file(client, task, kind=RequestKind.DELAY, proposed_due_on="2027-03-31")
    change_request = ChangeRequest.objects.get(task=task)
    seen = change_request.version
    client.force_login(head_a)
    url = reverse("supervision:request_decide", args=[change_request.pk])
    assert client.post(url, {"version": seen, "decision": "approve"}).status_code == 302
    late = client.post(url, {"version": seen, "decision": "reject", "comment": "不同意"})
    assert late.status_code == 409 and "已被他人处理" in late.content.decode()
    change_request.refresh_from_db()
    assert change_request.state == RequestState.PENDING_SUPERVISOR


def test_who_may_use_the_request_pages(client, task, staff_a, staff_b, staff_outside, supervisor, admin_user):
    client.force_login(staff_a)
    _file(client, task, kind=RequestKind.DELAY, proposed_due_on="2027-03-31")
    change_request = ChangeRequest.objects.get(task=task)
    detail = reverse("supervision:request_detail", args=[change_request.pk])
    # the lead may not decide their own request
    assert _decide(client, change_request, decision="approve").status_code == 403
    # a co-owner reads it, may not file
    client.force_login(staff_b)
    assert client.get(detail).status_code == 200
    assert client.get(reverse("supervision:request_new", args=[task.pk])).status_code == 403
    # the supervisor waits for the unit's step
    client.force_login(supervisor)
    assert _decide(client, change_request, decision="approve").status_code == 403
    # the system admin reads but decides nothing (the policy)
    client.force_login(admin_user)
    assert client.get(detail).status_code == 200
    assert _decide(client, change_request, decision="approve").status_code == 403
    # another agency: 404
    client.force_login(staff_outside)
    assert client.get(detail).status_code == 404
    assert _decide(client, change_request, decision="approve").status_code == 404
    change_request.refresh_from_db()
    assert change_request.state == RequestState.PENDING_UNIT


def test_the_request_page_in_bounded_queries(client, task, staff_a, head_a, django_assert_max_num_queries):
    client.force_login(staff_a)
    _file(client, task, kind=RequestKind.DELAY, proposed_due_on="2027-03-31")
    change_request = ChangeRequest.objects.get(task=task)
    client.force_login(head_a)
    url = reverse("supervision:request_detail", args=[change_request.pk])
    client.get(url)
    with django_assert_max_num_queries(25):
        assert client.get(url).status_code == 200
