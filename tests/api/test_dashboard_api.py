"""/api/v1/dashboard/overview/: the leaders' figures, the same as the 督办总览 page's."""

import pytest

from dashboards.services import overview
from tests.api.conftest import as_user, ids

pytestmark = pytest.mark.django_db

URL = "/api/v1/dashboard/overview/"


def test_a_leader_gets_the_figures_of_their_agencies(api, world):
    as_user(api, world["users"]["leader"])
    body = api.get(URL, {"year": 2026}).json()
    scope = {world["agencies"][k].pk for k in ("commission", "agency_a", "agency_b")}
    expected = overview(scope, 2026)
    assert body["year"] == 2026 and body["today"] == "2026-11-24"
    assert body["total"]["tasks"] == expected.total.tasks == 3
    assert (body["total"]["overdue"], body["total"]["at_risk"]) == (expected.total.overdue, expected.total.at_risk)
    assert [row["label"] for row in body["plans"]] == ["2026年测试市卫生健康工作要点"]
    assert {row["label"] for row in body["agencies"]} == {"医政医管处", "疾病预防控制处"}
    assert body["indicators"] == {"met": 0, "missed": 2, "unreported": 0, "total": 2}


def test_each_row_says_which_tasks_it_counts(api, world):
    """A row's tasks_query, given to the task list, lists exactly the tasks behind its figure."""
    as_user(api, world["users"]["leader"])
    body = api.get(URL, {"year": 2026, "plan_id": world["plans"]["plan"].pk}).json()
    for row in [*body["plans"], *body["agencies"]]:
        listed = ids(api.get(f"/api/v1/tasks/?{row['tasks_query']}&page_size=200"))
        assert len(listed) == row["tasks"], row
    # A section's row counts the tasks filed directly under it, while the task list's section
    # filter (like the page's drill-down) also takes the sections below it.
    for row in body["sections"]:
        listed = ids(api.get(f"/api/v1/tasks/?{row['tasks_query']}&page_size=200"))
        assert len(listed) >= row["tasks"], row


def test_staff_and_auditors_are_refused_and_a_plan_outside_the_scope_counts_nothing(api, world):
    for persona in ("staff_lead", "auditor"):
        as_user(api, world["users"][persona])
        assert api.get(URL).status_code == 403
    as_user(api, world["users"]["leader_outside"])
    body = api.get(URL, {"year": 2026, "plan_id": world["plans"]["plan"].pk}).json()
    assert body["total"]["tasks"] == 0 and body["plans"] == [] and body["sections"] == []


@pytest.mark.parametrize("params", [{"year": 1999}, {"year": "今年"}, {"plan_id": 0}, {"plan_id": 2**64}])
def test_bad_parameters_are_400(api, world, params):
    as_user(api, world["users"]["admin"])
    response = api.get(URL, params)
    assert response.status_code == 400 and response.json()["code"] == "invalid"
