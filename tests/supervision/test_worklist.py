"""Work lists (待办): what each person owes or must decide, in their scope only, oldest and
overdue first, with the header's count; and the lists agree with supervision.permissions."""

import datetime

import pytest
from django.utils import timezone

from core.roles import Role
from supervision import reports
from supervision.choices import Action, ReportState, RequestKind, RequestState
from supervision.machine import CLOSE_OUTS, REPORTS, REQUESTS
from supervision.models import ChangeRequest, CloseOut, PeriodReport
from supervision.worklist import SECTION_CAP, sections, total, with_counts
from tasks.models import Task
from tests.fixtures.accounts import make_user
from tests.fixtures.tasks import make_task
from workplans.cycles import current_cycle

TODAY = datetime.date(2026, 6, 10)

pytestmark = pytest.mark.django_db


@pytest.fixture
def signoff_plan(plan):
    plan.requires_unit_signoff = True
    plan.save()
    return plan


@pytest.fixture
def head_a(agency_a):
    return make_user("head_a", Role.LEADER, agency_a)


@pytest.fixture
def supervisor_outside(outside_agency):
    return make_user("supervisor_outside", Role.SUPERVISOR, outside_agency)


def listed(user, key, today=TODAY) -> list:
    """The items of `user`'s section `key` ([] when the user has no such section)."""
    found = {section.key: section for section in sections(user, today)}
    return list(found[key].items) if key in found else []


def make_report(task, author, state, *, due=None, submitted=None, today=TODAY) -> PeriodReport:
    cycle = current_cycle(task.plan, today)
    return PeriodReport.objects.create(
        task=task,
        period_start=cycle.start,
        period_end=cycle.end,
        period_label=cycle.label,
        due_on=cycle.due_on,
        state=state,
        author=author,
        decision_due_on=due,
        submitted_at=submitted or timezone.now(),
    )


def make_request(task, filed_by, state, *, due=None) -> ChangeRequest:
    return ChangeRequest.objects.create(
        task=task,
        kind=RequestKind.DELAY,
        state=state,
        steps=["unit", "supervisor", "leader"],
        reason="设备未到货",
        proposed_due_on=datetime.date(2027, 3, 31),
        filed_by=filed_by,
        decision_due_on=due,
    )


def loaded(obj):
    """The object again with what the permission predicates read."""
    return type(obj).objects.select_related("task__plan").prefetch_related("task__task_owners").get(pk=obj.pk)


# --- Staff ------------------------------------------------------------------------------


def test_it_lists_the_report_the_lead_owes_until_it_is_sent(task, signoff_plan, staff_a, staff_b):
    # given: nothing sent this cycle
    assert listed(staff_a, "owed_reports") == [task]
    assert listed(staff_b, "owed_reports") == []  # a co-owner owes input, not the report
    # when
    reports.submit_report(
        task.pk,
        staff_a,
        version=None,
        task_version=task.version,
        progress="完成调研",
        status="in_progress",
        percent=40,
        today=TODAY,
    )
    # then
    assert listed(staff_a, "owed_reports") == []


def test_it_lists_a_returned_report_for_the_lead_and_not_in_owed_too(task, staff_a, staff_b):
    report = make_report(task, staff_a, ReportState.RETURNED)
    assert listed(staff_a, "returned_reports") == [report]
    assert listed(staff_a, "owed_reports") == []
    assert listed(staff_b, "returned_reports") == []


def test_it_lists_co_owner_input_owed_until_submitted(task, staff_a, staff_b):
    assert listed(staff_b, "owed_inputs") == [task]
    assert listed(staff_a, "owed_inputs") == []
    reports.submit_input(task.pk, staff_b, version=None, text="配合完成摸底", today=TODAY)
    assert listed(staff_b, "owed_inputs") == []


def test_it_skips_finished_tasks_and_plans_not_active(plan, other_plan, agency_a, staff_a):
    done = make_task(plan, None, "2", lead=agency_a, status="done", percent=100)
    archived = make_task(other_plan, None, "3", lead=agency_a)
    other_plan.status = "archived"
    other_plan.save()
    owed = listed(staff_a, "owed_reports")
    assert done not in owed and archived not in owed


def test_it_lists_staffs_own_open_requests_and_close_outs(task, staff_a, agency_a):
    colleague = make_user("staff_a2", Role.STAFF, agency_a)
    mine = make_request(task, staff_a, RequestState.PENDING_SUPERVISOR)
    make_request(task, colleague, RequestState.PENDING_SUPERVISOR)
    make_request(task, staff_a, RequestState.APPROVED)
    close_out = CloseOut.objects.create(task=task, summary="完成", submitted_by=staff_a)
    assert listed(staff_a, "my_requests") == [mine]
    assert listed(staff_a, "my_close_outs") == [close_out]
    assert listed(colleague, "my_close_outs") == []


