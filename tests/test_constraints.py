"""The database refuses what must never happen; each case names the constraint it hits."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet

from accounts.models import Agency, User
from core.roles import Role
from indicators.models import Indicator, Reading
from tasks.choices import OwnerRole, TaskStatus
from tasks.models import Task, TaskOwner
from tests.conftest import make_task
from workplans.models import Plan, Section

pytestmark = pytest.mark.django_db


def constraint_columns(name) -> list[str]:
    """`table.column` for each field of the unique constraint called `name` (SQLite's
    UNIQUE message names the columns, not the constraint)."""
    from django.apps import apps

    for model in apps.get_models():
        for constraint in model._meta.constraints:
            if constraint.name == name and getattr(constraint, "fields", None):
                table = model._meta.db_table
                return [f"{table}.{model._meta.get_field(f).column}" for f in constraint.fields]
    return []


def refused(name, write):
    """Run `write`; it must fail with an IntegrityError raised by constraint `name`."""
    with pytest.raises(IntegrityError) as caught, transaction.atomic():  # noqa: PT012 - the write, then its check
        write()
        # PostgreSQL checks deferred (composite) keys at commit; force it inside the block.
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    message = str(caught.value)
    if name in message:
        return
    # SQLite reports a UNIQUE failure by its columns: exactly this constraint's, in order.
    columns = constraint_columns(name)
    assert columns and message == "UNIQUE constraint failed: " + ", ".join(columns), message


def test_a_task_number_is_unique_within_its_section(plan, section):
    make_task(plan, section, "1")
    refused("task_number_unique_in_section", lambda: make_task(plan, section, "1"))


def test_the_same_number_may_repeat_in_another_section(plan, section):
    other = Section.objects.create(plan=plan, label="二", title="另一部分")
    make_task(plan, section, "1")
    make_task(plan, other, "1")
    assert Task.objects.filter(number="1").count() == 2


def test_unnumbered_tasks_may_repeat_in_a_section(plan, section):
    make_task(plan, section, "")
    make_task(plan, section, "")
    assert Task.objects.filter(section=section, number="").count() == 2


def test_a_task_number_is_unique_among_top_level_tasks_of_a_plan(plan):
    make_task(plan, None, "3")
    refused("task_number_unique_in_plan_top", lambda: make_task(plan, None, "3"))


@pytest.mark.parametrize("percent", [101, 250])
def test_task_percent_stays_within_0_and_100(task, percent):
    # in progress: a task not started is held at 0 % by a check of its own
    refused(
        "task_percent_0_100",
        lambda: Task.objects.filter(pk=task.pk).update(status=TaskStatus.IN_PROGRESS, percent=percent),
    )


def test_a_done_task_is_at_100_percent(task):
    refused(
        "task_done_is_100_percent",
        lambda: Task.objects.filter(pk=task.pk).update(status=TaskStatus.DONE, percent=90),
    )


def test_task_status_must_be_known(task):
    refused("task_status_valid", lambda: Task.objects.filter(pk=task.pk).update(status="finished"))


def test_progress_percent_stays_within_0_and_100(task, staff_a):
    from tasks.models import ProgressUpdate

    refused(
        "progress_percent_0_100",
        lambda: ProgressUpdate.objects.create(task=task, author=staff_a, status=TaskStatus.IN_PROGRESS, percent=120),
    )


def test_a_task_has_one_lead_agency(task, commission):
    refused(
        "taskowner_one_lead_per_task",
        lambda: TaskOwner.objects.create(task=task, agency=commission, role=OwnerRole.LEAD),
    )


def test_an_agency_owns_a_task_once(task, agency_b):
    refused(
        "taskowner_agency_once_per_task",
        lambda: TaskOwner.objects.create(task=task, agency=agency_b, role=OwnerRole.CO_OWNER),
    )


def test_a_task_sits_in_a_section_of_its_own_plan(plan, other_plan):
    foreign_section = Section.objects.create(plan=other_plan, label="一", title="别的计划")
    refused("task_section_same_plan", lambda: make_task(plan, foreign_section, "1"))


def test_a_section_parent_is_in_the_same_plan(plan, other_plan, section):
    refused(
        "section_parent_same_plan",
        lambda: Section.objects.create(plan=other_plan, parent=section, label="(一)", title="跨计划"),
    )


def test_section_labels_are_unique_under_one_parent(plan, section):
    Section.objects.create(plan=plan, parent=section, label="(一)", title="甲")
    refused("section_label_unique", lambda: Section.objects.create(plan=plan, parent=section, label="(一)", title="乙"))


def test_top_level_section_labels_are_unique_in_a_plan(plan, section):
    refused("section_top_label_unique", lambda: Section.objects.create(plan=plan, label="一", title="重复"))


def test_an_indicator_belongs_to_its_tasks_plan(task, other_plan):
    refused(
        "indicator_task_same_plan",
        lambda: Indicator.objects.create(plan=other_plan, task=task, name="签约率", target=Decimal("75"), unit="%"),
    )


def test_a_reading_cannot_sit_on_an_indicator_of_another_plan(task, other_plan, staff_a):
    # given: an indicator of `plan`
    indicator = Indicator.objects.create(task=task, name="预约诊疗率", target=Decimal("65"), unit="%")
    assert indicator.plan_id == task.plan_id
    # when / then: a reading filed under another plan is refused, by the database itself
    refused(
        "reading_indicator_same_plan",
        lambda: Reading.objects.create(
            plan=other_plan,
            indicator=indicator,
            value=Decimal("60"),
            as_of=datetime.date(2026, 6, 30),
            reporter=staff_a,
        ),
    )
    # and moving an existing reading to another plan is refused too
    reading = Reading.objects.create(
        indicator=indicator, value=Decimal("60"), as_of=datetime.date(2026, 6, 30), reporter=staff_a
    )
    assert reading.plan_id == task.plan_id
    # (the model refuses any change to a reading first, Reading.objects.update; the
    # database's own rule is what is tested here, so the plain QuerySet.update is used)
    refused(
        "reading_indicator_same_plan",
        lambda: QuerySet.update(Reading.objects.filter(pk=reading.pk), plan=other_plan),
    )


def test_indicator_comparator_must_be_known(task):
    refused(
        "indicator_comparator_valid",
        lambda: Indicator.objects.create(task=task, name="x", comparator=">", target=Decimal("1")),
    )


@pytest.mark.parametrize("day", [0, 29])
def test_report_due_day_is_between_1_and_28(plan, day):
    refused("plan_report_due_day_1_28", lambda: Plan.objects.filter(pk=plan.pk).update(report_due_day=day))


def test_plan_year_is_plausible(plan):
    refused("plan_year_in_range", lambda: Plan.objects.filter(pk=plan.pk).update(year=1999))


def test_the_same_source_file_is_one_plan(plan, other_plan):
    Plan.objects.filter(pk=plan.pk).update(source_sha256="a" * 64)
    refused("plan_source_sha256_unique", lambda: Plan.objects.filter(pk=other_plan.pk).update(source_sha256="a" * 64))


def test_plans_without_a_source_file_do_not_collide(plan, other_plan):
    assert Plan.objects.filter(source_sha256="").count() == 2


@pytest.mark.parametrize("role", [Role.STAFF, Role.LEADER])
def test_staff_and_leaders_need_an_agency(role):
    refused(
        "user_staff_and_leaders_have_agency",
        lambda: User.objects.create(username=f"nobody_{role}", role=role, agency=None),
    )


def test_admins_and_auditors_may_have_no_agency(db):
    User.objects.create(username="root_admin", role=Role.ADMIN, person_id="P-1")
    User.objects.create(username="root_security", role=Role.SECURITY, person_id="P-2")
    User.objects.create(username="root_auditor", role=Role.AUDITOR, person_id="P-3")


def test_an_agency_is_not_its_own_parent(commission):
    refused("agency_not_own_parent", lambda: Agency.objects.filter(pk=commission.pk).update(parent=commission))


def test_an_agency_cannot_move_below_its_own_child(commission, agency_a):
    from django.core.exceptions import ValidationError

    commission.parent = agency_a
    with pytest.raises(ValidationError) as caught:
        commission.full_clean()
    assert "上级单位不能是本单位或其下级单位" in str(caught.value)


def test_descendants_are_read_in_one_query(commission, agency_a, agency_b, outside_agency, django_assert_num_queries):
    grandchild = Agency.objects.create(name="医政医管处一科", parent=agency_a)
    with django_assert_num_queries(1):
        ids = commission.descendant_ids()
    assert ids == {commission.pk, agency_a.pk, agency_b.pk, grandchild.pk}
    assert agency_a.descendant_ids(include_self=False) == {grandchild.pk}
