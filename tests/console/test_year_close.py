"""Closing a plan's year: the page says what closing does (tasks by status, open 督办单, the
assessment scheme's state) and asks to confirm; closing freezes an active scheme, archives
the plan with who and when, and is audited. After it the year is read only — a report, a
reading's correction, the assessment and the console's edits are refused — except the
tasks marked 长期推进, which go on in place. Only an active plan is closed."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessment import services as assessment
from assessment.choices import SchemeState
from assessment.models import Scheme
from audit.models import AuditEvent
from escalation.choices import Level, NoticeState, Origin
from escalation.models import Notice
from indicators.models import Indicator, Reading
from indicators.services import correct_reading
from supervision.progress import report_progress
from tasks.choices import TaskStatus
from tasks.models import Task
from tasks.services import task_access
from tests.fixtures.tasks import make_task
from workplans.choices import PlanStatus

D = datetime.date


def url(name, plan):
    return reverse(f"console:{name}", args=[plan.pk])


def notice(task, agency, supervisor, seq, state):
    return Notice.objects.create(
        series="督办",
        year=2026,
        seq=seq,
        number=f"督办〔2026〕{seq}号",
        level=Level.BLUE,
        task=task,
        agency=agency,
        origin=Origin.HAND,
        facts="情况",
        requirements="要求",
        reply_due_on=D(2026, 11, 20),
        state=state,
        issued_by=supervisor,
        issued_on=D(2026, 11, 13),
    )


@pytest.fixture
def the_year(plan, section, agency_a, agency_b, staff_a, supervisor, admin_user):
    """Three tasks (in progress, lagging and 长期推进, closed out), an open and a closed
    督办单, an indicator with a reading, and an active assessment scheme."""
    working = make_task(plan, section, "1", lead=agency_a, status=TaskStatus.IN_PROGRESS, percent=40)
    long_term = make_task(
        plan, section, "2", lead=agency_a, status=TaskStatus.LAGGING, percent=20, long_term=True, heading="长期任务"
    )
    make_task(plan, section, "3", lead=agency_b, status=TaskStatus.CLOSED, percent=100)
    notice(working, agency_a, supervisor, 1, NoticeState.ISSUED)
    notice(working, agency_a, supervisor, 2, NoticeState.CLOSED)
    indicator = Indicator.objects.create(plan=plan, task=working, name="覆盖率", target=90, unit="%")
    reading = Reading.objects.create(plan=plan, indicator=indicator, value=50, as_of=D(2026, 6, 1), reporter=staff_a)
    scheme = assessment.create_scheme(plan, admin_user)
    scheme = assessment.set_state(scheme.pk, admin_user, version=scheme.version, state=SchemeState.ACTIVE)
    return {"plan": plan, "working": working, "long_term": long_term, "reading": reading, "scheme": scheme}


def test_the_page_says_what_closing_does(client, the_year, admin_user):
    client.force_login(admin_user)
    response = client.get(url("year_close", the_year["plan"]))
    assert response.status_code == 200
    figures = response.context["figures"]
    assert figures.by_status == [("进行中", 1), ("滞后", 1), ("已销号", 1)]
    assert (figures.total, figures.unfinished, figures.long_term, figures.open_notices) == (3, 2, 1, 1)
    body = response.content.decode()
    assert "冻结本年度考核结果" in body
    assert 'data-testid="scheme-state">已启用' in body
    assert "1 份督办单未办结" in body


def test_closing_asks_to_confirm_then_freezes_archives_and_audits(client, the_year, admin_user):
    plan, scheme = the_year["plan"], the_year["scheme"]
    client.force_login(admin_user)
    # when: not confirmed
    refused = client.post(url("year_close", plan), {"scheme_version": scheme.version})
    # then
    assert refused.status_code == 400
    assert "请勾选确认后再关闭年度" in refused.content.decode()
    plan.refresh_from_db()
    assert plan.status == PlanStatus.ACTIVE
    # when: confirmed
    done = client.post(url("year_close", plan), {"scheme_version": scheme.version, "confirm": "on"})
    # then
    assert done.status_code == 302
    plan.refresh_from_db()
    scheme.refresh_from_db()
    assert (plan.status, plan.closed_by, plan.is_closed) == (PlanStatus.ARCHIVED, admin_user, True)
    assert plan.closed_at is not None
    assert scheme.state == SchemeState.FROZEN
    event = AuditEvent.objects.get(detail__action="close_year")
    assert (event.object_id, event.detail["scheme_frozen"], event.detail["open_notices"]) == (str(plan.pk), True, 1)
    page = client.get(url("year_close", plan))
    assert 'data-testid="closed"' in page.content.decode()


def test_a_scheme_changed_since_the_page_was_read_stops_the_close(client, the_year, admin_user):
    plan, scheme = the_year["plan"], the_year["scheme"]
    client.force_login(admin_user)
    assessment.set_state(scheme.pk, admin_user, version=scheme.version, state=SchemeState.DRAFT)
    response = client.post(url("year_close", plan), {"scheme_version": scheme.version, "confirm": "on"})
    assert response.status_code == 409
    assert "考核方案已被他人修改" in response.content.decode()
    plan.refresh_from_db()
    assert plan.status == PlanStatus.ACTIVE


@pytest.mark.parametrize("status", [PlanStatus.DRAFT, PlanStatus.ARCHIVED])
def test_only_an_active_plan_is_closed(client, plan, admin_user, status):
    plan.status = status
    plan.save()
    client.force_login(admin_user)
    page = client.get(url("year_close", plan))
    assert page.status_code == 200
    assert 'id="close-form"' not in page.content.decode()
    response = client.post(url("year_close", plan), {"confirm": "on"})
    assert response.status_code == 409
    assert "只有“执行中”的计划才能关闭年度" in response.content.decode()
    plan.refresh_from_db()
    assert plan.status == status and plan.closed_at is None
    assert not AuditEvent.objects.filter(detail__action="close_year").exists()


def test_only_the_admin_closes_a_year(client, plan, staff_a, leader, supervisor):
    for person in (staff_a, leader, supervisor):
        client.force_login(person)
        assert client.get(url("year_close", plan)).status_code == 403
        assert client.post(url("year_close", plan), {"confirm": "on"}).status_code == 403
    plan.refresh_from_db()
    assert plan.status == PlanStatus.ACTIVE


def test_the_closed_year_is_read_only_but_for_its_long_term_tasks(client, the_year, admin_user, staff_a, leader):
    # given: the year closed
    plan = the_year["plan"]
    client.force_login(admin_user)
    assert client.post(url("year_close", plan), {"confirm": "on"}).status_code == 302
    working = Task.objects.select_related("plan").prefetch_related("task_owners").get(pk=the_year["working"].pk)
    # then: no report
    assert not task_access(staff_a, working).can_report
    with pytest.raises(PermissionDenied):
        report_progress(working.pk, staff_a, based_on_version=working.version, note="补报", percent=50)
    # no reading corrected
    with pytest.raises(PermissionDenied):
        correct_reading(the_year["reading"].pk, staff_a, value="60", as_of="", reason="更正", today=D(2026, 12, 1))
    assert Reading.objects.count() == 1
    # no change to the assessment: its scheme is frozen, its page answers 409
    scheme = Scheme.objects.get(plan=plan)
    with pytest.raises(ValidationError):
        assessment.save_scheme(
            scheme.pk, admin_user, version=scheme.version, lead_weight=Decimal("2"), co_weight=Decimal("1"), blocks={}
        )
    refused = client.post(reverse("assessment:scheme", args=[plan.pk]), {"action": "draft", "version": scheme.version})
    assert refused.status_code == 409
    # no console edits: the alignment and the plan pages
    assert client.post(url("alignment", plan), {"action": "higher", "higher_plan": ""}).status_code in (400, 409)
    deleted = client.post(reverse("console:plan_task_delete", args=[working.pk]))
    assert deleted.status_code == 409
    assert Task.objects.filter(pk=working.pk).exists()
    # but the 长期推进 task goes on
    long_term = Task.objects.select_related("plan").prefetch_related("task_owners").get(pk=the_year["long_term"].pk)
    assert task_access(staff_a, long_term).can_change_status
    update = report_progress(
        long_term.pk, staff_a, based_on_version=long_term.version, status=TaskStatus.IN_PROGRESS, percent=35
    )
    long_term.refresh_from_db()
    assert (update.percent, long_term.status, long_term.percent) == (35, TaskStatus.IN_PROGRESS, 35)
    assert task_access(leader, long_term).can_assign


def test_task_access_writes_a_long_term_task_of_a_closed_year_only(plan, section, agency_a, staff_a, admin_user):
    task = make_task(plan, section, "9", lead=agency_a, long_term=True, status=TaskStatus.IN_PROGRESS, percent=10)
    other = make_task(plan, section, "10", lead=agency_a, status=TaskStatus.IN_PROGRESS, percent=10)
    closed_out = make_task(plan, section, "11", lead=agency_a, long_term=True, status=TaskStatus.CLOSED, percent=100)
    plan.status = PlanStatus.ARCHIVED
    plan.save()
    loaded = {t.pk: t for t in Task.objects.select_related("plan").prefetch_related("task_owners")}
    assert task_access(staff_a, loaded[task.pk]).can_report
    assert task_access(admin_user, loaded[task.pk]).can_change_status
    assert not task_access(staff_a, loaded[other.pk]).can_report
    assert not task_access(staff_a, loaded[closed_out.pk]).can_report  # 已销号 stays closed
    # a draft plan's 长期推进 task is not written by its staff (a draft is not out yet)
    plan.status = PlanStatus.DRAFT
    plan.save()
    draft = Task.objects.select_related("plan").prefetch_related("task_owners").get(pk=task.pk)
    assert not task_access(staff_a, draft).can_view


def test_the_page_runs_the_same_queries_for_20_or_100_tasks(client, plan, section, agency_a, admin_user):
    def add(start, count):
        for i in range(start, start + count):
            make_task(plan, section, str(i), lead=agency_a, status=TaskStatus.IN_PROGRESS, percent=10)

    client.force_login(admin_user)
    add(1, 20)
    client.get(url("year_close", plan))
    with CaptureQueriesContext(connection) as small:
        assert client.get(url("year_close", plan)).status_code == 200
    add(21, 80)
    with CaptureQueriesContext(connection) as large:
        assert client.get(url("year_close", plan)).context["figures"].total == 100
    assert len(large) == len(small)


def test_a_scheme_left_in_draft_is_closed_with_the_year(client, plan, admin_user, leader, agency_a):
    # given: a year closed while its assessment scheme was still a draft (not frozen)
    scheme = assessment.create_scheme(plan, admin_user)
    client.force_login(admin_user)
    assert client.post(url("year_close", plan), {"confirm": "on"}).status_code == 302
    scheme.refresh_from_db()
    assert scheme.state == SchemeState.DRAFT
    # then: neither the scheme nor a leader's evaluation can be written any more
    with pytest.raises(ValidationError) as refused:
        assessment.set_state(scheme.pk, admin_user, version=scheme.version, state=SchemeState.ACTIVE)
    assert refused.value.code == "frozen"
    with pytest.raises(ValidationError):
        assessment.save_scheme(
            scheme.pk, admin_user, version=scheme.version, lead_weight=Decimal("1"), co_weight=Decimal("1"), blocks={}
        )
