"""Who may take each step of escalation, person by person (the loop's ten people: the
lead's staff, the co-owner's staff, staff elsewhere, the lead agency's head, a leader
above, a leader elsewhere, a supervisor in scope and one outside it, the system admin, the
audit admin). Each cell runs the real service: refused (PermissionDenied, or not found in
their scope) or let through."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.roles import Role
from escalation import holds, notices, urges
from escalation.by_hand import issue_by_hand
from escalation.choices import Action, Level
from tests.fixtures.accounts import make_user

TODAY = datetime.date(2026, 6, 10)
LATER = datetime.date(2026, 6, 30)
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
    agency_a, outside_agency, staff_a, staff_b, staff_outside, leader, leader_outside, admin_user, auditor, supervisor
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


def _outcome(call) -> str:
    try:
        call()
    except PermissionDenied:
        return REFUSED
    except ValidationError as error:
        return f"invalid: {error.messages}"
    return ALLOWED


def only(*personas) -> dict:
    return dict.fromkeys(PERSONAS, REFUSED) | dict.fromkeys(personas, ALLOWED)


def _notice(task, people):
    return issue_by_hand(task.pk, people["supervisor"], level=Level.BLUE, requirements="请加快", today=TODAY)


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_who_issues_a_notice(persona, people, task):
    call = lambda: issue_by_hand(task.pk, people[persona], level=Level.YELLOW, requirements="x", today=TODAY)  # noqa: E731
    assert _outcome(call) == only("supervisor")[persona]


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_who_acknowledges_a_notice(persona, people, task):
    notice = _notice(task, people)
    call = lambda: notices.acknowledge(notice.pk, people[persona], version=notice.version)  # noqa: E731
    assert _outcome(call) == only("staff_lead", "unit_head", "leader_above")[persona]


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_who_answers_a_notice(persona, people, task):
    notice = _notice(task, people)
    call = lambda: notices.answer(notice.pk, people[persona], version=notice.version, text="已办理", today=TODAY)  # noqa: E731
    assert _outcome(call) == only("staff_lead")[persona]


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("action", [Action.CLOSE, Action.CANCEL])
def test_who_closes_or_cancels_a_notice(persona, action, people, task):
    notice = _notice(task, people)
    call = lambda: notices.decide(notice.pk, people[persona], action, version=notice.version, comment="理由")  # noqa: E731
    assert _outcome(call) == only("supervisor")[persona]


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_who_urges(persona, people, task):
    call = lambda: urges.urge(task.pk, people[persona], message="请加快", today=TODAY)  # noqa: E731
    assert _outcome(call) == only("supervisor", "unit_head", "leader_above")[persona]


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("to_co_owners", [False, True])
def test_who_answers_an_urge(persona, to_co_owners, people, task):
    urge = urges.urge(task.pk, people["supervisor"], message="请加快", to_co_owners=to_co_owners, today=TODAY)
    call = lambda: urges.reply(urge.pk, people[persona], version=urge.version, answer="已加快")  # noqa: E731
    expected = only("staff_lead", "staff_co_owner") if to_co_owners else only("staff_lead")
    assert _outcome(call) == expected[persona]


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_who_instructs(persona, people, task):
    call = lambda: urges.instruct(task.pk, people[persona], text="请研究", respond_by=LATER, today=TODAY)  # noqa: E731
    assert _outcome(call) == only("unit_head", "leader_above")[persona]


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_who_responds_to_and_settles_an_instruction(persona, people, task):
    item = urges.instruct(task.pk, people["leader_above"], text="请研究", respond_by=LATER, today=TODAY)
    respond = lambda: urges.respond(item.pk, people[persona], version=item.version, response="已研究")  # noqa: E731
    assert _outcome(respond) == only("staff_lead")[persona]
    item.refresh_from_db()
    if item.state == "open":
        urges.respond(item.pk, people["staff_lead"], version=item.version, response="已研究")
        item.refresh_from_db()
    settle = lambda: urges.conclude(item.pk, people[persona], Action.SETTLE, version=item.version)  # noqa: E731
    # Only the leader who gave the instruction settles it.
    assert _outcome(settle) == only("leader_above")[persona]


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_who_holds_the_ladder(persona, people, task):
    call = lambda: holds.hold(task.pk, people[persona], reason="延期审批中", today=TODAY)  # noqa: E731
    assert _outcome(call) == only("supervisor")[persona]
