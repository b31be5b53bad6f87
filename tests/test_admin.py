"""The Django admin: every model is there (but the audit trail's), in Chinese, with
filters, for the system admin only."""

import pytest
from django.apps import apps
from django.contrib import admin

from tasks.choices import TaskStatus
from tasks.models import ProgressUpdate
from tests.conftest import make_task

pytestmark = pytest.mark.django_db

# The apps whose models people or the import pages write (the plan import was part of
# workplans before it became an app of its own).
OUR_APPS = ["accounts", "workplans", "tasks", "indicators", "imports", "audit"]


# Second-factor records (accounts/two_factor) are nobody's in the Django admin: a user's
# own pages and the security admin's reset change them, and every change is an audit
# event of its own (OTP_ENROL, OTP_RESET, RECOVERY_CODE_USED).
SECOND_FACTOR = {"RecoveryCodeDevice", "RecoveryCode"}


def our_models():
    return [
        m
        for label in OUR_APPS
        for m in apps.get_app_config(label).get_models()
        if not m.__name__.startswith("Historical") and m.__name__ not in SECOND_FACTOR
    ]


def changelist(model):
    return f"/admin/{model._meta.app_label}/{model._meta.model_name}/"


# The audit trail is the audit admin's, read on the audit pages, never in the Django admin.
AUDIT_TRAIL = {"AuditEvent"}


def test_every_model_is_registered():
    unregistered = [m.__name__ for m in our_models() if m not in admin.site._registry]
    assert set(unregistered) == AUDIT_TRAIL


def test_every_field_has_a_chinese_verbose_name():
    missing = [
        f"{m.__name__}.{f.name}"
        for m in our_models()
        for f in m._meta.get_fields()
        if f.concrete
        and not f.auto_created
        and not any("\u4e00" <= ch <= "\u9fff" for ch in str(f.verbose_name))
        # fields inherited from Django's AbstractUser keep Django's own (translated) names
        and f.model.__module__.startswith(tuple(OUR_APPS))
        and f.name
        not in {
            "password",
            "last_login",
            "is_superuser",
            "username",
            "first_name",
            "last_name",
            "email",
            "is_staff",
            "is_active",
            "date_joined",
            "groups",
            "user_permissions",
        }
    ]
    assert missing == []


@pytest.fixture
def filled(plan, section, agency_a, agency_b, staff_a):
    for n in range(12):
        task = make_task(plan, section, str(n + 1), lead=agency_a, co_owners=[agency_b])
        ProgressUpdate.objects.create(task=task, author=staff_a, status=TaskStatus.IN_PROGRESS, percent=10)
    return plan


@pytest.mark.parametrize("model", [m for m in our_models() if m.__name__ not in AUDIT_TRAIL], ids=lambda m: m.__name__)
def test_an_admin_opens_each_list_in_chinese_with_bounded_queries(
    client, admin_user, filled, model, django_assert_max_num_queries
):
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


def test_the_system_admin_has_no_login_log_in_the_admin(client, admin_user):
    client.force_login(admin_user)
    assert client.get("/admin/accounts/loginevent/").status_code in (403, 404)
    assert client.get("/admin/accounts/loginevent/add/").status_code in (403, 404)
    assert "loginevent" not in client.get("/admin/").content.decode()


@pytest.mark.parametrize("persona", ["staff_a", "leader", "security_admin", "auditor"])
def test_only_the_system_admin_enters_the_admin(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    response = client.get("/admin/")
    assert response.status_code == 403
    assert response.wsgi_request.denied_by_policy


def test_the_role_decides_admin_access(admin_user, security_admin, staff_a):
    # Nobody is a superuser: it would pass every check of the access policy.
    assert admin_user.is_staff and not admin_user.is_superuser
    assert not security_admin.is_staff and not security_admin.is_superuser
    staff_a.is_staff = staff_a.is_superuser = True  # a stale or forged flag does not stick
    staff_a.save()
    staff_a.refresh_from_db()
    assert not staff_a.is_staff and not staff_a.is_superuser


def test_createsuperuser_makes_a_system_admin_who_is_no_superuser(db):
    from django.core.management import call_command

    from accounts.models import User

    call_command("createsuperuser", username="ops", email="ops@example.org", interactive=False, verbosity=0)
    ops = User.objects.get(username="ops")
    assert (ops.role, ops.person_id, ops.is_staff, ops.is_superuser) == ("admin", "ops", True, False)
    assert ops.has_perm("tasks.change_task") and not ops.has_perm("audit.view_auditevent")


# Logs that are themselves the record: written once, never edited.
APPEND_ONLY = {"ProgressUpdate", "Attachment", "MilestoneEvent", "AuditEvent", "PlanImport"}
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
