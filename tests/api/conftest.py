"""The API's test world: the shared personas (tests/conftest.py) plus the outsiders, and a
set of plans and tasks each persona sees part of.

    agency A (staff_a) ─┐
    agency B (staff_b) ─┴─ under the commission (leader); admin; auditor
    outside agency (staff_outside, leader_outside): owns nothing of A's or B's

    plan      2026 active:   task_ab (A leads, B co-owns), task_a (A), task_b (B)
    plan_out  2025 active:   task_out (outside agency)
    archived  2024 archived: task_archived (A)
    draft     2026 draft:    task_draft (A)

Who sees which task (VISIBLE_TASKS) is the pages' rule: staff their agency's, leaders their
agencies' and those below, admins all (drafts too), auditors nothing of the work data.
"""

import copy
import datetime

import pytest
import time_machine
from rest_framework.test import APIClient

from tests.conftest import make_task
from tests.fixtures.accounts import (
    PERSONAS,  # noqa: F401 - the API tests import it from here
    create_agencies,
    create_personas,
)
from tests.fixtures.shared import built_once
from tests.fixtures.workplans import create_plan, create_section

TODAY = datetime.date(2026, 11, 24)
NOW = datetime.datetime(2026, 11, 24, 4, 0, tzinfo=datetime.UTC)

WORK_PERSONAS = ("staff_lead", "staff_co_owner", "staff_outside", "leader", "leader_outside", "admin")

VISIBLE_TASKS = {
    "staff_lead": {"task_ab", "task_a", "task_archived"},
    "staff_co_owner": {"task_ab", "task_b"},
    "staff_outside": {"task_out"},
    "leader": {"task_ab", "task_a", "task_b", "task_archived"},
    "leader_outside": {"task_out"},
    "admin": {"task_ab", "task_a", "task_b", "task_out", "task_archived", "task_draft"},
}


@pytest.fixture(autouse=True)
def api_settings(settings):
    # Rates high enough for any test but the throttling one, which lowers them.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "100000/min", "anon": "100000/min"},
    }


@pytest.fixture(autouse=True)
def today():
    # Noon in Shanghai, so "today" is the same calendar day in every test.
    with time_machine.travel(NOW, tick=False):
        yield TODAY


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def world(settings, tmp_path, personas, commission, agency_a, agency_b, outside_agency, plan, section):
    """The world above, on the shared personas (tests/fixtures/accounts.py), agencies and
    plan: made for each test. tests/api/test_permission_matrix.py and test_endpoints.py
    build it once per module instead (module_world)."""
    settings.MEDIA_ROOT = tmp_path
    agencies = {"commission": commission, "agency_a": agency_a, "agency_b": agency_b, "outside_agency": outside_agency}
    return populate_world(personas, agencies, plan, section)


@pytest.fixture(scope="module")
def module_world(django_db_setup, django_db_blocker):
    """The same world, built once for a module's tests, at the tests' noon (a test's `world`
    is then a deep copy of it: tests/fixtures/shared.py)."""

    def build():
        with time_machine.travel(NOW, tick=False):
            agencies = create_agencies()
            plan = create_plan(agencies["commission"])
            return populate_world(create_personas(agencies), agencies, plan, create_section(plan))

    yield from built_once(django_db_blocker, build)


@pytest.fixture
def shared_world(module_world, db, settings, tmp_path):
    """For a module's own `world` fixture: `def world(shared_world): return shared_world`."""
    settings.MEDIA_ROOT = tmp_path
    return copy.deepcopy(module_world)


