"""The reporting rate of the current cycle (supervision.rates): reports sent, accepted,
returned and not sent per lead agency and overall, co-owners' input counted apart, scoped
to what the person sees, in a bounded number of queries."""

import datetime

import pytest

from supervision.choices import InputState, ReportState
from supervision.models import CoOwnerInput, PeriodReport
from supervision.rates import reporting_rates, reporting_rates_for
from tasks.models import Task
from tests.fixtures.tasks import make_task
from tests.fixtures.workplans import create_plan
from workplans.choices import PlanStatus, ReportingCycle

TODAY = datetime.date(2026, 6, 10)
JUNE = datetime.date(2026, 6, 1)

pytestmark = pytest.mark.django_db


def report(task, state, author, period_start=JUNE):
    return PeriodReport.objects.create(
        task=task,
        period_start=period_start,
        period_end=period_start + datetime.timedelta(days=27),
        period_label="本期",
        due_on=period_start + datetime.timedelta(days=24),
        state=state,
        author=author,
    )


def co_input(task, agency, state, author, period_start=JUNE):
    return CoOwnerInput.objects.create(
        task=task,
        agency=agency,
        period_start=period_start,
        period_label="本期",
        due_on=period_start + datetime.timedelta(days=20),
        state=state,
        author=author,
    )


@pytest.fixture
def loop(plan, commission, agency_a, agency_b, outside_agency, staff_a, staff_b):
    """A monthly plan's tasks in every reporting state, a quarterly plan's, and tasks that
    owe nothing (finished, archived plan)."""
    t = {
        "sent": make_task(plan, None, "1", lead=agency_a, co_owners=[agency_b]),
        "accepted": make_task(plan, None, "2", lead=agency_a),
        "returned": make_task(plan, None, "3", lead=agency_a),
        "unit_returned": make_task(plan, None, "4", lead=agency_b, co_owners=[agency_a]),
        "draft": make_task(plan, None, "5", lead=agency_b),
        "none": make_task(plan, None, "6", lead=agency_b),
        "done": make_task(plan, None, "7", lead=agency_a, status="done", percent=100),
        "last_cycle": make_task(plan, None, "8", lead=agency_a),
        "outside": make_task(plan, None, "9", lead=outside_agency),
    }
    report(t["sent"], ReportState.PENDING_REVIEW, staff_a)
    report(t["accepted"], ReportState.ACCEPTED, staff_a)
    report(t["returned"], ReportState.RETURNED, staff_a)
    report(t["unit_returned"], ReportState.UNIT_RETURNED, staff_b)
    report(t["draft"], ReportState.DRAFT, staff_b)
    report(t["last_cycle"], ReportState.ACCEPTED, staff_a, period_start=datetime.date(2026, 5, 1))
    co_input(t["sent"], agency_b, InputState.SUBMITTED, staff_b)
    co_input(t["unit_returned"], agency_a, InputState.DRAFT, staff_a)

    quarterly = create_plan(commission)
    quarterly.title, quarterly.reporting_cycle = "季度计划", ReportingCycle.QUARTERLY
    quarterly.save()
    t["quarter"] = make_task(quarterly, None, "1", lead=agency_a)
    report(t["quarter"], ReportState.PENDING_SIGNOFF, staff_a, period_start=datetime.date(2026, 4, 1))

    archived = create_plan(commission, year=2025)
    archived.status = PlanStatus.ARCHIVED
    archived.save()
    t["archived"] = make_task(archived, None, "1", lead=agency_a)
    return t


def figures(row):
    return (row.due, row.submitted, row.accepted, row.returned, row.not_submitted, row.inputs_due, row.inputs_submitted)


def test_it_counts_each_report_state_per_lead_and_overall_and_inputs_apart(loop, leader, agency_a, agency_b):
    # when
    rates = reporting_rates_for(leader, TODAY)

    # then: the outside agency's task is not the leader's; the finished, archived and
    # last cycle's reports owe (or count) nothing this cycle
    assert figures(rates.total) == (8, 2, 1, 2, 3, 2, 1)
    assert rates.total.rate == 37.5 and rates.total.accepted_rate == 12.5 and rates.total.input_rate == 50.0
    by_agency = {row.agency_id: row for row in rates.agencies}
    assert set(by_agency) == {agency_a.pk, agency_b.pk}
    assert figures(by_agency[agency_a.pk]) == (5, 2, 1, 1, 1, 1, 0)
    assert figures(by_agency[agency_b.pk]) == (3, 0, 0, 1, 2, 1, 1)
    assert by_agency[agency_a.pk].label == agency_a.name


def test_a_staff_member_sees_their_agencys_tasks_only(loop, staff_b, agency_b):
    rates = reporting_rates_for(staff_b, TODAY)

    # agency B leads three owing tasks and co-owns one (its input in); the co-owner of one
    # it leads has not sent its input
    assert (rates.total.due, rates.total.inputs_due, rates.total.inputs_submitted) == (4, 2, 1)


def test_an_admin_sees_every_agency(loop, admin_user, outside_agency):
    rates = reporting_rates_for(admin_user, TODAY)

    assert rates.total.due == 9
    assert outside_agency.pk in {row.agency_id for row in rates.agencies}


def test_a_resubmitted_report_counts_as_sent_again(loop, leader):
    PeriodReport.objects.filter(task=loop["returned"]).update(state=ReportState.PENDING_SIGNOFF)

    rates = reporting_rates_for(leader, TODAY)

    assert (rates.total.submitted, rates.total.returned) == (3, 1)


def test_nothing_owed_gives_no_rate(db, admin_user):
    rates = reporting_rates(Task.objects.none(), TODAY)

    assert rates.total.due == 0 and rates.total.rate is None and rates.agencies == []


@pytest.mark.parametrize("extra", [0, 20])
def test_it_runs_three_queries_whatever_the_number_of_tasks(
    loop, plan, agency_a, agency_b, staff_a, extra, django_assert_max_num_queries
):
    for i in range(extra):
        lead, co_owner = (agency_a, agency_b) if i % 2 else (agency_b, agency_a)
        task = make_task(plan, None, f"x{i}", lead=lead, co_owners=[co_owner])
        if i % 3:
            report(task, ReportState.ACCEPTED, staff_a)

    with django_assert_max_num_queries(3):
        rates = reporting_rates(Task.objects.published(), TODAY)

    assert rates.total.due == 9 + extra
