"""The access policy (accounts/policy.py), checked cell by cell: every URL of the project
(pages, the API, the Django admin) × every role and anonymous × GET, POST, PUT, PATCH and
DELETE. The table is not written here: it is the policy itself, and what is checked is
that the site does what the policy says.

A cell the policy refuses must be refused by the policy (the request is marked
`denied_by_policy`; a page answers 403 or, for someone not signed in, the login page; the
API 403 or 401). A cell it allows must get past the policy: the view may still answer
403/404/400/405 for the object or the input (another agency's task, an empty form).
"""

import copy
import datetime
import re

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts import policy
from core.roles import Role
from tests.fixtures.accounts import create_agencies, create_persona, make_user
from tests.fixtures.shared import built_once, files_as_they_were
from tests.fixtures.tasks import create_reported_task
from tests.fixtures.workplans import create_plan, create_section

pytestmark = pytest.mark.django_db

PERSONAS = ("anonymous", *Role.values)
METHODS = policy.METHODS
# Routes that sign the caller out: the next request signs in again.
SIGNS_OUT = {"accounts:logout", "admin:logout"}


# --- The project's routes ---------------------------------------------------------------


def _walk(patterns, prefix="", namespace=None):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = entry.namespace
            full = f"{namespace}:{inner}" if namespace and inner else inner or namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), full)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), namespace, entry


def routes():
    """(view name as the resolver gives it, URLPattern, route) for every route."""
    found = []
    for route, namespace, pattern in _walk(get_resolver().url_patterns):
        name = pattern.name
        if not name:
            # The resolver's dotted path of the view (ResolverMatch._func_path).
            callback = pattern.callback
            if hasattr(callback, "view_class"):
                name = f"{callback.view_class.__module__}.{callback.view_class.__qualname__}"
            else:
                name = f"{callback.__module__}.{callback.__qualname__}"
        found.append((f"{namespace}:{name}" if namespace else name, pattern, route))
    return found


NAMED = sorted({name for name, pattern, _route in routes() if pattern.name})


def test_every_route_of_the_project_is_in_the_policy():
    missing = sorted({name for name, _pattern, _route in routes() if policy.rule_for(name) is None})
    assert missing == []


def test_the_policy_names_no_route_that_does_not_exist_except_the_audit_pages_to_come():
    existing = {name for name, _pattern, _route in routes()}
    stale = set(policy.POLICY) - existing - {"audit:events", "audit:export"}
    assert stale == set()


def test_public_routes_are_exactly_the_sign_in_health_and_language_ones():
    public = {name for name, rule in policy.POLICY.items() if rule.is_public}
    assert public == {
        "accounts:login",
        "admin:login",
        "healthz",
        "set_language",
        "api:api.views.not_found",
        # 政务公开: the published snapshot of a plan whose admin turned its page on
        "publication:index",
        "publication:plan_page",
    }


def test_the_three_administrators_share_no_page_of_another():
    """三员分立 in the policy's own terms: the audit trail's pages are the audit admin's
    alone, the roles and lockout pages the security admin's alone, and the Django admin and
    the plan import the system admin's alone."""

    def users_of(name):
        rule = policy.rule_for(name)
        return {role for role in Role.values if any(rule.allows(role, m) for m in METHODS)}

    for name in ("audit:events", "audit:export"):
        assert users_of(name) == {Role.AUDITOR}, name
    for name in (
        "accounts:user_list",
        "accounts:user_role",
        "accounts:lockout_list",
        "accounts:unlock",
        "accounts:account",
        "accounts:account_password",
        "accounts:account_username",
        "accounts:account_active",
        "accounts:account_tokens_revoke",
    ):
        assert users_of(name) == {Role.SECURITY}, name
    for name in NAMED:
        if name.startswith(("admin:", "workplans:", "imports:")) and name != "admin:login":
            assert users_of(name) <= {Role.ADMIN}, name
        if name.endswith("history") and name.startswith("admin:"):
            assert users_of(name) == set(), name


def test_the_audit_admin_writes_nothing_but_sign_out_notifications_read_and_the_language():
    """...and their own second sign-in factor, which they must enrol to sign in at all."""
    writes = {
        name
        for name in NAMED
        if any(policy.rule_for(name).allows(Role.AUDITOR, m) for m in ("POST", "PUT", "PATCH", "DELETE"))
        and not policy.rule_for(name).is_public
    }
    assert writes == {
        "accounts:logout",
        # their own password (forced after a reset) and contact details
        "accounts:password_change",
        "accounts:profile",
        "accounts:two_factor",
        "accounts:two_factor_enrol",
        "accounts:two_factor_verify",
        "notifications:open",
        "notifications:read",
        "api:notification-read",
        "api:notification-read-all",
    }