# --- Unit heads, supervisors, leaders ---------------------------------------------------


def test_unit_heads_see_what_waits_for_sign_off_but_not_their_own(task, staff_a, agency_a, head_a, leader, staff_b):
    reviewer = make_user("reviewer_a", Role.STAFF, agency_a, is_unit_reviewer=True)
    report = make_report(task, staff_a, ReportState.PENDING_SIGNOFF)
    own = make_report(make_task(task.plan, None, "2", lead=agency_a), reviewer, ReportState.PENDING_SIGNOFF)
    assert set(listed(head_a, "signoff_reports")) == {report, own}
    assert listed(reviewer, "signoff_reports") == [report]
    assert set(listed(leader, "signoff_reports")) == {report, own}  # the commission's leader covers A
    assert listed(staff_b, "signoff_reports") == []
    assert listed(staff_a, "signoff_reports") == []  # staff not named 审核人 sign off nothing


def test_supervisors_see_their_scope_overdue_first_then_oldest(plan, agency_a, staff_a, supervisor, supervisor_outside):
    tasks = [make_task(plan, None, str(n), lead=agency_a) for n in range(1, 5)]
    early = timezone.now() - datetime.timedelta(days=3)
    later = make_report(tasks[0], staff_a, ReportState.PENDING_REVIEW, due=TODAY + datetime.timedelta(days=2))
    overdue = make_report(tasks[1], staff_a, ReportState.PENDING_REVIEW, due=TODAY - datetime.timedelta(days=1))
    same_day_older = make_report(tasks[2], staff_a, ReportState.PENDING_REVIEW, due=TODAY, submitted=early)
    same_day_newer = make_report(tasks[3], staff_a, ReportState.PENDING_REVIEW, due=TODAY)

    found = listed(supervisor, "review_reports")

    assert found == [overdue, same_day_older, same_day_newer, later]
    assert [r.overdue for r in found] == [True, False, False, False]
    assert listed(supervisor_outside, "review_reports") == []


def test_supervisor_named_on_a_plan_sees_it_outside_their_tree(task, staff_a, supervisor_outside):
    report = make_report(task, staff_a, ReportState.PENDING_REVIEW)
    assert listed(supervisor_outside, "review_reports") == []
    task.plan.supervisors.add(supervisor_outside)
    # The plans a supervisor is named on are read once per request (kept on the user).
    supervisor_outside = type(supervisor_outside).objects.get(pk=supervisor_outside.pk)
    assert listed(supervisor_outside, "review_reports") == [report]


def test_leaders_see_requests_they_decide(task, staff_a, leader, head_a, leader_outside):
    request = make_request(task, staff_a, RequestState.PENDING_LEADER)
    # No leader named: any leader who may open the task.
    assert listed(leader, "leader_requests") == [request]
    assert listed(head_a, "leader_requests") == [request]
    assert listed(leader_outside, "leader_requests") == []
    # Named: that leader only, even one outside the task's agencies.
    task.plan.leader_in_charge = leader_outside
    task.plan.save()
    assert listed(leader, "leader_requests") == []
    assert listed(leader_outside, "leader_requests") == [request]


# --- The lists agree with the permissions ----------------------------------------------


def test_the_lists_agree_with_supervision_permissions(
    plan, agency_a, agency_b, staff_a, staff_b, head_a, leader, leader_outside, supervisor, supervisor_outside
):
    # given: objects waiting at every step, on tasks led by A and by B
    reviewer_b = make_user("reviewer_b", Role.STAFF, agency_b, is_unit_reviewer=True)
    task_a = make_task(plan, None, "1", lead=agency_a, co_owners=[agency_b])
    task_b = make_task(plan, None, "2", lead=agency_b)
    objects = []
    for task, author in ((task_a, staff_a), (task_b, staff_b)):
        objects += [
            (make_report(task, author, ReportState.PENDING_SIGNOFF), "signoff_reports", REPORTS, Action.SIGN_OFF),
            (make_request(task, author, RequestState.PENDING_UNIT), "unit_requests", REQUESTS, Action.APPROVE),
            (make_request(task, author, RequestState.PENDING_SUPERVISOR), "supervisor_requests", REQUESTS, "approve"),
            (make_request(task, author, RequestState.PENDING_LEADER), "leader_requests", REQUESTS, Action.APPROVE),
            (
                CloseOut.objects.create(task=task, summary="完成", submitted_by=author),
                "close_outs",
                CLOSE_OUTS,
                "approve",
            ),
        ]
    review_task = make_task(plan, None, "3", lead=agency_b)
    objects.append(
        (make_report(review_task, staff_b, ReportState.PENDING_REVIEW), "review_reports", REPORTS, Action.ACCEPT)
    )
    people = [staff_a, staff_b, reviewer_b, head_a, leader, leader_outside, supervisor, supervisor_outside]
    plan.leader_in_charge = None
    plan.save()

    # then: an object is on a person's list exactly when the machine lets them decide it
    answers = set()
    for user in people:
        user = type(user).objects.get(pk=user.pk)  # a fresh scope memo
        for obj, key, machine, action in objects:
            may = machine.may(loaded(obj), user, action)
            assert (obj in listed(user, key)) == may, (user.username, key, obj)
            answers.add(may)
    assert answers == {True, False}


