"""The publication pages as the office meets them: the admin turns a plan on and picks
its fields, the supervision office writes the public narratives, a snapshot is built,
previewed exactly as the public will see it and published by the admin, and the static
bundle downloaded; who may do which, each refusal changing nothing, every write in the
audit trail, and the pages' query counts pinned."""

import io
import zipfile

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from publication.choices import PublicField, SnapshotState
from publication.models import PublicNarrative, PublicSetting, PublicSnapshot
from tests.fixtures.tasks import make_task
from tests.publication.conftest import make_public, publish_now

pytestmark = pytest.mark.django_db


def _settings(client, plan, **data):
    setting = PublicSetting.objects.filter(plan=plan).first()
    form = {
        "enabled": "on",
        "public_fields": [PublicField.HEADING, PublicField.STATUS],
        "schedule": "manual",
        "version": setting.version if setting else 1,
        **data,
    }
    return client.post(reverse("publication:plan_settings", args=[plan.pk]), form)


def test_the_office_makes_a_plan_public_from_settings_to_published_page(client, plan, task, admin_user, supervisor):
    # given: the admin turns the plan on with two fields
    client.force_login(admin_user)
    assert client.get(reverse("publication:manage")).status_code == 200
    response = _settings(client, plan)
    assert response.status_code == 302
    setting = PublicSetting.objects.get(plan=plan)
    assert setting.enabled and setting.fields == [PublicField.HEADING, PublicField.STATUS]

    # when: the supervision office writes a narrative and builds a draft to read it
    client.force_login(supervisor)
    assert client.get(reverse("publication:narratives", args=[plan.pk])).status_code == 200
    edit = reverse("publication:narrative_edit", args=[task.pk])
    assert client.get(edit).status_code == 200
    assert client.post(edit, {"text": "已启动建设", "version": 1}).status_code == 302
    built = client.post(reverse("publication:snapshot_build", args=[plan.pk]))
    snapshot = PublicSnapshot.objects.get(plan=plan)
    assert built["Location"] == reverse("publication:snapshot_preview", args=[snapshot.pk])
    preview = client.get(built["Location"]).content.decode()
    # the narrative is not among the chosen fields: the preview says so by leaving it out
    assert task.heading in preview and "已启动建设" not in preview and "审核无误，发布" not in preview
    # the office may not publish
    assert client.post(reverse("publication:snapshot_publish", args=[snapshot.pk])).status_code == 403

    # then: the admin previews and publishes; the public sees it
    client.force_login(admin_user)
    preview = client.get(reverse("publication:snapshot_preview", args=[snapshot.pk])).content.decode()
    assert "审核无误，发布" in preview
    assert client.post(reverse("publication:snapshot_publish", args=[snapshot.pk])).status_code == 302
    snapshot.refresh_from_db()
    assert snapshot.state == SnapshotState.PUBLISHED and snapshot.reviewed_by == admin_user
    client.logout()
    assert task.heading in client.get(reverse("publication:plan_page", args=[plan.pk])).content.decode()

    # every write is in the trail
    trail = set(AuditEvent.objects.values_list("object_type", "event_type"))
    assert {
        ("publication.publicsetting", "update"),
        ("publication.publicnarrative", "create"),
        ("publication.publicsnapshot", "create"),
        ("publication.publicsnapshot", "transition"),
    } <= trail


def test_the_bundle_is_downloaded_by_the_office_and_audited(client, plan, task, admin_user, supervisor):
    make_public(plan, admin_user)
    client.force_login(supervisor)
    assert client.get(reverse("publication:bundle", args=[plan.pk])).status_code == 404  # nothing published yet
    publish_now(plan, admin_user)

    response = client.get(reverse("publication:bundle", args=[plan.pk]))

    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert sorted(names) == ["index.html", "publication.css"]
    assert AuditEvent.objects.filter(event_type="export", object_type="publication.publicsnapshot").exists()


