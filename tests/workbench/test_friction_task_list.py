"""The leader's 任务清单 (issue 19, everyday friction): each task's 牵头单位 and 配合单位, and
the role of the viewer's own agency on that task, not of anything in the viewer's tree; a
bounded number of queries; and the dashboard says where a shared task counts once per owner."""

import datetime
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import make_task

URL = "/tasks/mine/"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(datetime.datetime(2026, 11, 24, 4, 0, tzinfo=datetime.UTC), tick=False):
        yield


def row_of(html: str, heading: str) -> str:
    start = html.rindex("<tr", 0, html.index(heading))
    return html[start : html.index("</tr>", start)]


def cell(row: str, css_class: str) -> str:
    match = re.search(rf'<td [^>]*class="(?:[^"]* )?{css_class}(?: [^"]*)?"[^>]*>(.*?)</td>', row, re.S)
    assert match, css_class
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


@pytest.fixture
def shared(plan, section, commission, agency_a, agency_b):
    due = datetime.date(2026, 12, 31)
    return {
        "a_leads": make_task(plan, section, "1", lead=agency_a, co_owners=[agency_b], heading="A牵头B配合", due_on=due),
        "own_leads": make_task(plan, section, "2", lead=commission, co_owners=[agency_a], heading="委牵头", due_on=due),
        "own_helps": make_task(plan, section, "3", lead=agency_b, co_owners=[commission], heading="委配合", due_on=due),
    }


def test_the_leader_list_names_lead_and_co_owners_and_the_role_relative_to_the_task(client, leader, shared):
    client.force_login(leader)

    html = client.get(URL).content.decode()

    assert "<th>牵头单位</th>" in html and "<th>配合单位</th>" in html and "<th>本单位角色</th>" in html
    a_leads = row_of(html, "A牵头B配合")
    assert cell(a_leads, "owner-lead") == "医政医管处"
    assert cell(a_leads, "owner-co") == "疾病预防控制处"
    # A is in the leader's tree, but the leader's own agency has no part in this task.
    assert cell(a_leads, "own-role") == "—"
    assert cell(row_of(html, "委牵头"), "own-role") == "牵头"
    assert cell(row_of(html, "委牵头"), "owner-co") == "医政医管处"
    assert cell(row_of(html, "委配合"), "own-role") == "配合"


def test_staff_keep_their_own_role_column_without_owner_columns(client, staff_b, shared):
    client.force_login(staff_b)

    html = client.get(URL).content.decode()

    assert "<th>牵头单位</th>" not in html
    assert cell(row_of(html, "A牵头B配合"), "own-role") == "配合"
    assert cell(row_of(html, "委配合"), "own-role") == "牵头"


def test_the_leader_list_runs_the_same_queries_however_many_rows(client, plan, section, agency_a, agency_b, leader):
    def page_queries(rows: int) -> int:
        for n in range(rows):
            make_task(
                plan, section, f"{rows}-{n}", lead=agency_a, co_owners=[agency_b], due_on=datetime.date(2026, 12, 31)
            )
        client.get(URL)  # the header's cached work-list badge, filled once
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL)
        assert response.status_code == 200
        return len(queries)

    client.force_login(leader)
    few = page_queries(2)
    many = page_queries(25)  # 27 on the page: its owners still come in one prefetch
    assert few == many <= 13


def test_the_dashboard_says_a_shared_task_counts_once_per_owner(client, leader, shared):
    client.force_login(leader)

    html = client.get("/dashboard/").content.decode()

    by_agency = html[html.index('id="by-agency"') :]
    assert "同一任务由多个单位承担时，每个单位各计一次" in by_agency[: by_agency.index("</table>")]
