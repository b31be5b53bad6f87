"""Escalation's pages as their users meet them: a supervisor issues a yellow notice by
hand from the task, the lead's staff see it at the top of the task, acknowledge and answer
with a file, the supervisor closes it; an urge answered in one step; a leader's instruction
responded to and settled; the ladder held and released; the 督办 page's order and filters;
and what each person may not do. Every refusal changes nothing."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from core.roles import Role
from escalation.by_hand import issue_by_hand
from escalation.choices import InstructionState, Level, NoticeState, UrgeState
from escalation.models import Hold, Instruction, Notice, Step, Urge
from tests.fixtures.accounts import make_user
from tests.fixtures.tasks import PDF, make_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_task(plan, section, agency_b):
    return make_task(plan, section, "2", lead=agency_b, due_on=datetime.date(2026, 12, 31))


def _issue(client, task, **extra):
    data = {
        "level": "yellow",
        "facts": "进度滞后",
        "requirements": "请说明原因并加快推进",
        "reply_due_on": (timezone.localdate() + datetime.timedelta(days=7)).isoformat(),
        "wants_evidence": "on",
        **extra,
    }
    return client.post(reverse("escalation:notice_new", args=[task.pk]), data)


def test_a_yellow_notice_by_hand_is_acknowledged_answered_with_a_file_and_closed(
    client, task, staff_a, staff_b, supervisor, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(supervisor)
    form = client.get(reverse("escalation:notice_new", args=[task.pk]))
    assert form.status_code == 200 and "完成进度" in form.content.decode()  # the facts, filled in
    assert _issue(client, task, requirements="").status_code == 400
    assert not Notice.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = _issue(client, task)
    notice = Notice.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("escalation:notice_detail", args=[notice.pk])
    assert (
        notice.level == Level.YELLOW
        and notice.issued_by == supervisor
        and notice.agency == notice.task.task_owners.get(role="lead").agency
    )

    # The lead's staff see it at the top of their task, and in their work list.
    client.force_login(staff_a)
    page = client.get(reverse("tasks:task_detail", args=[task.pk])).content.decode()
    assert 'data-testid="owed-notice"' in page and notice.number in page
    assert notice.number in client.get(reverse("supervision:worklist")).content.decode()
    # A co-owner's staff may read it, not answer it.
    client.force_login(staff_b)
    assert client.get(reverse("escalation:notice_detail", args=[notice.pk])).status_code == 200
    refused = client.post(
        reverse("escalation:notice_answer", args=[notice.pk]), {"version": notice.version, "text": "x"}
    )
    assert refused.status_code == 403

    client.force_login(staff_a)
    ack = client.post(reverse("escalation:notice_acknowledge", args=[notice.pk]), {"version": notice.version})
    assert ack.status_code == 302
    notice.refresh_from_db()
    assert notice.state == NoticeState.ACKNOWLEDGED and notice.acknowledged_by == staff_a
    # Without the file it asks for: refused, nothing changed.
    missing = client.post(
        reverse("escalation:notice_answer", args=[notice.pk]), {"version": notice.version, "text": "已整改"}
    )
    assert missing.status_code == 400 and "佐证材料" in missing.content.decode()
    notice.refresh_from_db()
    assert notice.state == NoticeState.ACKNOWLEDGED
    evidence = SimpleUploadedFile("整改报告.pdf", PDF, content_type="application/pdf")
    answered = client.post(
        reverse("escalation:notice_answer", args=[notice.pk]),
        {"version": notice.version, "text": "已加派人手，下月完成", "files": [evidence]},
    )
    assert answered.status_code == 302
    notice.refresh_from_db()
    assert notice.state == NoticeState.ANSWERED and notice.answer_update.attachments.count() == 1
    # A stale version answers 409.
    stale = client.post(reverse("escalation:notice_decide", args=[notice.pk]), {"version": 1, "decision": "close"})
    assert stale.status_code == 403  # not the staff's to close
    client.force_login(supervisor)
    stale = client.post(reverse("escalation:notice_decide", args=[notice.pk]), {"version": 1, "decision": "close"})
    assert stale.status_code == 409
    notice.refresh_from_db()
    assert notice.state == NoticeState.ANSWERED

    detail = client.get(reverse("escalation:notice_detail", args=[notice.pk])).content.decode()
    assert "整改报告.pdf" in detail and "办结" in detail
    no_reason = client.post(
        reverse("escalation:notice_decide", args=[notice.pk]), {"version": notice.version, "decision": "return"}
    )
    assert no_reason.status_code == 400
    closed = client.post(
        reverse("escalation:notice_decide", args=[notice.pk]), {"version": notice.version, "decision": "close"}
    )
    assert closed.status_code == 302
    notice.refresh_from_db()
    assert notice.state == NoticeState.CLOSED
    actions = list(Step.objects.filter(notice=notice).values_list("action", flat=True))
    assert actions == ["issue", "acknowledge", "answer", "close"]
    # Every step is in the audit trail, with its state before and after.
    trail = AuditEvent.objects.filter(object_type="escalation.notice", object_id=str(notice.pk)).order_by("pk")
    assert [event.detail["action"] for event in trail] == actions
    assert [event.detail["after"]["state"] for event in trail] == ["issued", "acknowledged", "answered", "closed"]


def test_the_printable_notice_downloads(client, task, supervisor, staff_a):
    notice = issue_by_hand(task.pk, supervisor, level=Level.RED, requirements="限期整改")
    client.force_login(staff_a)
    response = client.get(reverse("escalation:notice_docx", args=[notice.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]


def test_an_urge_is_answered_in_one_step(client, task, staff_a, staff_b, supervisor, leader):
    client.force_login(leader)
    empty = client.post(reverse("escalation:urge_new", args=[task.pk]), {"message": ""})
    assert empty.status_code == 400 and not Urge.objects.exists()
    past = client.post(reverse("escalation:urge_new", args=[task.pk]), {"message": "请加快", "reply_by": "2020-01-01"})
    assert past.status_code == 400 and "答复时限" in past.content.decode()
    assert (
        client.post(reverse("escalation:urge_new", args=[task.pk]), {"message": "请本周内报送进展"}).status_code == 302
    )
    urge = Urge.objects.get()
    client.force_login(staff_b)  # a co-owner: the urge was not sent to co-owners
    page = client.get(reverse("tasks:task_detail", args=[task.pk])).content.decode()
    assert "请本周内报送进展" in page and reverse("escalation:urge_reply", args=[urge.pk]) not in page
    client.force_login(staff_a)
    page = client.get(reverse("tasks:task_detail", args=[task.pk])).content.decode()
    assert reverse("escalation:urge_reply", args=[urge.pk]) in page
    client.post(reverse("escalation:urge_reply", args=[urge.pk]), {"version": urge.version, "answer": "已报送"})
    urge.refresh_from_db()
    assert urge.state == UrgeState.ANSWERED and urge.answered_by == staff_a and urge.answer == "已报送"


def test_a_leaders_instruction_is_responded_to_and_settled(client, task, staff_a, leader):
    client.force_login(leader)
    due = (timezone.localdate() + datetime.timedelta(days=5)).isoformat()
    assert (
        client.post(reverse("escalation:instruction_new", args=[task.pk]), {"text": "", "respond_by": due}).status_code
        == 400
    )
    client.post(reverse("escalation:instruction_new", args=[task.pk]), {"text": "请专题研究", "respond_by": due})
    instruction = Instruction.objects.get()
    client.force_login(staff_a)
    assert "请专题研究" in client.get(reverse("supervision:worklist")).content.decode()
    client.post(
        reverse("escalation:instruction_respond", args=[instruction.pk]),
        {"version": instruction.version, "response": "已召开专题会"},
    )
    instruction.refresh_from_db()
    assert instruction.state == InstructionState.RESPONDED
    client.force_login(leader)
    client.post(
        reverse("escalation:instruction_conclude", args=[instruction.pk]),
        {"version": instruction.version, "decision": "settle"},
    )
    instruction.refresh_from_db()
    assert instruction.state == InstructionState.SETTLED and instruction.settled_at


def test_a_hold_is_taken_and_released_with_a_reason(client, task, supervisor, staff_a):
    client.force_login(staff_a)
    assert client.get(reverse("escalation:hold", args=[task.pk])).status_code == 403
    client.force_login(supervisor)
    assert client.post(reverse("escalation:hold", args=[task.pk]), {"reason": ""}).status_code == 400
    assert client.post(reverse("escalation:hold", args=[task.pk]), {"reason": "延期审批中"}).status_code == 302
    assert Hold.objects.get().released_at is None
    page = client.get(reverse("tasks:task_detail", args=[task.pk])).content.decode()
    assert 'data-testid="hold"' in page and "延期审批中" in page
    client.post(reverse("escalation:release", args=[task.pk]))
    assert Hold.objects.get().released_at is not None


def test_the_board_puts_the_unanswered_past_deadline_first_and_filters(
    client, task, other_task, supervisor, staff_a, staff_b
):
    today = timezone.localdate()
    late = issue_by_hand(task.pk, supervisor, level=Level.BLUE, requirements="a")
    Notice.objects.filter(pk=late.pk).update(reply_due_on=today - datetime.timedelta(days=1))
    red = issue_by_hand(other_task.pk, supervisor, level=Level.RED, requirements="b")
    client.force_login(supervisor)
    opened = client.get(reverse("escalation:board"))
    assert opened.status_code == 302 and opened["Location"].endswith("?state=open")
    page = client.get(reverse("escalation:board"), follow=True).content.decode()
    assert page.index(late.number) < page.index(red.number)
    filtered = client.get(reverse("escalation:board"), {"level": "red", "state": "open"}).content.decode()
    assert red.number in filtered and late.number not in filtered
    bad = client.get(reverse("escalation:board"), {"level": "purple"})
    assert bad.status_code == 400
    # Staff see the notices of the tasks they may open: their agency's, and those they
    # co-own (copied); nothing of another agency's task.
    client.force_login(staff_b)
    mine = client.get(reverse("escalation:board"), follow=True).content.decode()
    assert red.number in mine and late.number in mine
    client.force_login(staff_a)
    theirs = client.get(reverse("escalation:board"), follow=True).content.decode()
    assert late.number in theirs and red.number not in theirs
    assert client.get(reverse("escalation:notice_detail", args=[red.pk])).status_code == 404


def test_the_board_costs_the_same_for_three_notices_or_thirty(client, plan, section, agency_a, supervisor):
    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("escalation:board"), {"state": "open"}).status_code == 200
        return len(ctx.captured_queries)

    client.force_login(supervisor)
    for n in range(3):
        task = make_task(plan, section, f"1{n}", lead=agency_a, due_on=datetime.date(2026, 12, 31))
        issue_by_hand(task.pk, supervisor, level=Level.YELLOW, requirements="x")
    queries()  # the header's work-list badge is counted once, then kept
    few = queries()
    for n in range(27):
        task = make_task(plan, section, f"2{n}", lead=agency_a, due_on=datetime.date(2026, 12, 31))
        issue_by_hand(task.pk, supervisor, level=Level.YELLOW, requirements="x")
    assert queries() == few


def test_nobody_outside_the_office_issues_and_a_leader_cannot_answer(client, task, staff_a, leader, supervisor):
    client.force_login(staff_a)
    assert _issue(client, task).status_code == 403
    client.force_login(leader)
    assert _issue(client, task).status_code == 403
    notice = issue_by_hand(task.pk, supervisor, level=Level.BLUE, requirements="x")
    assert (
        client.post(reverse("escalation:notice_answer", args=[notice.pk]), {"version": 1, "text": "x"}).status_code
        == 403
    )
    assert (
        client.post(
            reverse("escalation:notice_decide", args=[notice.pk]), {"version": 1, "decision": "close"}
        ).status_code
        == 403
    )
    outside = make_user("supervisor_elsewhere", Role.SUPERVISOR, None)
    client.force_login(outside)
    assert client.get(reverse("escalation:notice_detail", args=[notice.pk])).status_code == 404


def test_each_step_is_told_to_its_people_once_however_often_it_is_told(
    task, staff_a, supervisor, django_capture_on_commit_callbacks
):
    from escalation import notices
    from notifications import steps as told
    from notifications.choices import Rule
    from notifications.models import Delivery

    with django_capture_on_commit_callbacks(execute=True):
        notice = issue_by_hand(task.pk, supervisor, level=Level.BLUE, requirements="请加快")
    with django_capture_on_commit_callbacks(execute=True):
        notice = notices.answer(notice.pk, staff_a, version=notice.version, text="已加快")
    answered = Step.objects.get(notice=notice, action="answer")
    inbox = Delivery.objects.filter(rule=Rule.ESCALATION, object_id=answered.pk, channel="inbox")
    assert list(inbox.values_list("recipient", flat=True)) == [supervisor.pk]  # the issuer
    # The step told again (a redelivered job, a second signal): nothing more.
    told.tell(told.load([answered.pk]))
    issued = Step.objects.get(notice=notice, action="issue")
    told.tell_issued([issued.pk])
    assert inbox.count() == 1
    assert Delivery.objects.filter(rule=Rule.ESCALATION, object_id=issued.pk, recipient=staff_a).count() == 1


def test_an_urge_to_the_co_owners_tells_their_staff_too(
    task, staff_a, staff_b, supervisor, django_capture_on_commit_callbacks
):
    from escalation import urges
    from notifications.choices import Rule
    from notifications.models import Delivery

    with django_capture_on_commit_callbacks(execute=True):
        urge = urges.urge(task.pk, supervisor, message="请本周内报送", to_co_owners=True)
    step = Step.objects.get(urge=urge)
    told = Delivery.objects.filter(rule=Rule.ESCALATION, object_id=step.pk, channel="inbox")
    assert sorted(told.values_list("recipient", flat=True)) == sorted([staff_a.pk, staff_b.pk])
