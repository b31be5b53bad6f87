"""A task marked 无需填报 owes no report anywhere: one predicate (tasks.services.owes_reports_q)
feeds the owed-report query, the 督办 ladder, the work lists, the dashboards' 应报 figure
and the fill-in sheets, so an exempt task never counts as unreported nor gets a notice."""

import datetime

import pytest

from dashboards.rollup import task_aggregates
from escalation.ladder import causes_on
from supervision import worklist
from tasks.models import Task
from tasks.services import owed_this_cycle_q, owes_reports_q
from tests.fixtures.tasks import make_task
from workbench.sheet_services import led_open_tasks, sheet_plans
from workplans.choices import PlanStatus

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 11, 20)


@pytest.fixture
def pair(plan, section, agency_a):
    plan.status = PlanStatus.ACTIVE
    plan.save()
    late = datetime.date(2026, 10, 31)
    reporting = make_task(plan, section, "1", lead=agency_a, due_on=late)
    exempt = make_task(plan, section, "2", lead=agency_a, due_on=late, reporting_exempt=True)
    return reporting, exempt


def test_only_the_reporting_task_is_owed_a_report(pair):
    reporting, _exempt = pair
    assert list(Task.objects.filter(owes_reports_q()).values_list("pk", flat=True)) == [reporting.pk]
    assert list(Task.objects.filter(owed_this_cycle_q(DAY)).values_list("pk", flat=True)) == [reporting.pk]


def test_the_ladder_watches_only_the_reporting_task(pair):
    reporting, exempt = pair
    found = causes_on(DAY)
    assert reporting.pk in found and exempt.pk not in found


def test_the_dashboard_counts_one_task_due_a_report(pair):
    figures = Task.objects.filter(pk__in=[t.pk for t in pair]).aggregate(**task_aggregates(DAY))
    assert (figures["tasks"], figures["report_due"], figures["overdue"]) == (2, 1, 2)


def test_the_sheet_and_the_work_list_leave_the_exempt_task_out(pair, plan, agency_a, staff_a):
    reporting, exempt = pair
    assert list(led_open_tasks(plan, agency_a.pk)) == [reporting]
    assert [p.task_count for p in sheet_plans(staff_a, agency_a.pk)] == [1]
    listed = [
        item.pk
        for section in worklist.sections(staff_a, DAY)
        if section.link == "tasks:task_detail"
        for item in section.shown
    ]
    assert reporting.pk in listed and exempt.pk not in listed
