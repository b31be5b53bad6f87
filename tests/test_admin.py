"""The Django admin: every model is there, in Chinese, with filters, for admins only."""

import pytest
from django.apps import apps
from django.contrib import admin

from tasks.choices import TaskStatus
from tasks.models import ProgressUpdate
from tests.conftest import make_task

pytestmark = pytest.mark.django_db

OUR_APPS = ["accounts", "workplans", "tasks", "indicators"]


def our_models():
    return [m for label in OUR_APPS for m in apps.get_app_config(label).get_models() if not m.__name__.startswith("Historical")]


def changelist(model):
    return f"/admin/{model._meta.app_label}/{model._meta.model_name}/"


def test_every_model_is_registered():
    unregistered = [m.__name__ for m in our_models() if m not in admin.site._registry]
    assert unregistered == []


def test_every_field_has_a_chinese_verbose_name():
    missing = [
        f"{m.__name__}.{f.name}"
        for m in our_models()
        for f in m._meta.get_fields()
        if f.concrete and not f.auto_created and not any("\u4e00" <= ch <= "\u9fff" for ch in str(f.verbose_name))
        # fields inherited from Django's AbstractUser keep Django's own (translated) names
        and f.model.__module__.startswith(tuple(OUR_APPS))
        and f.name not in {"password", "last_login", "is_superuser", "username", "first_name", "last_name",
                           "email", "is_staff", "is_active", "date_joined", "groups", "user_permissions"}
    ]
    assert missing == []


@pytest.fixture
def filled(plan, section, agency_a, agency_b, staff_a):
    for n in range(12):
        task = make_task(plan, section, str(n + 1), lead=agency_a, co_owners=[agency_b])
        ProgressUpdate.objects.create(task=task, author=staff_a, status=TaskStatus.IN_PROGRESS, percent=10)
    return plan


@pytest.mark.parametrize("model", our_models(), ids=lambda m: m.__name__)
def test_an_admin_opens_each_list_in_chinese_with_bounded_queries(client, admin_user, filled, model, django_assert_max_num_queries):
    client.force_login(admin_user)
    with django_assert_max_num_queries(20):
        response = client.get(changelist(model))
    assert response.status_code == 200
    assert str(model._meta.verbose_name_plural) in response.content.decode()


def test_task_list_filters_by_year_plan_status_and_agency(client, admin_user, filled, agency_a):
    client.force_login(admin_user)
    body = client.get("/admin/tasks/task/").content.decode()
    for label in ("年度", "工作计划", "状态", "责任单位"):
        assert label in body
    response = client.get(f"/admin/tasks/task/?plan__year=2026&status=in_progress&owners__id__exact={agency_a.pk}")
    assert response.status_code == 200
    assert response.context["cl"].result_count == 12


def test_task_search_finds_by_heading(client, admin_user, plan, section, agency_a):
    make_task(plan, section, "1", lead=agency_a, heading="推进医疗集团建设")
    make_task(plan, section, "2", lead=agency_a, heading="完善监测预警体系")
    client.force_login(admin_user)
    response = client.get("/admin/tasks/task/?q=医疗集团")
    assert response.context["cl"].result_count == 1


def test_logs_cannot_be_changed_or_deleted_in_the_admin(client, admin_user, filled):
    client.force_login(admin_user)
    update = ProgressUpdate.objects.first()
    assert client.post(f"/admin/tasks/progressupdate/{update.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.post(f"/admin/tasks/progressupdate/{update.pk}/change/", {"percent": 99}).status_code == 403
    assert ProgressUpdate.objects.filter(pk=update.pk, percent=10).exists()
    assert client.get("/admin/accounts/loginevent/add/").status_code == 403


@pytest.mark.parametrize("persona", ["staff_a", "leader", "auditor"])
def test_only_admins_enter_the_admin(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_the_role_decides_admin_access(admin_user, staff_a):
    assert admin_user.is_staff and admin_user.is_superuser
    staff_a.is_staff = staff_a.is_superuser = True  # a stale or forged flag does not stick
    staff_a.save()
    staff_a.refresh_from_db()
    assert not staff_a.is_staff and not staff_a.is_superuser


def test_createsuperuser_makes_an_admin(db):
    from django.core.management import call_command

    from accounts.models import User

    call_command("createsuperuser", username="ops", email="ops@example.org", interactive=False, verbosity=0)
    assert User.objects.get(username="ops").role == "admin"


# Logs that are themselves the record: written once, never edited.
APPEND_ONLY = {"ProgressUpdate", "Attachment", "LoginEvent", "PlanImport"}
# Written by jobs, not by people: the rollup's snapshots and the export jobs' rows.
JOB_WRITTEN = {"Snapshot", "TrendPoint", "Export"}


def test_every_model_people_edit_keeps_an_audit_trail():
    from simple_history.models import registered_models

    audited = {model.__name__ for model in registered_models.values()}
    unaudited = {m.__name__ for m in our_models()} - audited - APPEND_ONLY - JOB_WRITTEN
    assert unaudited == set()


def test_the_audit_trail_records_who_and_from_where(client, admin_user, commission):
    from accounts.models import AgencyAlias

    client.force_login(admin_user)
    response = client.post(
        "/admin/accounts/agencyalias/add/",
        {"name": "市卫健委", "agency": commission.pk},
        REMOTE_ADDR="10.3.3.3",
    )
    assert response.status_code == 302
    record = AgencyAlias.history.get()
    assert (record.history_user, record.ip_address, record.history_type) == (admin_user, "10.3.3.3", "+")
