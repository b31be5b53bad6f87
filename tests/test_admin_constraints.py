"""The Django admin never answers 500 for a row the database would refuse: for every model
registered in the admin, every CheckConstraint and UniqueConstraint it names is violated
through the admin's own add and change forms, and the answer is the form again (200) with
the constraint's message in Chinese, and nothing written.

The sweep is a table, CASES, keyed by constraint name: the violating values for the add and
change forms, or why the admin cannot violate it (and the sweep checks that reason: none of
the constraint's fields is on the admin's forms, or the constraint holds by the primary
key). A constraint added to a model the admin edits, and missing from the table, fails the
sweep: give the admin form its check (accounts.admin.ConstraintsCheckedForm) and the table
its row."""

import dataclasses
import datetime
import re
from collections.abc import Callable

import pytest
from django.contrib import admin
from django.db import models
from django.db.models import F, Q
from django.forms.models import model_to_dict
from django.test import RequestFactory

from accounts.models import Agency
from indicators.models import Indicator
from notifications.models import Robot
from tasks.choices import OwnerRole
from tasks.models import Task, TaskOwner
from tests.conftest import make_task
from workplans.models import Section

pytestmark = pytest.mark.django_db


# --- The table ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Violate:
    """Post the admin's form with `data` over the form's own values: on the add form
    (`target` None) or the change form of `target(world)`; `message` must be among the
    errors shown."""

    data: Callable[[dict], dict]
    message: str
    target: Callable[[dict], models.Model] | None = None
    via: type[models.Model] | None = None  # another model's admin that edits it inline


@dataclasses.dataclass(frozen=True)
class OffTheForms:
    """The admin cannot violate it: none of the constraint's fields is on its forms."""

    reason: str


@dataclasses.dataclass(frozen=True)
class ByThePrimaryKey:
    """A unique key made with the row's own id (for composite foreign keys): never violated."""


CHOICE = "选择一个有效的选项"
WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key="
PLAN = {"title": "新计划", "year": 2026, "status": "draft", "reporting_cycle": "monthly", "report_due_day": 25}


def new_owner_row(world, role, index=None, agency="outside") -> dict:
    """One more owner row on the task's admin page (the inline's prefix is task_owners)."""
    task = world["task2_no_lead"] if index is not None else world["task"]
    index = TaskOwner.objects.filter(task=task).count() if index is None else index
    return {
        "task_owners-TOTAL_FORMS": str(index + 1),
        f"task_owners-{index}-task": str(task.pk),
        f"task_owners-{index}-agency": str(world[agency].pk),
        f"task_owners-{index}-role": role,
        f"task_owners-{index}-order": "0",
    }


def two_new_leads(world) -> dict:
    return {
        **new_owner_row(world, OwnerRole.LEAD, index=0, agency="agency_b"),
        **new_owner_row(world, OwnerRole.LEAD, index=1, agency="outside"),
        "task_owners-TOTAL_FORMS": "2",
    }  # Django's own message for a value not among a field's choices


