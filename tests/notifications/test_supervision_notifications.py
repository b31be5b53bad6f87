"""Each step of the supervision loop tells the next person, once, through the inbox (and
email for those who want it); and co-owners are reminded before their input is due."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from core.roles import Role
from notifications.choices import Channel, Rule
from notifications.delivery import send_batch
from notifications.models import Delivery, Notification
from notifications.rules import CO_OWNER_WORKING_DAYS_BEFORE, scan
from supervision import reports, requests
from supervision.choices import RequestKind
from supervision.deadlines import co_owner_due
from supervision.models import Transition
from supervision.signals import transitioned
from tests.fixtures.accounts import make_user
from workdays.services import add_working_days
from workplans.cycles import current_cycle

TODAY = datetime.date(2026, 6, 10)
SHANGHAI = ZoneInfo("Asia/Shanghai")

pytestmark = pytest.mark.django_db


@pytest.fixture
def signoff_plan(plan):
    plan.requires_unit_signoff = True
    plan.save()
    return plan


@pytest.fixture
def head_a(agency_a):
    return make_user("head_a", Role.LEADER, agency_a, email="head_a@example.org")


@pytest.fixture
def everyone(staff_a, staff_b, head_a, leader, supervisor, admin_user):
    return [staff_a, staff_b, head_a, leader, supervisor, admin_user]


@pytest.fixture
def step(django_capture_on_commit_callbacks):
    """Run a service call and what it queues on commit (the signal, the sending)."""

    def run(call, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return call(*args, **kwargs)

    return run


def told(users) -> dict[str, int]:
    """How many supervision messages each user's inbox holds, by username."""
    return {u.username: Notification.objects.filter(recipient=u, rule=Rule.SUPERVISION).count() for u in users}


def test_each_step_of_a_report_tells_the_next_person_once(
    task, signoff_plan, staff_a, head_a, supervisor, everyone, step
):
    # submitted → the lead agency's head (not the commission's leader above it)
    report = step(
        reports.submit_report,
        task.pk,
        staff_a,
        version=None,
        task_version=task.version,
        progress="完成调研",
        status="in_progress",
        percent=40,
        today=TODAY,
    )
    assert told(everyone) == {"staff_a": 0, "staff_b": 0, "head_a": 1, "leader": 0, "supervisor": 0, "admin": 0}
    message = Notification.objects.get(recipient=head_a)
    assert "任务1" in message.title and "提交" in message.title
    assert message.link == f"/supervision/reports/{report.pk}/"
    assert message.delivery.channel == Channel.INBOX

    # signed off → the supervisors
    report.refresh_from_db()
    step(reports.sign_off, report.pk, head_a, version=report.version, approve=True, today=TODAY)
    assert told(everyone)["supervisor"] == 1

    # returned with requirements → the author, with the requirements
    report.refresh_from_db()
    step(reports.review, report.pk, supervisor, version=report.version, accept=False, requirements="补充佐证")
    assert told(everyone) == {"staff_a": 1, "staff_b": 0, "head_a": 1, "leader": 0, "supervisor": 1, "admin": 0}
    assert "补充佐证" in Notification.objects.get(recipient=staff_a).body

    # resubmitted, signed off and accepted: each step once more to its next person
    task.refresh_from_db()
    report.refresh_from_db()
    step(
        reports.submit_report,
        task.pk,
        staff_a,
        version=report.version,
        task_version=task.version,
        progress="补充了材料",
        status="in_progress",
        percent=45,
        today=TODAY,
    )
    report.refresh_from_db()
    step(reports.sign_off, report.pk, head_a, version=report.version, approve=True, today=TODAY)
    report.refresh_from_db()
    step(reports.review, report.pk, supervisor, version=report.version, accept=True)
    assert told(everyone) == {"staff_a": 2, "staff_b": 0, "head_a": 2, "leader": 0, "supervisor": 2, "admin": 0}
    # the email went to the head, who has an address (the others have none)
    assert Delivery.objects.filter(rule=Rule.SUPERVISION, channel=Channel.EMAIL).count() == 2
    assert {r.recipient_id for r in Delivery.objects.filter(channel=Channel.EMAIL)} == {head_a.pk}


