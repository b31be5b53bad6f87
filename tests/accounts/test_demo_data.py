"""Demo data: one account per role, idempotent, and absent unless loaded."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.management import call_command

from accounts.models import Agency, User
from core.roles import Role
from demo.loader import load_credentials
from tasks.models import Task
from workplans.models import Plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


def test_no_account_exists_without_the_demo_data():
    assert User.objects.count() == 0


def test_it_loads_one_account_per_role_with_working_printed_passwords(var_dir, capsys, client):
    call_command("seed_demo")
    printed = capsys.readouterr().out
    creds = load_credentials()
    assert {User.objects.get(username=u).role for u in creds} == set(Role.values)
    for username, password in creds.items():
        assert password in printed
        validate_password(password, User.objects.get(username=username))
        response = client.post("/accounts/login/", {"username": username, "password": password})
        assert response.status_code == 302, username
        client.post("/accounts/logout/")


def test_loading_twice_adds_nothing_and_keeps_the_passwords(var_dir):
    call_command("seed_demo")
    counts = (Agency.objects.count(), User.objects.count(), Plan.objects.count(), Task.objects.count())
    first = load_credentials()
    call_command("seed_demo")
    assert (Agency.objects.count(), User.objects.count(), Plan.objects.count(), Task.objects.count()) == counts
    assert load_credentials() == first


def test_the_demo_plan_has_owners_milestones_indicators_and_progress(var_dir):
    call_command("seed_demo")
    plan = Plan.objects.get()
    assert plan.tasks.count() >= 8
    assert all(task.task_owners.filter(role="lead").count() == 1 for task in plan.tasks.all())
    assert plan.indicators.exists() and plan.readings.exists()
    assert plan.tasks.exclude(status="not_started").exists()


def test_the_demo_fills_the_supervision_loops_work_lists_once(var_dir):
    from supervision.models import ChangeRequest, CloseOut, PeriodReport

    # when loaded twice
    call_command("seed_demo")
    call_command("seed_demo")

    # then the loop's people and settings are there, with one of each kind of pending work
    plan = Plan.objects.get()
    assert plan.requires_unit_signoff and plan.leader_in_charge.role == Role.LEADER
    assert User.objects.get(username="demo_supervisor").role == Role.SUPERVISOR
    reviewer = User.objects.get(username="demo_reviewer")
    assert reviewer.is_unit_reviewer and reviewer.role == Role.STAFF
    assert sorted(PeriodReport.objects.values_list("state", flat=True)) == ["pending_review", "returned"]
    assert list(CloseOut.objects.values_list("state", flat=True)) == ["pending"]
    assert list(ChangeRequest.objects.values_list("state", flat=True)) == ["pending_supervisor"]


def test_the_demo_has_a_scheme_a_bulletin_draft_and_a_public_page_once(var_dir, client):
    from assessment.models import Evaluation, Scheme
    from dashboards.models import Bulletin
    from publication.models import PublicNarrative, PublicSnapshot

    # when loaded twice
    call_command("seed_demo")
    call_command("seed_demo")

    # then the assessment ranks, the office has a draft bulletin and the public page is up
    plan = Plan.objects.get()
    assert list(Scheme.objects.values_list("state", flat=True)) == ["active"]
    assert Evaluation.objects.count() == 1
    assert Bulletin.objects.filter(plan=plan).count() <= 1  # none before the plan's first period ends
    assert list(PublicSnapshot.objects.values_list("state", flat=True)) == ["published"]
    assert PublicNarrative.objects.count() == 2
    page = client.get(f"/public/{plan.pk}/")
    assert page.status_code == 200
    assert PublicNarrative.objects.first().text in page.content.decode()
