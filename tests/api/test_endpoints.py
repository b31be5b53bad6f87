"""Every endpoint through the one mixin (tests/api/endpoints.py): list, detail, the 404s and
403s of the permission rules, filters, ordering and pages, and create."""

import datetime
import functools
import operator

import pytest

from tests.api.conftest import VISIBLE_TASKS, etag
from tests.api.endpoints import EndpointTests

pytestmark = pytest.mark.django_db

EVERYONE_SEES = {"staff_lead", "staff_co_owner", "staff_outside", "leader", "leader_outside", "admin"}
ALL_AGENCIES = {"commission", "agency_a", "agency_b", "outside"}


@pytest.fixture
def world(shared_world):
    """The API's world (tests/api/conftest.py), built once for this module's tests."""
    return shared_world


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/tasks/0.5/",
        "/api/v1/tasks/-1/",
        "/api/v1/tasks/1e3/",
        f"/api/v1/tasks/{2**64}/",
        "/api/v1/tasks/abc/",
        "/api/v1/plans/1.json",
        "/api/v1/notifications/0.5/read/",
        "/api/v1/no-such-thing/",
        "/api/v1/tasks/1/x/",
    ],
)
def test_any_other_path_or_id_is_a_json_404(api, world, path):
    from tests.api.conftest import as_user

    as_user(api, world["users"]["admin"])
    response = api.post(path) if path.endswith("/read/") else api.get(path)
    assert response.status_code == 404
    assert response.json() == {"detail": "未找到。", "code": "not_found"}


class TestAgencies(EndpointTests):
    url = "/api/v1/agencies/"
    visible = dict.fromkeys(EVERYONE_SEES, ALL_AGENCIES)
    ordering = "name"
    filters = [
        ("staff_lead", lambda w: {"parent_id": w["agencies"]["commission"].pk}, {"agency_a", "agency_b"}),
        ("staff_lead", lambda w: {"parent": w["agencies"]["commission"].name}, {"agency_a", "agency_b"}),
        ("staff_lead", {"q": "医政"}, {"agency_a"}),
        ("staff_lead", {"q": "醫政"}, {"agency_a"}),  # either script
        ("staff_lead", {"q": "卫生健康委"}, {"commission"}),  # the short name
        ("staff_lead", {"level": "department"}, {"agency_a", "agency_b"}),
        ("staff_lead", {"is_active": "true"}, ALL_AGENCIES),
        ("staff_lead", {"in_scope": "true"}, {"agency_a"}),
        ("leader", {"in_scope": "true"}, {"commission", "agency_a", "agency_b"}),
        ("leader", {"in_scope": "false"}, {"outside"}),
        ("admin", {"in_scope": "true"}, ALL_AGENCIES),
    ]

    def objects(self, world):
        return world["agencies"]


class TestPlans(EndpointTests):
    url = "/api/v1/plans/"
    visible = {
        "staff_lead": {"plan", "archived"},
        "staff_co_owner": {"plan"},
        "staff_outside": {"plan_out"},
        "leader": {"plan", "archived"},
        "leader_outside": {"plan_out"},
        "admin": {"plan", "plan_out", "archived", "draft"},
    }
    ordering = "year"
    filters = [
        ("admin", {"year": 2026}, {"plan", "draft"}),
        ("admin", {"status": "archived"}, {"archived"}),
        ("admin", {"status": ["active", "draft"]}, {"plan", "plan_out", "draft"}),
        ("admin", lambda w: {"agency_id": w["agencies"]["outside"].pk}, {"plan_out"}),
        ("admin", lambda w: {"agency": w["agencies"]["agency_b"].name}, {"plan"}),
        ("admin", lambda w: {"issuer_id": w["agencies"]["outside"].pk}, {"plan_out"}),
        ("admin", lambda w: {"issuer": w["agencies"]["commission"].name}, {"plan", "archived", "draft"}),
        ("admin", {"title": "草稿"}, {"draft"}),
        ("admin", {"reporting_cycle": "monthly"}, {"plan", "plan_out", "archived", "draft"}),
        # A filter never widens what a persona sees.
        ("staff_lead", {"year": 2026}, {"plan"}),
        ("staff_lead", lambda w: {"agency_id": w["agencies"]["outside"].pk}, set()),
    ]

    def objects(self, world):
        return world["plans"]