def test_the_signal_twice_tells_nobody_twice(task, staff_a, supervisor, everyone, step):
    step(
        reports.submit_report,
        task.pk,
        staff_a,
        version=None,
        task_version=task.version,
        progress="完成调研",
        status="in_progress",
        percent=40,
        today=TODAY,
    )
    transition = Transition.objects.get()
    before = told(everyone)
    assert before["supervisor"] == 1  # no sign-off on this plan: straight to review

    step(transitioned.send, sender=Transition, transition=transition)
    step(transitioned.send, sender=Transition, transition=transition)

    assert told(everyone) == before
    assert Delivery.objects.filter(rule=Rule.SUPERVISION, object_id=transition.pk).count() == 1


def test_co_owner_input_tells_the_lead(task, staff_a, staff_b, agency_a, everyone, step):
    responsible = make_user("staff_a2", Role.STAFF, agency_a)
    step(reports.submit_input, task.pk, staff_b, version=None, text="配合完成摸底", today=TODAY)
    assert told([*everyone, responsible])["staff_a"] == 1 and told([responsible])["staff_a2"] == 1
    # with a 责任人 named, only them
    task.responsible_users.add(responsible)
    step(reports.submit_input, task.pk, staff_b, version=None, text="补充", today=TODAY)
    assert told([staff_a, responsible]) == {"staff_a": 1, "staff_a2": 2}


def test_a_request_tells_each_step_then_the_filer(task, staff_a, head_a, supervisor, everyone, step):
    request = step(
        requests.file_request,
        task.pk,
        staff_a,
        kind=RequestKind.DELAY,
        reason="设备未到货",
        proposed_due_on=datetime.date(2027, 3, 31),
        today=TODAY,
    )
    assert told(everyone) == {"staff_a": 0, "staff_b": 0, "head_a": 1, "leader": 0, "supervisor": 0, "admin": 0}
    step(requests.decide_request, request.pk, head_a, version=request.version, approve=True, today=TODAY)
    request.refresh_from_db()
    assert told(everyone)["supervisor"] == 1
    step(
        requests.decide_request,
        request.pk,
        supervisor,
        version=request.version,
        approve=True,
        approved_due_on=datetime.date(2027, 2, 28),
    )
    assert told(everyone) == {"staff_a": 1, "staff_b": 0, "head_a": 1, "leader": 0, "supervisor": 1, "admin": 0}
    assert "批准" in Notification.objects.get(recipient=staff_a).title


# --- The co-owners' reminder -------------------------------------------------------------


def _reminder_day(plan, today=TODAY) -> tuple[datetime.date, datetime.date]:
    """(the day co-owners are chased, their due day) for the plan's cycle containing `today`."""
    due = co_owner_due(current_cycle(plan, today).due_on)
    return add_working_days(due, -CO_OWNER_WORKING_DAYS_BEFORE), due


def test_co_owners_are_reminded_once_before_their_due_day(task, plan, staff_a, staff_b):
    day, due = _reminder_day(plan)
    # not the day before
    scan(day - datetime.timedelta(days=1))
    assert not Delivery.objects.filter(rule=Rule.CO_OWNER_DUE).exists()

    scan(day)
    scan(day)  # a rescan adds nothing

    rows = Delivery.objects.filter(rule=Rule.CO_OWNER_DUE)
    assert [(r.recipient_id, r.channel, r.due_on, r.object_id) for r in rows] == [
        (staff_b.pk, Channel.INBOX, due, staff_b.agency_id)
    ]
    assert rows.get().payload == {"owed": 1}


def test_co_owners_who_gave_their_input_are_not_reminded(task, plan, staff_b):
    day, _due = _reminder_day(plan)
    reports.submit_input(task.pk, staff_b, version=None, text="配合完成摸底", today=day)
    scan(day)
    assert not Delivery.objects.filter(rule=Rule.CO_OWNER_DUE).exists()


def test_the_co_owner_reminder_reads_in_the_inbox(task, plan, staff_b):
    day, due = _reminder_day(plan)
    now = datetime.datetime.combine(day, datetime.time(9, 0), tzinfo=SHANGHAI)
    with time_machine.travel(now, tick=False):
        scan(day)
        send_batch(list(Delivery.objects.filter(rule=Rule.CO_OWNER_DUE).values_list("pk", flat=True)), now)
    message = Notification.objects.get(recipient=staff_b)
    assert f"{due:%Y-%m-%d}" in message.title
    assert "1项" in message.body
    assert mail.outbox == []