def test_the_settings_are_the_admins_and_a_refusal_changes_nothing(client, plan, task, admin_user, supervisor, staff_a):
    # the supervision office reads the settings, may not change them
    client.force_login(supervisor)
    page = client.get(reverse("publication:plan_settings", args=[plan.pk]))
    assert page.status_code == 200 and "保存设置" not in page.content.decode()
    assert _settings(client, plan).status_code == 403
    # staff see none of it
    client.force_login(staff_a)
    assert client.get(reverse("publication:manage")).status_code == 403
    assert client.get(reverse("publication:narratives", args=[plan.pk])).status_code == 403
    assert not PublicSetting.objects.exists()

    # bad input: a clear message, nothing saved
    client.force_login(admin_user)
    no_fields = _settings(client, plan, public_fields=[])
    assert no_fields.status_code == 400 and "至少选择一项" in no_fields.content.decode()
    bogus = _settings(client, plan, public_fields=["evidence"])
    assert bogus.status_code == 400
    assert not PublicSetting.objects.filter(enabled=True).exists()
    # a stale form: 409
    assert _settings(client, plan).status_code == 302
    stale = _settings(client, plan, version=1, public_fields=[PublicField.PERCENT])
    assert stale.status_code == 409 and "刷新" in stale.content.decode()
    assert PublicSetting.objects.get(plan=plan).fields == [PublicField.HEADING, PublicField.STATUS]


def test_a_draft_built_before_the_settings_changed_cannot_be_published(client, plan, task, admin_user):
    make_public(plan, admin_user)
    client.force_login(admin_user)
    client.post(reverse("publication:snapshot_build", args=[plan.pk]))
    snapshot = PublicSnapshot.objects.get(plan=plan)
    assert _settings(client, plan, public_fields=[PublicField.HEADING, PublicField.PERCENT]).status_code == 302

    response = client.post(reverse("publication:snapshot_publish", args=[snapshot.pk]))

    assert response.status_code == 400 and "重新生成" in response.content.decode()
    snapshot.refresh_from_db()
    assert snapshot.state == SnapshotState.DRAFT


def test_a_narrative_too_long_or_stale_is_refused(client, task, supervisor):
    client.force_login(supervisor)
    edit = reverse("publication:narrative_edit", args=[task.pk])

    too_long = client.post(edit, {"text": "字" * 1001, "version": 1})
    assert too_long.status_code == 400 and not PublicNarrative.objects.exists()
    assert client.post(edit, {"text": "第一版", "version": 1}).status_code == 302
    stale = client.post(edit, {"text": "第二版", "version": 1})
    assert stale.status_code == 409
    assert PublicNarrative.objects.get().text == "第一版"


def test_a_supervisor_sees_only_plans_and_tasks_in_scope(client, plan, task, agency_a, outside_agency, supervisor):
    from tests.fixtures.workplans import create_plan

    elsewhere = create_plan(outside_agency, 2027)
    foreign = make_task(elsewhere, None, "1", lead=outside_agency)
    client.force_login(supervisor)

    assert client.get(reverse("publication:plan_settings", args=[elsewhere.pk])).status_code == 404
    assert client.get(reverse("publication:narrative_edit", args=[foreign.pk])).status_code == 404
    assert client.post(reverse("publication:snapshot_build", args=[elsewhere.pk])).status_code == 404


@pytest.mark.parametrize("count", [5, 40])
def test_the_office_pages_cost_a_bounded_number_of_queries(
    client, plan, section, agency_a, admin_user, supervisor, count, django_assert_max_num_queries
):
    for number in range(1, count + 1):
        make_task(plan, section, str(number), lead=agency_a)
    make_public(plan, admin_user)
    snapshot = publish_now(plan, admin_user)

    # (session, user, second factor, the header's badges: the rest is the page's own)
    client.force_login(admin_user)
    with django_assert_max_num_queries(9):
        assert client.get(reverse("publication:manage")).status_code == 200
    with django_assert_max_num_queries(9):
        assert client.get(reverse("publication:plan_settings", args=[plan.pk])).status_code == 200
    with django_assert_max_num_queries(7):
        assert client.get(reverse("publication:snapshot_preview", args=[snapshot.pk])).status_code == 200
    client.force_login(supervisor)
    with django_assert_max_num_queries(11):
        assert client.get(reverse("publication:narratives", args=[plan.pk])).status_code == 200