class TestSections(EndpointTests):
    url = "/api/v1/sections/"
    visible = {
        "staff_lead": {"section", "subsection", "section_two", "section_archived"},
        "staff_co_owner": {"section", "subsection", "section_two"},
        "staff_outside": {"section_out"},
        "leader": {"section", "subsection", "section_two", "section_archived"},
        "leader_outside": {"section_out"},
        "admin": {"section", "subsection", "section_two", "section_out", "section_archived", "section_draft"},
    }
    filters = [
        ("admin", lambda w: {"plan_id": w["plans"]["plan"].pk}, {"section", "subsection", "section_two"}),
        ("admin", lambda w: {"plan": w["plans"]["plan"].title}, {"section", "subsection", "section_two"}),
        ("admin", lambda w: {"parent_id": w["sections"]["section"].pk}, {"subsection"}),
        ("admin", lambda w: {"parent": w["sections"]["section"].label}, {"subsection"}),
        ("staff_co_owner", {"top": "true"}, {"section", "section_two"}),
        ("admin", {"year": 2024}, {"section_archived"}),
    ]

    def objects(self, world):
        return world["sections"]


class TestTasks(EndpointTests):
    url = "/api/v1/tasks/"
    visible = VISIBLE_TASKS
    ordering = "due_on"
    filters = [
        # q: heading and text, every word, either script
        ("admin", {"q": "医疗"}, {"task_ab", "task_a", "task_archived", "task_draft"}),
        ("admin", {"q": "醫療 集團"}, {"task_ab"}),
        ("admin", {"q": "2个城市"}, {"task_ab"}),
        ("admin", lambda w: {"plan_id": w["plans"]["plan"].pk}, {"task_ab", "task_a", "task_b"}),
        ("admin", lambda w: {"plan": w["plans"]["plan"].title}, {"task_ab", "task_a", "task_b"}),
        ("admin", {"plan_status": "archived"}, {"task_archived"}),
        ("admin", {"year": 2026}, {"task_ab", "task_a", "task_b", "task_draft"}),
        # section: the section and those below it
        ("admin", lambda w: {"section_id": w["sections"]["section"].pk}, {"task_ab", "task_a"}),
        ("admin", lambda w: {"section_id": w["sections"]["subsection"].pk}, {"task_ab"}),
        (
            "admin",
            lambda w: {"plan_id": w["plans"]["plan"].pk, "section": w["sections"]["section"].label},
            {"task_ab", "task_a"},
        ),
        ("admin", lambda w: {"owner_id": w["agencies"]["agency_b"].pk}, {"task_ab", "task_b"}),
        ("admin", lambda w: {"owner": w["agencies"]["agency_b"].name}, {"task_ab", "task_b"}),
        ("admin", {"owner": "醫政醫管處"}, {"task_ab", "task_a", "task_archived", "task_draft"}),
        ("admin", {"owner": "没有这个单位"}, set()),
        ("admin", lambda w: {"responsible_id": w["users"]["staff_lead"].pk}, {"task_ab"}),
        ("admin", lambda w: {"responsible": w["users"]["staff_lead"].username}, {"task_ab"}),
        ("staff_lead", {"role": "lead"}, {"task_ab", "task_a", "task_archived"}),
        ("staff_co_owner", {"role": "co_owner"}, {"task_ab"}),
        ("admin", {"status": "in_progress"}, {"task_ab", "task_b", "task_out"}),
        ("admin", {"status": ["done", "not_started"]}, {"task_a", "task_archived", "task_draft"}),
        # today is 2026-11-24
        ("admin", {"overdue": "1"}, {"task_a", "task_out"}),
        ("admin", {"overdue": "0"}, {"task_ab", "task_b", "task_archived", "task_draft"}),
        ("admin", {"due_within": 14}, {"task_b"}),
        ("admin", {"due_after": "2026-12-01", "due_before": "2026-12-31"}, {"task_ab", "task_b", "task_draft"}),
        ("admin", {"due_before": "2025-12-31"}, {"task_out", "task_archived"}),
        ("admin", {"risk": "red"}, {"task_a", "task_out"}),
        ("admin", {"at_risk": "1"}, {"task_ab", "task_b", "task_draft"}),
        ("admin", {"reported": "0"}, {"task_ab", "task_a", "task_b", "task_out"}),
        ("admin", {"updated_since": "2026-11-24T00:00:00+08:00"}, set(VISIBLE_TASKS["admin"])),
        ("admin", {"updated_since": "2026-11-25T00:00:00+08:00"}, set()),
        # an offset beyond PostgreSQL's ±15:59 is still a valid ISO 8601 time
        ("admin", {"updated_since": "2026-11-24T16:51:00+16:51"}, set(VISIBLE_TASKS["admin"])),
        ("admin", {"updated_since": "2026-11-25T04:00:01+16:00"}, set()),
        # filters never widen the scope
        ("staff_lead", lambda w: {"owner_id": w["agencies"]["outside"].pk}, set()),
        ("staff_outside", {"q": "医疗"}, set()),
    ]
    creates = None

    def objects(self, world):
        return world["tasks"]

    def test_the_detail_carries_the_task_version_as_its_etag(self, api, world):
        from tests.api.conftest import as_user

        task = world["tasks"]["task_ab"]
        as_user(api, world["users"]["staff_lead"])
        response = api.get(self.detail_url(task))
        assert response["ETag"] == etag(task) == response.json()["etag"] == f'"task-{task.pk}-v{task.version}"'
        body = response.json()
        assert [(o["agency_name"], o["role"]) for o in body["owners"]] == [
            ("医政医管处", "lead"),
            ("疾病预防控制处", "co_owner"),
        ]
        assert [m["text"] for m in body["milestones"]] == ["完成集团章程"]
        assert body["access"] == {
            "can_change_status": True,
            "can_report": True,
            "can_assign": True,
            "owner_role": "lead",
        }
        assert body["risk"] == "amber" and body["overdue"] is False

    def test_an_ambiguous_owner_name_is_refused_with_the_candidates(self, api, world):
        from accounts.models import Agency
        from tests.api.conftest import as_user

        Agency.objects.filter(pk=world["agencies"]["agency_a"].pk).update(short_name="医政处")
        Agency.objects.filter(pk=world["agencies"]["agency_b"].pk).update(short_name="医政处")
        as_user(api, world["users"]["admin"])
        response = api.get(self.url, {"owner": "医政处"})
        assert response.status_code == 400
        assert "医政医管处" in response.json()["errors"]["owner"][0]

    def test_bad_filter_values_are_400_with_chinese_messages(self, api, world):
        from tests.api.conftest import as_user

        as_user(api, world["users"]["admin"])
        for params in (
            {"plan_id": "abc"},
            {"plan_id": str(2**70)},
            {"overdue": "maybe"},
            {"status": "gone"},
            {"due_after": "0001-01-01"},
            {"updated_since": "yesterday"},
            {"year": 1999},
        ):
            response = api.get(self.url, params)
            assert response.status_code == 400, params
            assert response.json()["code"] == "invalid"
            message = " ".join(functools.reduce(operator.iadd, response.json()["errors"].values(), []))
            assert any("\u4e00" <= ch <= "\u9fff" for ch in message), message