def test_every_api_view_enforces_the_policy_itself():
    """A token-signed request is only known inside DRF: every DRF view must carry the
    policy's permission, not just rely on the middleware."""
    from accounts.policy import PolicyPermission

    for name, pattern, _route in routes():
        view_class = getattr(pattern.callback, "cls", None)
        if view_class is not None and policy.is_api_view(pattern.callback, "api:any"):
            view = view_class(**getattr(pattern.callback, "initkwargs", {}))
            assert any(isinstance(p, PolicyPermission) for p in view.get_permissions()), name


def test_the_views_role_checks_agree_with_the_policy():
    """role_required on a view is defence in depth: the same roles as the policy's."""
    checked = 0
    for name, pattern, _route in routes():
        required = getattr(pattern.callback, "required_roles", None)
        if required is None:
            continue
        rule = policy.rule_for(name)
        allowed = {role for role in Role.values if any(rule.allows(role, m) for m in METHODS)}
        assert set(required) == allowed, name
        checked += 1
    assert checked >= 20


# --- The world the sample URLs point into ---------------------------------------------


@pytest.fixture(autouse=True)
def quick(settings):
    # No API throttling, which would answer 429 before the policy is asked (the rate limits
    # of settings.RATE_LIMITS are off in the test settings, config/test_settings.py).
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "100000/min", "anon": "100000/min"},
    }


