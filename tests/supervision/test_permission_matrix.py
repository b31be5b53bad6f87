"""Who may take each step of the loop, person by person: the lead's staff, the co-owner's
staff, the lead agency's head, a leader above, leaders and staff of another agency, a
supervisor in scope and one outside it, the system admin and the audit admin. Each cell
runs the real service and checks it is refused (PermissionDenied) or let through; and the
race: two supervisors deciding the same report at once give one decision and one 409."""

import datetime
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from accounts.models import Agency
from core.roles import Role
from supervision import closeout, reports, requests
from supervision.choices import RequestKind
from supervision.machine import StaleDecision
from supervision.models import PeriodReport, Transition
from tests.fixtures.accounts import make_user
from workplans.choices import PlanStatus

TODAY = datetime.date(2026, 6, 10)
ALLOWED, REFUSED = "allowed", "refused"

PERSONAS = (
    "staff_lead",
    "staff_co_owner",
    "staff_outside",
    "unit_head",
    "leader_above",
    "leader_outside",
    "supervisor",
    "supervisor_outside",
    "admin",
    "auditor",
)


@pytest.fixture
def people(
    agency_a,
    agency_b,
    outside_agency,
    staff_a,
    staff_b,
    staff_outside,
    leader,
    leader_outside,
    admin_user,
    auditor,
    supervisor,
):
    return {
        "staff_lead": staff_a,
        "staff_co_owner": staff_b,
        "staff_outside": staff_outside,
        "unit_head": make_user("head_a", Role.LEADER, agency_a),
        "leader_above": leader,
        "leader_outside": leader_outside,
        "supervisor": supervisor,
        "supervisor_outside": make_user("sup_out", Role.SUPERVISOR, outside_agency),
        "admin": admin_user,
        "auditor": auditor,
    }


@pytest.fixture
def live_task(task):
    task.plan.status = PlanStatus.ACTIVE
    task.plan.requires_unit_signoff = True
    task.plan.save()
    return task


def _submitted(task, staff):
    task.refresh_from_db()
    return reports.submit_report(
        task.pk,
        staff,
        version=None,
        task_version=task.version,
        progress="进展",
        problems="无",
        next_steps="继续",
        today=TODAY,
    )


def _outcome(call) -> str:
    try:
        call()
    except (PermissionDenied, PeriodReport.DoesNotExist):
        return REFUSED
    except ValidationError as error:
        # Let through the permission check, refused for the input or the state: the
        # step was this person's to take.
        return f"invalid: {error.messages}"
    return ALLOWED


# persona → expected outcome, per step (on a report waiting for that step).
SUBMIT = dict.fromkeys(PERSONAS, REFUSED) | {"staff_lead": ALLOWED}
SIGN_OFF = dict.fromkeys(PERSONAS, REFUSED) | {"unit_head": ALLOWED, "leader_above": ALLOWED}
REVIEW = dict.fromkeys(PERSONAS, REFUSED) | {"supervisor": ALLOWED}
CO_INPUT = dict.fromkeys(PERSONAS, REFUSED) | {"staff_co_owner": ALLOWED}
FILE_REQUEST = dict.fromkeys(PERSONAS, REFUSED) | {"staff_lead": ALLOWED}
DECIDE_CLOSE_OUT = dict.fromkeys(PERSONAS, REFUSED) | {"supervisor": ALLOWED}
REOPEN = dict.fromkeys(PERSONAS, REFUSED) | {"unit_head": ALLOWED, "leader_above": ALLOWED}


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_who_submits_a_report(persona, people, live_task):
    outcome = _outcome(lambda: _submitted(live_task, people[persona]))
    assert outcome == SUBMIT[persona]


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_who_signs_off_a_report(persona, people, live_task):
    report = _submitted(live_task, people["staff_lead"])
    outcome = _outcome(
        lambda: reports.sign_off(report.pk, people[persona], version=report.version, approve=True, today=TODAY)
    )
    assert outcome == SIGN_OFF[persona]


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_who_reviews_a_report(persona, people, live_task):
    live_task.plan.requires_unit_signoff = False
    live_task.plan.save()
    report = _submitted(live_task, people["staff_lead"])
    outcome = _outcome(lambda: reports.review(report.pk, people[persona], version=report.version, accept=True))
    assert outcome == REVIEW[persona]


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_who_sends_co_owner_input(persona, people, live_task):
    outcome = _outcome(
        lambda: reports.submit_input(live_task.pk, people[persona], version=None, text="配合情况", today=TODAY)
    )
    assert outcome == CO_INPUT[persona]


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_who_files_a_delay_request(persona, people, live_task):
    outcome = _outcome(
        lambda: requests.file_request(
            live_task.pk,
            people[persona],
            kind=RequestKind.DELAY,
            reason="原因",
            proposed_due_on=datetime.date(2027, 3, 31),
            today=TODAY,
        )
    )
    assert outcome == FILE_REQUEST[persona]


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_who_decides_a_close_out(persona, people, live_task):
    filed = closeout.request_close_out(
        live_task.pk, people["staff_lead"], task_version=live_task.version, summary="完成"
    )
    outcome = _outcome(
        lambda: closeout.decide_close_out(
            filed.pk,
            people[persona],
            version=filed.version,
            approve=True,
            evidence_checked=True,
            milestones_checked=True,
            indicators_checked=True,
        )
    )
    assert outcome == DECIDE_CLOSE_OUT[persona]


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_who_reopens_a_closed_task(persona, people, live_task):
    filed = closeout.request_close_out(
        live_task.pk, people["staff_lead"], task_version=live_task.version, summary="完成"
    )
    closeout.decide_close_out(
        filed.pk,
        people["supervisor"],
        version=filed.version,
        approve=True,
        evidence_checked=True,
        milestones_checked=True,
        indicators_checked=True,
    )
    outcome = _outcome(lambda: closeout.reopen_task(live_task.pk, people[persona], reason="检查发现未完成"))
    assert outcome == REOPEN[persona]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's row locks to race for real")
@pytest.mark.django_db(transaction=True)
def test_two_supervisors_deciding_one_report_at_once_give_one_decision(live_task, staff_a, supervisor, commission):
    # given: a report waiting for review, seen by two supervisors at the same version
    live_task.plan.requires_unit_signoff = False
    live_task.plan.save()
    report = _submitted(live_task, staff_a)
    other = make_user("supervisor2", Role.SUPERVISOR, Agency.objects.get(pk=commission.pk))
    seen = report.version
    barrier = threading.Barrier(2)
    outcomes = {}

    def decide(user, accept):
        try:
            barrier.wait(timeout=10)
            reports.review(report.pk, user, version=seen, accept=accept, requirements="" if accept else "补充材料")
            outcomes[user.username] = "decided"
        except StaleDecision:
            outcomes[user.username] = "409"
        except Exception as error:
            outcomes[user.username] = repr(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=decide, args=(supervisor, True)),
        threading.Thread(target=decide, args=(other, False)),
    ]

    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # then: one decision, one refusal, and the thread records only the winner
    assert sorted(outcomes.values()) == ["409", "decided"], outcomes
    report.refresh_from_db()
    assert report.version == seen + 1
    assert Transition.objects.filter(report=report).exclude(action="submit").count() == 1