CASES: dict[str, list[Violate] | OffTheForms | ByThePrimaryKey] = {
    # accounts
    "agency_not_own_parent": [
        Violate(lambda w: {"parent": w["agency_a"].pk}, "上级单位不能是本单位", target=lambda w: w["agency_a"]),
    ],
    "user_staff_and_leaders_have_agency": [
        Violate(
            lambda w: {"username": "newcomer", "password1": "Rs5%tT8&uU1x", "password2": "Rs5%tT8&uU1x", "agency": ""},
            "经办人和领导必须有所属单位",
        ),
        Violate(lambda w: {"agency": ""}, "经办人和领导必须有所属单位", target=lambda w: w["staff_a"]),
        Violate(lambda w: {"agency": ""}, "经办人和领导必须有所属单位", target=lambda w: w["leader"]),
    ],
    "user_role_valid": OffTheForms("the role is the security admin's (accounts:user_role), read-only here"),
    "user_admin_roles_have_person": OffTheForms("role and person are the security admin's, read-only here"),
    "user_one_admin_role_per_person": OffTheForms("role and person are the security admin's, read-only here"),
    # workplans
    "plan_year_in_range": [
        Violate(lambda w: {"year": 1999}, "年度须在 2000 至 2100 之间", target=lambda w: w["plan"]),
        Violate(lambda w: {**PLAN, "issuer": w["agency_a"].pk, "year": 2101}, "年度须在 2000 至 2100 之间"),
    ],
    "plan_report_due_day_1_28": [
        Violate(lambda w: {"report_due_day": 31}, "报送日须在 1 至 28 日之间", target=lambda w: w["plan"]),
    ],
    "plan_status_valid": [Violate(lambda w: {"status": "lost"}, CHOICE, target=lambda w: w["plan"])],
    "plan_reporting_cycle_valid": [
        Violate(lambda w: {"reporting_cycle": "hourly"}, CHOICE, target=lambda w: w["plan"])
    ],
    "plan_not_own_higher_plan": [
        Violate(lambda w: {"higher_plan": w["plan"].pk}, "上级计划不能是本计划", target=lambda w: w["plan"]),
    ],
    "plan_source_sha256_unique": OffTheForms("the source file's digest is the import's, read-only here"),
    "section_id_plan_key": ByThePrimaryKey(),
    "section_label_unique": [
        Violate(
            lambda w: {"plan": w["plan"].pk, "parent": w["section"].pk, "label": "（一）", "title": "重复"},
            "同一上级部分下已有此编号",
        ),
    ],
    "section_top_label_unique": [
        Violate(lambda w: {"plan": w["plan"].pk, "label": "一", "title": "重复"}, "本计划已有此编号"),
        Violate(lambda w: {"label": "一"}, "本计划已有此编号", target=lambda w: w["other_section"]),
    ],
    "section_not_own_parent": [
        Violate(lambda w: {"parent": w["section"].pk}, "上级部分不能是本部分", target=lambda w: w["section"]),
    ],
    # tasks
    "task_id_plan_key": ByThePrimaryKey(),
    "task_number_unique_in_section": [
        Violate(lambda w: {"number": "1"}, "本部分已有此序号", target=lambda w: w["task2"]),
    ],
    "task_number_unique_in_plan_top": [
        Violate(lambda w: {"number": "9"}, "本计划已有此序号", target=lambda w: w["top_task2"]),
    ],
    "task_percent_0_100": OffTheForms("progress is reported, read-only here"),
    "task_status_valid": OffTheForms("the status follows progress and the loop, read-only here"),
    "task_done_is_100_percent": OffTheForms("status and progress are read-only here"),
    "task_not_started_is_0_percent": OffTheForms("status and progress are read-only here"),
    "task_version_positive": OffTheForms("the version is the optimistic lock's, read-only here"),
    "task_not_serving_itself": [
        Violate(lambda w: {"serves": w["task"].pk}, "对应上级任务不能是本任务", target=lambda w: w["task"]),
    ],
    "task_not_carried_from_itself": [
        Violate(lambda w: {"carried_from": w["task"].pk}, "上年任务不能是本任务", target=lambda w: w["task"]),
    ],
    "taskowner_agency_once_per_task": [
        Violate(
            lambda w: {"task": w["task"].pk, "agency": w["agency_b"].pk, "role": OwnerRole.CO_OWNER},
            "该单位已是这项任务的责任单位",
        ),
    ],
    "taskowner_one_lead_per_task": [
        Violate(
            lambda w: {"task": w["task"].pk, "agency": w["outside"].pk, "role": OwnerRole.LEAD}, "只能有一个牵头单位"
        ),
        Violate(lambda w: {"role": OwnerRole.LEAD}, "只能有一个牵头单位", target=lambda w: w["co_owner_row"]),
        # the task's own page, its owners' rows: a second lead added there
        Violate(
            lambda w: new_owner_row(w, role=OwnerRole.LEAD), "只能有一个牵头单位", target=lambda w: w["task"], via=Task
        ),
        # and two new leads in one post (each alone would pass the database's check)
        Violate(lambda w: two_new_leads(w), "只能有一个牵头单位", target=lambda w: w["task2_no_lead"], via=Task),
    ],
    "taskowner_role_valid": [Violate(lambda w: {"role": "boss"}, CHOICE, target=lambda w: w["co_owner_row"])],
    # indicators
    "indicator_id_plan_key": ByThePrimaryKey(),
    "indicator_comparator_valid": [
        Violate(lambda w: {"comparator": "~"}, CHOICE, target=lambda w: w["indicator"]),
    ],
    # notifications
    "robot_one_per_kind_per_agency": [
        Violate(
            lambda w: {"agency": w["agency_a"].pk, "kind": "wecom", "name": "又一个", "webhook_url": WECOM + "b"},
            "已经存在",
        ),
    ],
}