@pytest.fixture(scope="module")
def module_world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The reported task (tests/fixtures/tasks.py: lead A, co-owner B, a milestone, an
    indicator, an update with its evidence file), a person of every role, and one of every
    other kind of object a URL can name: built once for the module (tests/fixtures/shared.py)."""
    media = tmp_path_factory.mktemp("media")

    def build():
        from api.models import ApiToken
        from dashboards.models import Export
        from imports.models import PlanImport
        from indicators.models import Reading
        from notifications.models import Delivery, Notification

        agencies = create_agencies()
        people = {
            Role.STAFF: create_persona("staff_lead", agencies),
            Role.LEADER: create_persona("leader", agencies),
            Role.SUPERVISOR: make_user("supervisor", Role.SUPERVISOR, agencies["commission"]),
            Role.ADMIN: create_persona("admin", agencies),
            Role.SECURITY: make_user("security", Role.SECURITY, agencies["commission"]),
            Role.AUDITOR: create_persona("auditor", agencies),
        }
        staff_a, staff_b = people[Role.STAFF], create_persona("staff_co_owner", agencies)
        plan = create_plan(agencies["commission"])
        section = create_section(plan)
        reported = create_reported_task(plan, section, agencies["agency_a"], agencies["agency_b"], staff_a, media)
        task, indicator = reported.task, reported.indicator
        reading = Reading.objects.create(
            indicator=indicator, plan=plan, value=1, as_of=datetime.date(2026, 3, 1), reporter=staff_a
        )
        export = Export.objects.create(kind="ledger", requested_by=people[Role.LEADER], plan=plan, year=2026)
        plan_import = PlanImport.objects.create(
            file="imports/x.txt", original_name="x.txt", sha256="1" * 64, created_by=people[Role.ADMIN]
        )
        notification = Notification.objects.create(recipient=staff_a, rule="task_due", title="任务即将到期", task=task)
        delivery = Delivery.objects.create(
            rule="task_due",
            object_id=task.pk,
            due_on=datetime.date(2026, 12, 31),
            day_offset=7,
            channel="email",
            recipient=staff_a,
            task=task,
            not_before=datetime.datetime(2026, 12, 24, tzinfo=datetime.UTC),
        )
        token = ApiToken.issue(staff_a, "同步", created_by=staff_a)[0]
        return {
            "pk": {
                "imports": plan_import.pk,
                "tasks": task.pk,
                # The loop's pages answer 404 for an id that is not a report, close-out or
                # request of the user's: what the matrix checks is the policy in front.
                "supervision": task.pk,
                "escalation": task.pk,
                "publication": plan.pk,
                "assessment": plan.pk,
                "console": plan.pk,
                "console:agency_edit": agencies["outside_agency"].pk,
                "console:agency_move": agencies["outside_agency"].pk,
                "console:agency_merge": agencies["outside_agency"].pk,
                "console:agency_deactivate": agencies["outside_agency"].pk,
                "console:agency_activate": agencies["outside_agency"].pk,
                # console: plan pages and task editing — a task's pages take the task's id
                "console:plan_task_edit": task.pk,
                "console:plan_task_move": task.pk,
                "console:plan_task_split": task.pk,
                "console:plan_task_merge": task.pk,
                "console:plan_task_delete": task.pk,
                "attachment": reported.attachment.pk,
                "dashboards": export.pk,
                "notifications:open": notification.pk,
                "notifications:retry_delivery": delivery.pk,
                "api:token_revoke": token.pk,
                "accounts:user_role": staff_b.pk,
                "accounts:two_factor_reset": staff_b.pk,
                "accounts:account": staff_b.pk,
                "accounts:account_password": staff_b.pk,
                "accounts:account_username": staff_b.pk,
                "accounts:account_active": staff_b.pk,
                "accounts:account_tokens_revoke": staff_b.pk,
                "api:agency": agencies["agency_a"].pk,
                "api:plan": plan.pk,
                "api:section": section.pk,
                "api:task": task.pk,
                "api:progress-update": reported.update.pk,
                "api:indicator": indicator.pk,
                "api:reading": reading.pk,
                "api:notification": notification.pk,
                "api:token": token.pk,
                # the supervision loop: any id (one not there answers 404 past the policy)
                "api:report": task.pk,
                "api:co-input": task.pk,
                "api:close-out": task.pk,
                "api:change-request": task.pk,
                "api:transition": task.pk,
                # escalation: any id too
                "api:notice": task.pk,
                "api:urge": task.pk,
                "api:instruction": task.pk,
            },
            "milestone": reported.milestone,
            "people": people,
            "media": media,
        }

    yield from built_once(django_db_blocker, build)


@pytest.fixture
def world(module_world, db, settings):
    settings.MEDIA_ROOT = module_world["media"]
    with files_as_they_were(module_world["media"]):
        yield copy.deepcopy(module_world)


def _admin_model(name):
    """The model behind an admin route name "admin:<app>_<model>_<view>"."""
    for model in admin.site._registry:
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}_"
        if name.startswith(prefix):
            return model
    return None


def _sample_pk(name, world):
    pks = world["pk"]
    if name in pks:
        return pks[name]
    if name.startswith("api:"):
        return pks[name[: name.rindex("-")]]
    if name == "tasks:attachment_download":
        return pks["attachment"]
    return pks[name.split(":")[0]]


def sample_url(name, pattern, world):
    """A URL of the route `name` with ids from the world (None: no URL can be made)."""
    converters = getattr(pattern.pattern, "converters", {})
    regex = pattern.pattern.regex
    params = set(converters) | set(regex.groupindex)
    if "history" in name and name.endswith("simple_history"):
        model = _admin_model(name)
        obj = model.objects.order_by("pk").first()
        record = obj.history.order_by("pk").first() if obj is not None else None
        if record is None:
            return None
        return reverse(name, args=[obj.pk, record.history_id])
    kwargs = {}
    for param in params:
        if param == "object_id" and "content_type_id" in params:
            kwargs[param] = world["people"][Role.STAFF].pk
        elif param == "object_id":
            model = _admin_model(name)
            obj = model.objects.order_by("pk").first() if model else None
            kwargs[param] = obj.pk if obj is not None else 1
        elif param == "id":  # the admin's password change of a user
            kwargs[param] = world["people"][Role.STAFF].pk
        elif param == "content_type_id":
            kwargs[param] = ContentType.objects.get_for_model(world["people"][Role.STAFF]).pk
        elif param == "app_label":
            kwargs[param] = "tasks"
        elif param == "index":
            kwargs[param] = 0
        elif param == "pk":
            kwargs[param] = _sample_pk(name, world)
        elif param == "reading_pk":  # a reading of the reported task's indicator
            kwargs[param] = world["pk"]["api:reading"]
        elif param == "agency_pk":  # an agency of the plan: A leads its task
            kwargs[param] = world["people"][Role.STAFF].agency_id
        elif param == "milestone_pk":
            kwargs[param] = world["milestone"].pk
        else:
            raise AssertionError(f"{name}: no sample for URL parameter {param!r}")
    return reverse(name, kwargs=kwargs)


# --- The matrix ---------------------------------------------------------------------------


def _request(client, method, url, *, api, headers):
    content_type = "application/json" if api else "application/x-www-form-urlencoded"
    body = "{}" if api and method != "GET" else ""
    if method == "GET":
        response = client.get(url, **headers)
    else:
        response = client.generic(method, url, body, content_type=content_type, **headers)
    if response.streaming:  # the evidence file: read to the end, so the test client closes it
        b"".join(response.streaming_content)
    return response


def _check(response, *, denied, persona, api, name, method):
    marked = getattr(response.wsgi_request, "denied_by_policy", False)
    cell = f"{persona} {method} {name} → {response.status_code}"
    if not denied:
        return None if not marked and response.status_code < 500 else f"{cell}: refused, the policy allows it"
    if (
        api
        and response.status_code == 405
        and not any(policy.rule_for(name).allows(role, method) for role in Role.values)
    ):
        return None  # a method the endpoint does not serve, and the policy gives no one
    if not marked:
        return f"{cell}: not refused by the policy, which denies it"
    expected = ((401,) if api else (302,)) if persona == "anonymous" else (403,)
    if response.status_code not in expected:
        return f"{cell}: refused with the wrong answer"
    if persona == "anonymous" and not api and "/accounts/login/" not in response["Location"]:
        return f"{cell}: not sent to the login page"
    return None


def _cells(world):
    for name, pattern, _route in routes():
        if not pattern.name:
            continue
        url = sample_url(name, pattern, world)
        if url is None:
            continue
        yield name, url, policy.is_api_view(pattern.callback, name)


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("method", METHODS)
def test_each_role_gets_exactly_what_the_policy_says(client, world, persona, method):
    # given
    user = world["people"].get(persona)
    if user is not None:
        client.force_login(user)
    failures = []

    # when / then: every route, with this method
    for name, url, api in _cells(world):
        response = _request(client, method, url, api=api, headers={})
        denied = not policy.allows(user, name, method)
        failure = _check(response, denied=denied, persona=persona, api=api, name=name, method=method)
        if failure:
            failures.append(failure)
        if user is not None and name in SIGNS_OUT and not denied:
            client.force_login(user)

    assert failures == []


@pytest.mark.parametrize("persona", Role.values)
@pytest.mark.parametrize("method", METHODS)
def test_a_token_gets_exactly_what_the_policy_says_on_the_api(client, world, persona, method):
    """The same cells of the API for a caller signed in by token, which only DRF sees. The
    security and audit admins have no tokens: one left from before (written straight into
    the table) opens nothing, 401 everywhere."""
    from api.models import TOKENLESS_ROLES, ApiToken, hash_token

    # given
    user = world["people"][persona]
    if persona in TOKENLESS_ROLES:
        key = "wpt_left-from-before"
        ApiToken.objects.create(user=user, name="矩阵", prefix=key[:12], key_hash=hash_token(key))
        for name, url, api in _cells(world):
            if api and name.startswith("api:") and name not in {"api:docs", "api:redoc"}:
                response = _request(client, method, url, api=True, headers={"HTTP_AUTHORIZATION": f"Token {key}"})
                assert response.status_code == 401, f"{persona} {method} {name}"
        return
    _token, key = ApiToken.issue(user, "矩阵", created_by=user)
    headers = {"HTTP_AUTHORIZATION": f"Token {key}"}
    failures = []

    # when / then
    for name, url, api in _cells(world):
        if not api or not name.startswith("api:") or name in {"api:docs", "api:redoc"}:
            continue
        response = _request(client, method, url, api=True, headers=headers)
        denied = not policy.allows(user, name, method)
        failure = _check(response, denied=denied, persona=persona, api=True, name=name, method=method)
        if failure:
            failures.append(failure)

    assert failures == []


def test_a_refusal_by_the_policy_is_a_chinese_page_for_people_and_json_for_the_api(client, world):
    client.force_login(world["people"][Role.SECURITY])
    page = client.get(reverse("tasks:my_tasks"))
    assert page.status_code == 403 and "无权访问" in page.content.decode()
    api = client.get(reverse("api:task-list"))
    assert api.status_code == 403
    assert api.json()["code"] == "permission_denied"
    assert re.search("[\u4e00-\u9fff]", api.json()["detail"])