def populate_world(users, agencies, plan, section) -> dict:
    """Everything but the personas (PERSONAS → user), the agencies, the plan and its section."""
    from indicators.models import Indicator, Reading
    from tasks.choices import TaskStatus
    from tasks.models import Milestone, ProgressUpdate
    from workplans.choices import PlanStatus
    from workplans.models import Plan, Section

    commission, agency_a, agency_b = agencies["commission"], agencies["agency_a"], agencies["agency_b"]
    outside_agency = agencies["outside_agency"]
    staff_a, staff_b, admin_user = users["staff_lead"], users["staff_co_owner"], users["admin"]
    plan_out = Plan.objects.create(
        title="2025年医保协同工作要点", year=2025, issuer=outside_agency, status=PlanStatus.ACTIVE
    )
    archived = Plan.objects.create(
        title="2024年卫生健康工作要点", year=2024, issuer=commission, status=PlanStatus.ARCHIVED
    )
    draft = Plan.objects.create(title="2026年卫生健康工作要点（草稿）", year=2026, issuer=commission)
    subsection = Section.objects.create(plan=plan, parent=section, label="(一)", title="医疗集团", order=1)
    section_two = Section.objects.create(plan=plan, label="二", title="公共卫生", order=2)
    section_out = Section.objects.create(plan=plan_out, label="一", title="医保协同")
    section_archived = Section.objects.create(plan=archived, label="一", title="往年工作")
    section_draft = Section.objects.create(plan=draft, label="一", title="草稿部分")
    tasks = {
        "task_ab": make_task(
            plan,
            subsection,
            "1",
            lead=agency_a,
            co_owners=[agency_b],
            heading="推进紧密型城市医疗集团建设",
            text="年内组建2个城市医疗集团。",
            due_on=datetime.date(2026, 12, 31),
        ),
        "task_a": make_task(
            plan,
            section,
            "2",
            lead=agency_a,
            heading="醫療服務質量提升行動",
            due_on=datetime.date(2026, 10, 31),
        ),
        "task_b": make_task(
            plan,
            section_two,
            "1",
            lead=agency_b,
            heading="完善传染病监测预警",
            due_on=datetime.date(2026, 12, 5),
        ),
        "task_out": make_task(
            plan_out,
            section_out,
            "1",
            lead=outside_agency,
            heading="医保支付方式改革",
            due_on=datetime.date(2025, 12, 31),
        ),
        "task_archived": make_task(
            archived,
            section_archived,
            "1",
            lead=agency_a,
            heading="往年的医疗任务",
            due_on=datetime.date(2024, 12, 31),
        ),
        "task_draft": make_task(
            draft,
            section_draft,
            "1",
            lead=agency_a,
            heading="草稿中的医疗任务",
            due_on=datetime.date(2026, 12, 31),
        ),
    }
    tasks["task_ab"].responsible_users.add(staff_a)
    milestone = Milestone.objects.create(task=tasks["task_ab"], due_on=datetime.date(2026, 12, 1), text="完成集团章程")
    indicators = {
        "ind_ab": Indicator.objects.create(plan=plan, task=tasks["task_ab"], name="城市医疗集团", target=2, unit="个"),
        "ind_b": Indicator.objects.create(plan=plan, task=tasks["task_b"], name="监测覆盖率", target=95, unit="%"),
        "ind_out": Indicator.objects.create(
            plan=plan_out, task=tasks["task_out"], name="医保结算率", target=90, unit="%"
        ),
        "ind_plan": Indicator.objects.create(plan=plan, name="全市人均预期寿命", target=80, unit="岁"),
        "ind_draft": Indicator.objects.create(
            plan=draft, task=tasks["task_draft"], name="草稿指标", target=1, unit="个"
        ),
    }
    # History: A reported on task_ab with a reading; the outside agency on task_out; B on task_b.
    updates = {
        "update_ab": ProgressUpdate.objects.create(
            task=tasks["task_ab"],
            author=staff_a,
            status=TaskStatus.IN_PROGRESS,
            percent=30,
            note="完成摸底",
            created_at=datetime.datetime(2026, 9, 1, 2, 0, tzinfo=datetime.UTC),
        ),
        "update_b": ProgressUpdate.objects.create(
            task=tasks["task_b"],
            author=staff_b,
            status=TaskStatus.IN_PROGRESS,
            percent=50,
            note="已部署",
            created_at=datetime.datetime(2026, 10, 1, 2, 0, tzinfo=datetime.UTC),
        ),
        "update_out": ProgressUpdate.objects.create(
            task=tasks["task_out"],
            author=users["staff_outside"],
            status=TaskStatus.IN_PROGRESS,
            percent=60,
            created_at=datetime.datetime(2025, 10, 1, 2, 0, tzinfo=datetime.UTC),
        ),
        "update_archived": ProgressUpdate.objects.create(
            task=tasks["task_archived"],
            author=staff_a,
            status=TaskStatus.DONE,
            percent=100,
            note="完成",
            created_at=datetime.datetime(2024, 12, 1, 2, 0, tzinfo=datetime.UTC),
        ),
    }
    readings = {
        "reading_ab": Reading.objects.create(
            indicator=indicators["ind_ab"],
            value=1,
            as_of=datetime.date(2026, 9, 1),
            reporter=staff_a,
            progress_update=updates["update_ab"],
        ),
        "reading_b": Reading.objects.create(
            indicator=indicators["ind_b"],
            value=80,
            as_of=datetime.date(2026, 10, 1),
            reporter=staff_b,
        ),
        "reading_out": Reading.objects.create(
            indicator=indicators["ind_out"],
            value=70,
            as_of=datetime.date(2025, 10, 1),
            reporter=users["staff_outside"],
        ),
        "reading_plan": Reading.objects.create(
            indicator=indicators["ind_plan"],
            value=79.5,
            as_of=datetime.date(2026, 6, 30),
            reporter=admin_user,
        ),
    }
    return {
        "users": users,
        "plans": {"plan": plan, "plan_out": plan_out, "archived": archived, "draft": draft},
        "sections": {
            "section": section,
            "subsection": subsection,
            "section_two": section_two,
            "section_out": section_out,
            "section_archived": section_archived,
            "section_draft": section_draft,
        },
        "tasks": tasks,
        "milestone": milestone,
        "indicators": indicators,
        "updates": updates,
        "readings": readings,
        "agencies": {"commission": commission, "agency_a": agency_a, "agency_b": agency_b, "outside": outside_agency},
    }


def as_user(api, user):
    api.force_authenticate(user=None)
    api.logout()
    if user is not None:
        api.force_login(user)
    return api


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def etag(task) -> str:
    task.refresh_from_db()
    return f'"task-{task.pk}-v{task.version}"'