# --- The world the forms are posted into --------------------------------------------------------


@pytest.fixture
def world(admin_user, leader, staff_a, plan, section, agency_a, agency_b, outside_agency):
    sub = Section.objects.create(plan=plan, parent=section, label="（一）", title="分项")
    other_section = Section.objects.create(plan=plan, label="二", title="另一部分")
    task = make_task(plan, section, "1", lead=agency_a, co_owners=[agency_b], due_on=datetime.date(2026, 12, 31))
    task2 = make_task(plan, section, "2", lead=agency_a)
    make_task(plan, None, "9", lead=agency_a)
    top_task2 = make_task(plan, None, "10", lead=agency_a)
    task2_no_lead = make_task(plan, section, "3")
    indicator = Indicator.objects.create(plan=plan, task=task, name="基层就诊率", target=65, unit="%")
    Robot.objects.create(agency=agency_a, kind="wecom", name="A群", webhook_url=WECOM + "a")
    return {
        "admin": admin_user,
        "staff_a": staff_a,
        "leader": leader,
        "plan": plan,
        "section": section,
        "sub_section": sub,
        "other_section": other_section,
        "task": task,
        "task2": task2,
        "top_task2": top_task2,
        "task2_no_lead": task2_no_lead,
        "co_owner_row": TaskOwner.objects.get(task=task, agency=agency_b),
        "indicator": indicator,
        "agency_a": agency_a,
        "agency_b": agency_b,
        "outside": outside_agency,
    }


# --- Reading the admin --------------------------------------------------------------------------


def admin_request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def editable(model_admin, request) -> bool:
    return model_admin.has_add_permission(request) or model_admin.has_change_permission(request)


def _refs(node) -> set[str]:
    """The field names an expression or Q refers to."""
    if node is None:
        return set()
    if isinstance(node, str):
        return {node.split("__")[0]}
    if isinstance(node, F):
        return {node.name.split("__")[0]}
    if isinstance(node, Q):
        names = set()
        for child in node.children:
            if isinstance(child, tuple):
                names |= {child[0].split("__")[0]} | _refs(child[1])
            else:
                names |= _refs(child)
        return names
    if hasattr(node, "get_source_expressions"):
        return (
            set().union(*(_refs(e) for e in node.get_source_expressions())) if node.get_source_expressions() else set()
        )
    return set()


def constraint_fields(constraint) -> set[str]:
    names = set(getattr(constraint, "fields", ()) or ())
    for expression in getattr(constraint, "expressions", ()) or ():
        names |= _refs(expression)
    return names | _refs(getattr(constraint, "condition", None))


def form_fields(model_admin, request, obj) -> set[str]:
    return set(model_admin.get_form(request, obj).base_fields)


def admin_constraints():
    """(model, its admin, constraint) for every constraint of every model in the admin."""
    for model, model_admin in admin.site._registry.items():
        for constraint in model._meta.constraints:
            if isinstance(constraint, (models.CheckConstraint, models.UniqueConstraint)):
                yield model, model_admin, constraint


def _value(bound):
    value = bound.field.prepare_value(bound.value())
    if value is None:
        return ""
    if isinstance(value, bool):
        return "on" if value else None
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return str(value)


def current_data(response) -> dict:
    """What the admin's form page would post back as it stands: the main form's values and
    each inline's rows (the blank extra rows left out)."""
    data = {}
    form = response.context["adminform"].form
    for bound in form:
        value = _value(bound)
        if value is not None:
            data[bound.html_name] = value
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        rows = [f for f in formset.forms if f.instance.pk is not None]
        prefix = formset.prefix
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": str(len(rows)),
                f"{prefix}-INITIAL_FORMS": str(len(rows)),
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
            }
        )
        for row in rows:
            for bound in row:
                value = _value(bound)
                if value is not None:
                    data[bound.html_name] = value
    return data


def shown_errors(response) -> list[str]:
    form = response.context["adminform"].form
    errors = [str(e) for field_errors in form.errors.values() for e in field_errors]
    for inline in response.context["inline_admin_formsets"]:
        errors += [str(e) for e in inline.formset.non_form_errors()]
        errors += [str(e) for row in inline.formset.errors for field_errors in row.values() for e in field_errors]
    return errors