class TestProgressUpdates(EndpointTests):
    url = "/api/v1/progress-updates/"
    visible = {
        "staff_lead": {"update_ab", "update_archived"},
        "staff_co_owner": {"update_ab", "update_b"},
        "staff_outside": {"update_out"},
        "leader": {"update_ab", "update_b", "update_archived"},
        "leader_outside": {"update_out"},
        "admin": {"update_ab", "update_b", "update_out", "update_archived"},
    }
    ordering = "created_at"
    filters = [
        ("admin", lambda w: {"task_id": w["tasks"]["task_ab"].pk}, {"update_ab"}),
        ("admin", lambda w: {"plan_id": w["plans"]["plan"].pk}, {"update_ab", "update_b"}),
        ("admin", lambda w: {"plan": w["plans"]["plan"].title}, {"update_ab", "update_b"}),
        ("admin", lambda w: {"author_id": w["users"]["staff_lead"].pk}, {"update_ab", "update_archived"}),
        ("admin", lambda w: {"author": w["users"]["staff_lead"].username}, {"update_ab", "update_archived"}),
        ("admin", lambda w: {"agency_id": w["agencies"]["agency_b"].pk}, {"update_b"}),
        ("admin", lambda w: {"agency": w["agencies"]["agency_b"].name}, {"update_b"}),
        ("admin", {"status": "done"}, {"update_archived"}),
        ("admin", {"created_after": "2026-01-01T00:00:00+08:00"}, {"update_ab", "update_b"}),
        ("admin", {"created_before": "2025-12-31T23:59:59+08:00"}, {"update_out", "update_archived"}),
        ("staff_lead", lambda w: {"task_id": w["tasks"]["task_out"].pk}, set()),
    ]
    creates = [
        # a co-owner's note needs no If-Match
        ("staff_co_owner", lambda w: {"task": w["tasks"]["task_ab"].pk, "note": "配合完成调研"}, 201),
        ("leader", lambda w: {"task": w["tasks"]["task_ab"].pk, "note": "领导不能填报"}, 403),
        ("staff_outside", lambda w: {"task": w["tasks"]["task_ab"].pk, "note": "别人的任务"}, 404),
        ("staff_lead", lambda w: {"task": w["tasks"]["task_ab"].pk}, 400),  # nothing to save
    ]

    def objects(self, world):
        return world["updates"]