# --- Counts, the page and the header -------------------------------------------------


def test_counts_come_in_one_query_and_match_the_items(task, staff_a, supervisor, django_assert_num_queries):
    make_report(task, staff_a, ReportState.PENDING_REVIEW)
    make_request(task, staff_a, RequestState.PENDING_SUPERVISOR)
    user = type(supervisor).objects.get(pk=supervisor.pk)
    sections(user, TODAY)  # the scope memo, as a page's middleware would have it
    with django_assert_num_queries(1):
        assert total(user, TODAY) == 2
    assert {s.key: s.count for s in with_counts(user, TODAY)} == {
        "review_reports": 1,
        "close_outs": 0,
        "supervisor_requests": 1,
        # escalation's section (supervision.worklist.register), counted in the same query
        "answered_notices": 0,
    }


def _page_with(client, supervisor, staff_a, plan, agency_a, n):
    for _ in range(n):
        task = make_task(plan, None, f"p{Task.objects.count() + 1}", lead=agency_a)
        make_report(task, staff_a, ReportState.PENDING_REVIEW, due=timezone.localdate(), today=timezone.localdate())
        make_request(task, staff_a, RequestState.PENDING_SUPERVISOR, due=timezone.localdate())
    client.force_login(supervisor)
    return client.get("/supervision/")


def test_the_page_lists_each_section_with_links_and_bounded_queries(
    client, plan, agency_a, staff_a, supervisor, django_assert_max_num_queries
):
    _page_with(client, supervisor, staff_a, plan, agency_a, 1)  # warm: sessions, caches
    with django_assert_max_num_queries(30) as few:
        response = _page_with(client, supervisor, staff_a, plan, agency_a, 0)
    baseline = len(few.captured_queries)
    _page_with(client, supervisor, staff_a, plan, agency_a, 12)
    with django_assert_max_num_queries(baseline):
        response = client.get("/supervision/")

    assert response.status_code == 200
    page = response.content.decode()
    report = PeriodReport.objects.order_by("pk").first()
    request = ChangeRequest.objects.order_by("pk").first()
    assert f'href="/supervision/reports/{report.pk}/"' in page
    assert f'href="/supervision/requests/{request.pk}/"' in page
    assert '<span class="badge">26</span>' in page  # the header: 13 reports and 13 requests


def test_the_page_shows_the_oldest_and_says_how_many(client, plan, agency_a, staff_a, supervisor):
    task = make_task(plan, None, "x", lead=agency_a)
    today = timezone.localdate()
    for n in range(SECTION_CAP + 2):
        make_request(task, staff_a, RequestState.PENDING_SUPERVISOR, due=today + datetime.timedelta(days=n))
    client.force_login(supervisor)
    page = client.get("/supervision/").content.decode()
    assert page.count('href="/supervision/requests/') == SECTION_CAP
    assert str(SECTION_CAP + 2) in page


@pytest.mark.parametrize("role", [Role.SECURITY, Role.AUDITOR])
def test_the_page_and_badge_are_for_work_roles_only(client, commission, role):
    user = make_user(f"u_{role}", role, commission)
    client.force_login(user)
    assert client.get("/supervision/").status_code == 403


def test_staff_see_the_badge_with_what_they_owe(client, task, staff_a):
    client.force_login(staff_a)
    page = client.get("/supervision/").content.decode()
    assert "本期待报送" in page
    assert f'href="/tasks/{task.pk}/"' in page
    assert 'class="worklist-link"' in page


def test_the_header_badge_follows_each_step_at_once(task, staff_a, supervisor, django_capture_on_commit_callbacks):
    """The badge is kept for a minute per person, but a step of the loop starts a new
    generation: the supervisor's count moves as soon as a report reaches them."""
    from supervision.worklist import badge_total

    task.plan.status = "active"
    task.plan.save()
    today = timezone.localdate()
    assert badge_total(supervisor, today) == 0
    with django_capture_on_commit_callbacks(execute=True):
        reports.submit_report(
            task.pk,
            staff_a,
            version=None,
            task_version=task.version,
            progress="进展",
            problems="无",
            next_steps="继续",
            today=today,
        )
    assert badge_total(supervisor, today) == 1
