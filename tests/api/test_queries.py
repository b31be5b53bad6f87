"""Every list runs the same number of SQL queries whatever the page holds: pinned per
endpoint at 5 and at 50 rows (each row with its related rows: owners, milestones, files,
readings, aliases)."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from api.models import ApiToken
from tests.api.conftest import as_user
from tests.conftest import make_task

pytestmark = pytest.mark.django_db

# Signed in with a session: session and user (2), the page's count and rows, their
# prefetches, and the session's save (3: SAVEPOINT, UPDATE, RELEASE).
SESSION = 2 + 3


def fill_tasks(world, start, stop):
    from tasks.models import Milestone, ProgressUpdate

    a, b = world["agencies"]["agency_a"], world["agencies"]["agency_b"]
    staff = world["users"]["staff_lead"]
    for k in range(start, stop):
        task = make_task(
            world["plans"]["plan"],
            world["sections"]["section_two"],
            f"q{k}",
            lead=a,
            co_owners=[b],
            due_on=datetime.date(2026, 12, 31),
        )
        task.responsible_users.add(staff)
        Milestone.objects.create(task=task, due_on=datetime.date(2026, 12, 1), text="节点")
        ProgressUpdate.objects.create(task=task, author=staff, status="in_progress", percent=10, note="进展")


def fill_updates(world, start, stop):
    from indicators.models import Reading
    from tasks.models import Attachment, ProgressUpdate

    task, staff = world["tasks"]["task_ab"], world["users"]["staff_lead"]
    for k in range(start, stop):
        update = ProgressUpdate.objects.create(
            task=task, author=staff, status="in_progress", percent=30, note=f"第{k}次"
        )
        Attachment.objects.create(
            progress_update=update,
            task=task,
            file=f"evidence/x{k}.pdf",
            original_name="a.pdf",
            kind="pdf",
            content_type="application/pdf",
            size=1,
            sha256="0" * 64,
            uploaded_by=staff,
        )
        Reading.objects.create(
            indicator=world["indicators"]["ind_ab"],
            value=k,
            as_of=datetime.date(2026, 11, 1),
            reporter=staff,
            progress_update=update,
        )


def fill_plans(world, start, stop):
    from workplans.models import Plan, Section

    for k in range(start, stop):
        plan = Plan.objects.create(title=f"计划{k}", year=2026, status="active", issuer=world["agencies"]["commission"])
        section = Section.objects.create(plan=plan, label="一")
        make_task(plan, section, "1", lead=world["agencies"]["agency_a"])


def fill_agencies(world, start, stop):
    from accounts.models import Agency, AgencyAlias

    for k in range(start, stop):
        agency = Agency.objects.create(name=f"单位{k}", parent=world["agencies"]["commission"])
        AgencyAlias.objects.create(agency=agency, name=f"别名{k}")


def fill_indicators(world, start, stop):
    from indicators.models import Indicator, Reading

    for k in range(start, stop):
        indicator = Indicator.objects.create(
            plan=world["plans"]["plan"], task=world["tasks"]["task_ab"], name=f"指标{k}", target=10
        )
        Reading.objects.create(
            indicator=indicator, value=k, as_of=datetime.date(2026, 10, 1), reporter=world["users"]["staff_lead"]
        )


def fill_readings(world, start, stop):
    from indicators.models import Reading

    for k in range(start, stop):
        Reading.objects.create(
            indicator=world["indicators"]["ind_ab"],
            value=k,
            as_of=datetime.date(2026, 10, 1),
            reporter=world["users"]["staff_lead"],
        )


def fill_notifications(world, start, stop):
    from notifications.models import Notification

    for k in range(start, stop):
        Notification.objects.create(
            recipient=world["users"]["staff_lead"], rule="task_due", title=f"提醒{k}", task=world["tasks"]["task_ab"]
        )


def fill_tokens(world, start, stop):
    staff = world["users"]["staff_lead"]
    for k in range(start, stop):
        ApiToken.issue(staff, f"令牌{k}", created_by=staff)


def fill_sections(world, start, stop):
    from workplans.models import Section

    for k in range(start, stop):
        Section.objects.create(plan=world["plans"]["plan"], label=f"{k}", title="部分")


# endpoint: (how to add rows, the pinned number of queries for staff of agency A)
PINNED = {
    "tasks": (fill_tasks, SESSION + 2 + 3),  # count, rows; owners, milestones, 责任人
    "progress-updates": (fill_updates, SESSION + 2 + 3),  # count, rows; files, readings, milestones done
    "plans": (fill_plans, SESSION + 2),
    "sections": (fill_sections, SESSION + 2),
    "agencies": (fill_agencies, SESSION + 2 + 1),  # aliases
    "indicators": (fill_indicators, SESSION + 2),  # the latest reading is a subquery
    "readings": (fill_readings, SESSION + 2),
    "notifications": (fill_notifications, SESSION + 2),
    "tokens": (fill_tokens, SESSION + 2),
}


def count_queries(api, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = api.get(url, {"page_size": 100})
    assert response.status_code == 200
    return len(captured.captured_queries), response.json()["count"]


@pytest.mark.parametrize("endpoint", PINNED)
def test_a_list_runs_the_same_queries_for_5_and_50_rows(api, world, endpoint):
    fill, pinned = PINNED[endpoint]
    url = f"/api/v1/{endpoint}/"
    as_user(api, world["users"]["staff_lead"])
    fill(world, 0, 5)
    small, small_count = count_queries(api, url)
    fill(world, 5, 50)
    large, large_count = count_queries(api, url)
    assert large_count >= small_count + 45
    assert small == large == pinned


def test_a_token_request_reads_the_token_and_user_in_one_query(api, world):
    _token, key = ApiToken.issue(world["users"]["staff_lead"], "同步", created_by=world["users"]["staff_lead"])
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    fill_tasks(world, 0, 5)
    with CaptureQueriesContext(connection) as captured:
        assert api.get("/api/v1/tasks/").status_code == 200
    # the token with its user and agency, last used (once a minute), count, rows, three prefetches
    assert len(captured.captured_queries) == 1 + 1 + 2 + 3
    with CaptureQueriesContext(connection) as captured:
        assert api.get("/api/v1/tasks/").status_code == 200
    assert len(captured.captured_queries) == 1 + 2 + 3


def test_a_leader_s_list_adds_one_query_for_the_agency_tree(api, world):
    as_user(api, world["users"]["leader"])
    fill_tasks(world, 0, 5)
    small, _ = count_queries(api, "/api/v1/tasks/")
    fill_tasks(world, 5, 50)
    large, _ = count_queries(api, "/api/v1/tasks/")
    assert small == large == PINNED["tasks"][1] + 1


@pytest.mark.parametrize("persona", ["staff_lead", "leader"])
def test_the_task_list_runs_the_same_queries_however_many_tasks_other_agencies_have(api, world, persona):
    """The list starts from the caller's owner rows: tasks of agencies outside the scope add
    no query (nor rows to the count)."""
    from accounts.models import Agency

    # given
    as_user(api, world["users"][persona])
    fill_tasks(world, 0, 5)
    elsewhere = Agency.objects.create(name="别处的单位")
    before, before_count = count_queries(api, "/api/v1/tasks/?at_risk=0&updated_since=2026-01-01")
    # when
    for k in range(40):
        make_task(world["plans"]["plan"], world["sections"]["section_two"], f"x{k}", lead=elsewhere)
    after, after_count = count_queries(api, "/api/v1/tasks/?at_risk=0&updated_since=2026-01-01")
    # then
    assert after == before
    assert after_count == before_count >= 5