class TestIndicators(EndpointTests):
    url = "/api/v1/indicators/"
    visible = {
        "staff_lead": {"ind_ab", "ind_plan"},
        "staff_co_owner": {"ind_ab", "ind_b", "ind_plan"},
        "staff_outside": {"ind_out"},
        "leader": {"ind_ab", "ind_b", "ind_plan"},
        "leader_outside": {"ind_out"},
        "admin": {"ind_ab", "ind_b", "ind_out", "ind_plan", "ind_draft"},
    }
    filters = [
        ("admin", lambda w: {"plan_id": w["plans"]["plan"].pk}, {"ind_ab", "ind_b", "ind_plan"}),
        ("admin", lambda w: {"plan": w["plans"]["plan"].title}, {"ind_ab", "ind_b", "ind_plan"}),
        ("admin", lambda w: {"task_id": w["tasks"]["task_b"].pk}, {"ind_b"}),
        ("admin", {"year": 2025}, {"ind_out"}),
        ("admin", {"comparator": "<="}, set()),
        ("admin", {"q": "覆盖"}, {"ind_b"}),
        ("admin", {"due_after": "2026-01-01"}, set()),
    ]

    def objects(self, world):
        return world["indicators"]

    def test_it_gives_the_latest_reading_and_whether_the_target_is_met(self, api, world):
        from tests.api.conftest import as_user

        as_user(api, world["users"]["staff_co_owner"])
        rows = {row["name"]: row for row in api.get(self.url).json()["results"]}
        assert (rows["城市医疗集团"]["latest_value"], rows["城市医疗集团"]["met"]) == ("1.0000", False)
        assert (rows["全市人均预期寿命"]["latest_value"], rows["全市人均预期寿命"]["latest_as_of"]) == (
            "79.5000",
            "2026-06-30",
        )


class TestReadings(EndpointTests):
    url = "/api/v1/readings/"
    visible = {
        "staff_lead": {"reading_ab", "reading_plan"},
        "staff_co_owner": {"reading_ab", "reading_b", "reading_plan"},
        "staff_outside": {"reading_out"},
        "leader": {"reading_ab", "reading_b", "reading_plan"},
        "leader_outside": {"reading_out"},
        "admin": {"reading_ab", "reading_b", "reading_out", "reading_plan"},
    }
    ordering = "as_of"
    filters = [
        ("admin", lambda w: {"indicator_id": w["indicators"]["ind_b"].pk}, {"reading_b"}),
        ("admin", lambda w: {"indicator": w["indicators"]["ind_b"].name}, {"reading_b"}),
        ("admin", lambda w: {"task_id": w["tasks"]["task_ab"].pk}, {"reading_ab"}),
        ("admin", lambda w: {"plan_id": w["plans"]["plan_out"].pk}, {"reading_out"}),
        ("admin", lambda w: {"plan": w["plans"]["plan_out"].title}, {"reading_out"}),
        ("admin", lambda w: {"reporter_id": w["users"]["staff_co_owner"].pk}, {"reading_b"}),
        ("admin", lambda w: {"reporter": w["users"]["staff_co_owner"].username}, {"reading_b"}),
        ("admin", {"as_of_after": "2026-07-01"}, {"reading_ab", "reading_b"}),
        ("admin", {"as_of_after": "2026-01-01", "as_of_before": "2026-09-01"}, {"reading_ab", "reading_plan"}),
        ("staff_lead", lambda w: {"indicator_id": w["indicators"]["ind_out"].pk}, set()),
    ]
    creates = [
        (
            "staff_co_owner",
            lambda w: {"indicator": w["indicators"]["ind_ab"].pk, "value": "2", "as_of": "2026-11-20"},
            201,
        ),
        (
            "staff_lead",
            lambda w: {"indicator": w["indicators"]["ind_ab"].pk, "value": "-1", "as_of": "2026-11-20"},
            400,
        ),
        ("leader", lambda w: {"indicator": w["indicators"]["ind_ab"].pk, "value": "2", "as_of": "2026-11-20"}, 403),
        ("staff_outside", lambda w: {"indicator": w["indicators"]["ind_ab"].pk, "value": "2"}, 404),
        # a plan-level indicator belongs to no task: nobody reports it through a task
        ("admin", lambda w: {"indicator": w["indicators"]["ind_plan"].pk, "value": "80"}, 400),
    ]

    def objects(self, world):
        return world["readings"]