def url(model, obj=None) -> str:
    base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
    return f"{base}{obj.pk}/change/" if obj is not None else f"{base}add/"


# --- The sweep ----------------------------------------------------------------------------------


def test_every_constraint_of_a_model_the_admin_edits_is_in_the_table(admin_user):
    request = admin_request(admin_user)
    edited = {c.name for _model, model_admin, c in admin_constraints() if editable(model_admin, request)}
    assert sorted(edited - set(CASES)) == []
    assert sorted(set(CASES) - edited) == []


def test_the_models_whose_constraints_are_not_in_the_table_are_read_only_in_the_admin(admin_user):
    """Logs and job records (progress updates, readings, snapshots, exports, the public
    pages' records): listed in the admin, never added or changed there."""
    request = admin_request(admin_user)
    sample = {model: model._default_manager.first() for model, _admin, _c in admin_constraints()}
    for model, model_admin, constraint in admin_constraints():
        if constraint.name not in CASES:
            assert not model_admin.has_add_permission(request), model
            assert not model_admin.has_change_permission(request, sample[model]), model


def test_a_constraint_the_admin_cannot_reach_has_none_of_its_fields_on_the_forms(admin_user, world):
    request = admin_request(admin_user)
    for model, model_admin, constraint in admin_constraints():
        case = CASES.get(constraint.name)
        if isinstance(case, ByThePrimaryKey):
            assert model._meta.pk.name in constraint_fields(constraint), constraint.name
        elif isinstance(case, OffTheForms) and editable(model_admin, request):
            sample = model._default_manager.order_by("pk").first()
            on_forms = form_fields(model_admin, request, None) | form_fields(model_admin, request, sample)
            assert not constraint_fields(constraint) & on_forms, constraint.name


def test_every_violation_through_the_admin_is_a_form_error_in_chinese(client, admin_user, world):
    request = admin_request(admin_user)
    client.force_login(admin_user)
    client.raise_request_exception = False  # a 500 is a failure of the sweep, not its end
    failures, tried = [], 0
    for model, model_admin, constraint in admin_constraints():
        case = CASES.get(constraint.name)
        if not editable(model_admin, request) or not isinstance(case, list):
            continue
        assert case, f"{constraint.name}: no violation to try"
        for violation in case:
            obj = violation.target(world) if violation.target else None
            page_model = violation.via or model
            address = url(page_model, obj)
            before = model_to_dict(page_model._base_manager.get(pk=obj.pk)) if obj else None
            count = model._base_manager.count()
            data = {**current_data(client.get(address)), **violation.data(world)}
            response = client.post(address, data)
            tried += 1
            where = ("change" if obj else "add") + (f" via {page_model.__name__}" if violation.via else "")
            cell = f"{constraint.name} ({where})"
            if response.status_code != 200:
                failures.append(f"{cell}: {response.status_code}")
                continue
            errors = shown_errors(response)
            if not any(violation.message in error for error in errors):
                failures.append(f"{cell}: {violation.message!r} not in {errors}")
            if not all(re.search("[\u4e00-\u9fff]", error) for error in errors):
                failures.append(f"{cell}: an error not in Chinese: {errors}")
            changed = obj and model_to_dict(page_model._base_manager.get(pk=obj.pk)) != before
            if model._base_manager.count() != count or changed:
                failures.append(f"{cell}: a row was written")
    assert not failures, "\n".join(failures)
    assert tried >= 20


def test_the_admin_still_saves_a_good_row(client, admin_user, world, agency_a):
    """The checks refuse what the database would, not more: a staff account with an agency,
    an agency under a parent."""
    client.force_login(admin_user)

    response = client.post(
        url(Agency, None),
        {
            "name": "新处室",
            "short_name": "",
            "level": "department",
            "parent": agency_a.pk,
            "order": 0,
            "is_active": "on",
            "aliases-TOTAL_FORMS": "0",
            "aliases-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, shown_errors(response)
    staff = world["staff_a"]
    data = {**current_data(client.get(url(type(staff), staff))), "phone": "13800138000"}
    response = client.post(url(type(staff), staff), data)
    assert response.status_code == 302, shown_errors(response)