@pytest.fixture
def inbox(world):
    from notifications.models import Notification

    staff_a, staff_b = world["users"]["staff_lead"], world["users"]["staff_co_owner"]
    task = world["tasks"]["task_ab"]
    return {
        "due_a": Notification.objects.create(
            recipient=staff_a, rule="task_due", title="任务即将到期", link=f"/tasks/{task.pk}/", task=task
        ),
        "overdue_a": Notification.objects.create(
            recipient=staff_a,
            rule="task_overdue",
            title="任务已逾期",
            read_at=datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC),
        ),
        "due_b": Notification.objects.create(recipient=staff_b, rule="task_due", title="任务即将到期", task=task),
        "audit": Notification.objects.create(recipient=world["users"]["auditor"], rule="leader_digest", title="摘要"),
    }


class TestNotifications(EndpointTests):
    url = "/api/v1/notifications/"
    visible = {
        "staff_lead": {"due_a", "overdue_a"},
        "staff_co_owner": {"due_b"},
        "staff_outside": set(),
        "leader": set(),
        "leader_outside": set(),
        "admin": set(),
        "auditor": {"audit"},
    }
    filters = [
        ("staff_lead", {"unread": "true"}, {"due_a"}),
        ("staff_lead", {"unread": "false"}, {"overdue_a"}),
        ("staff_lead", {"rule": "task_overdue"}, {"overdue_a"}),
        ("staff_lead", lambda w: {"task_id": w["tasks"]["task_ab"].pk}, {"due_a"}),
        ("staff_co_owner", {"rule": "task_overdue"}, set()),
    ]

    @pytest.fixture(autouse=True)
    def _inbox(self, inbox):
        self.inbox = inbox

    def objects(self, world):
        return self.inbox


@pytest.fixture
def tokens(world):
    from api.models import ApiToken

    staff_a, staff_b = world["users"]["staff_lead"], world["users"]["staff_co_owner"]
    return {
        "token_a": ApiToken.issue(staff_a, "省平台同步", created_by=staff_a)[0],
        "token_a_old": ApiToken.issue(staff_a, "旧工具", created_by=staff_a)[0],
        "token_b": ApiToken.issue(staff_b, "局内工具", created_by=staff_b)[0],
    }


class TestTokens(EndpointTests):
    url = "/api/v1/tokens/"
    visible = {
        "staff_lead": {"token_a", "token_a_old"},
        "staff_co_owner": {"token_b"},
        "staff_outside": set(),
        "leader": set(),
        "leader_outside": set(),
        "admin": {"token_a", "token_a_old", "token_b"},
        "auditor": set(),
    }
    filters = [
        ("staff_lead", {"active": "false"}, {"token_a_old"}),
        ("staff_lead", {"active": "true"}, {"token_a"}),
        ("admin", lambda w: {"user_id": w["users"]["staff_co_owner"].pk}, {"token_b"}),
        ("admin", lambda w: {"user": w["users"]["staff_co_owner"].username}, {"token_b"}),
        ("staff_lead", lambda w: {"user_id": w["users"]["staff_co_owner"].pk}, set()),
        ("staff_lead", {"revoked_reason": "manual"}, {"token_a_old"}),
        ("staff_lead", {"expires_before": "2027-01-01T00:00:00+08:00"}, set()),
        ("staff_lead", {"expires_before": "2027-12-31T00:00:00+08:00"}, {"token_a", "token_a_old"}),
    ]
    creates = [
        ("staff_lead", lambda w: {"name": "新的同步任务"}, 201),
        ("staff_lead", lambda w: {"name": ""}, 400),
        ("staff_lead", lambda w: {"name": "给别人", "user": w["users"]["staff_co_owner"].pk}, 403),
        # Nobody mints a token in another's name, the system admin included.
        ("admin", lambda w: {"name": "为经办人创建", "user": w["users"]["staff_co_owner"].pk}, 403),
        ("admin", lambda w: {"name": "管理员本人的"}, 201),
    ]

    @pytest.fixture(autouse=True)
    def _tokens(self, tokens):
        tokens["token_a_old"].revoke()
        self.tokens = tokens

    def objects(self, world):
        return self.tokens
