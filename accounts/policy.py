"""The one access policy: for every named URL of the site (pages, the API, the Django
admin), which roles may use it with which HTTP methods. Anything not written here is
refused (deny by default).

Three things read it, so they cannot disagree:
- accounts.middleware.AccessPolicyMiddleware, for every page (and the Django admin);
- accounts.policy.PolicyPermission, for the API (a token-signed request is only known
  inside DRF), on every DRF view;
- accounts.backends.PolicyBackend, for the Django admin's model permissions.

The policy answers by role only; what a role may do with one object (a task of another
agency, an export of someone else) stays with the views and services (tasks.services.
task_access, the API's restrict() and check_write()).

Separation of the three administrators (三员分立): the system admin (ADMIN) runs the
platform but never reads the audit trail; the security admin (SECURITY) assigns roles and
unlocks accounts and writes no work data; the audit admin (AUDITOR) reads and exports the
trail and writes nothing but signing out, the language, their own second sign-in factor,
their own password and contact details, and their own notifications' read marks.
"""

import dataclasses
import fnmatch
import functools

from django.apps import apps
from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission
from simple_history.models import HistoricalChanges

from core.roles import ALL_ROLES, OVERSIGHT_ROLES, WORK_ROLES, Role

# What a method asks for: HEAD and OPTIONS read like GET.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

SYSTEM = (Role.ADMIN,)
SECURITY = (Role.SECURITY,)
AUDIT = (Role.AUDITOR,)
# Everyone but the audit admin, who writes nothing (their own settings included).
WRITERS = (Role.STAFF, Role.LEADER, Role.ADMIN, Role.SECURITY)
NOBODY = ()
# Who creates ordinary accounts in bulk: the system admin (staff accounts) and the security
# admin (any ordinary role): core.roles.grantable_roles says which roles each may give.
PEOPLE = (Role.ADMIN, Role.SECURITY)


@dataclasses.dataclass(frozen=True)
class Rule:
    """Who may use one URL: `grants` maps a role to the methods it may use; a public URL
    serves everyone, signed in or not, with `public_methods`."""

    grants: dict[str, frozenset[str]]
    public_methods: frozenset[str] = frozenset()

    def allows(self, role: str | None, method: str) -> bool:
        method = "GET" if method in READ_METHODS else method
        if method in self.public_methods:
            return True
        return role is not None and method in self.grants.get(role, ())

    @property
    def is_public(self) -> bool:
        return bool(self.public_methods)


def allow(read=NOBODY, write=NOBODY, methods=("POST",)) -> Rule:
    """`read` roles may GET; `write` roles may use `methods` (POST unless told)."""
    grants: dict[str, set[str]] = {}
    for role in read:
        grants.setdefault(role, set()).add("GET")
    for role in write:
        grants.setdefault(role, set()).update(methods)
    return Rule({role: frozenset(m) for role, m in grants.items()})


def public(*methods) -> Rule:
    return Rule({}, frozenset(methods or ("GET",)))


# Every named URL of the project. Unnamed routes that only redirect or answer 404 are
# listed as Django's resolver names them: namespace, then the view's dotted path.
POLICY: dict[str, Rule] = {
    # --- Public: signing in, liveness, the language switch ---------------------------
    # (Static files never reach the URL resolver: WhiteNoise serves them first.)
    "accounts:login": public("GET", "POST"),
    "healthz": public("GET"),
    "set_language": public("POST"),
    "api:api.views.not_found": public(*METHODS),
    # --- Everyone signed in ----------------------------------------------------------
    "home": allow(read=ALL_ROLES),
    "accounts:logout": allow(write=ALL_ROLES),
    # Two-factor sign-in: everyone's own (the audit admin too, who must enrol to sign in).
    "accounts:two_factor": allow(read=ALL_ROLES, write=ALL_ROLES),
    "accounts:two_factor_verify": allow(read=ALL_ROLES, write=ALL_ROLES),
    "accounts:two_factor_enrol": allow(read=ALL_ROLES, write=ALL_ROLES),
    "accounts:two_factor_recovery_codes": allow(read=ALL_ROLES),
    # One's own password and contact details: everyone's, the audit admin's too (their
    # password must be changeable, and is forced after a reset: accounts.middleware).
    "accounts:password_change": allow(read=ALL_ROLES, write=ALL_ROLES),
    "accounts:profile": allow(read=ALL_ROLES, write=ALL_ROLES),
    # --- Security admin: roles and lockouts ------------------------------------------
    "accounts:user_list": allow(read=SECURITY),
    "accounts:user_role": allow(read=SECURITY, write=SECURITY),
    "accounts:lockout_list": allow(read=SECURITY),
    "accounts:unlock": allow(write=SECURITY),
    # One account's password, active flag and API tokens: the only place the three
    # administrators' accounts are changed (core.roles.can_manage_account).
    "accounts:account": allow(read=SECURITY),
    "accounts:account_password": allow(write=SECURITY),
    "accounts:account_username": allow(write=SECURITY),
    "accounts:account_active": allow(write=SECURITY),
    "accounts:account_tokens_revoke": allow(write=SECURITY),
    "accounts:two_factor_reset": allow(read=SECURITY, write=SECURITY),
    # --- Audit admin: the audit trail (read and export, nothing else) ----------------
    "audit:events": allow(read=AUDIT),
    "audit:export": allow(read=AUDIT),
    # --- Plans and their import: the system admin ------------------------------------
    "workplans:plan_list": allow(read=SYSTEM),
    # The working-day calendar (节假日与调休): the system admin keeps it; leaders and the
    # supervision office, who set and watch deadlines, may look it up and export it.
    "workdays:calendar": allow(read=OVERSIGHT_ROLES),
    "workdays:export": allow(read=OVERSIGHT_ROLES),
    "workdays:day_edit": allow(read=SYSTEM, write=SYSTEM),
    "workdays:day_delete": allow(write=SYSTEM),
    "workdays:import": allow(read=SYSTEM, write=SYSTEM),
    "imports:upload": allow(read=SYSTEM, write=SYSTEM),
    "imports:status": allow(read=SYSTEM),
    "imports:progress": allow(read=SYSTEM),
    "imports:preview": allow(read=SYSTEM, write=SYSTEM),
    "imports:task_edit": allow(read=SYSTEM, write=SYSTEM),
    # The preview's autosave, bulk owners and "create all unmatched under …" (POST only).
    "imports:autosave": allow(write=SYSTEM),
    "imports:bulk_owners": allow(write=SYSTEM),
    "imports:create_unmatched": allow(write=SYSTEM),
    # --- The console (console/): the system admin's plans, year and people ----------
    # (console: plan pages and task editing)
    "console:plan_detail": allow(read=SYSTEM),
    "console:plan_settings": allow(write=SYSTEM),
    "console:plan_activate": allow(read=SYSTEM, write=SYSTEM),
    "console:plan_back_to_draft": allow(read=SYSTEM, write=SYSTEM),
    "console:plan_bulk": allow(write=SYSTEM),
    "console:plan_task_add": allow(read=SYSTEM, write=SYSTEM),
    "console:plan_task_edit": allow(read=SYSTEM, write=SYSTEM),
    "console:plan_task_move": allow(read=SYSTEM, write=SYSTEM),
    "console:plan_task_split": allow(read=SYSTEM, write=SYSTEM),
    "console:plan_task_merge": allow(read=SYSTEM, write=SYSTEM),
    "console:plan_task_delete": allow(read=SYSTEM, write=SYSTEM),
    # (console: year close, rollover, alignment)
    "console:year_close": allow(read=SYSTEM, write=SYSTEM),
    "console:rollover": allow(read=SYSTEM, write=SYSTEM),
    "console:alignment": allow(read=SYSTEM, write=SYSTEM),
    # (console: agencies and users)
    "console:agencies": allow(read=SYSTEM),
    "console:agency_add": allow(read=SYSTEM, write=SYSTEM),
    "console:agency_edit": allow(read=SYSTEM, write=SYSTEM),
    "console:agency_move": allow(read=SYSTEM, write=SYSTEM),
    "console:agency_merge": allow(read=SYSTEM, write=SYSTEM),
    "console:agency_deactivate": allow(read=SYSTEM, write=SYSTEM),
    "console:agency_activate": allow(write=SYSTEM),
    "console:user_import": allow(read=PEOPLE, write=PEOPLE),
    "console:user_import_template": allow(read=PEOPLE),
    "console:user_import_preview": allow(read=PEOPLE),
    "console:user_import_confirm": allow(write=PEOPLE),
    "console:user_import_logins": allow(write=PEOPLE),
    # --- Tasks: the work roles (task_access decides per task) -----------------------
    "tasks:my_tasks": allow(read=WORK_ROLES),
    "tasks:plan_options": allow(read=WORK_ROLES),
    "tasks:task_detail": allow(read=WORK_ROLES),
    "tasks:task_report": allow(write=WORK_ROLES),
    "tasks:task_responsible": allow(write=WORK_ROLES),
    "tasks:task_updates": allow(read=WORK_ROLES),
    # A task's own change log, as the task page shows it; the audit admin reads every
    # published task's (tasks.services.may_view_audit_trail).
    "tasks:task_history": allow(read=WORK_ROLES + AUDIT),
    "tasks:attachment_download": allow(read=WORK_ROLES),
    # Corrections and a milestone's completion taken back (task_access decides per task).
    "tasks:reading_correct": allow(write=WORK_ROLES),
    "tasks:milestone_reopen": allow(write=WORK_ROLES),
    # --- The supervision loop (督办闭环): the objects' own rules (supervision.permissions)
    # decide who acts on which report, close-out or request; these say who may call.
    # supervision: work lists
    "supervision:worklist": allow(read=WORK_ROLES),
    # supervision: reports and co-owner input
    # The report and the input are written by staff (the lead's, a co-owner's); a report's
    # page is read by whoever sees its task; sign-off is a leader's or a staff 审核人's,
    # review the supervision office's.
    "supervision:report_edit": allow(read=(Role.STAFF,), write=(Role.STAFF,)),
    "supervision:coinput_edit": allow(read=(Role.STAFF,), write=(Role.STAFF,)),
    "supervision:report_detail": allow(read=WORK_ROLES),
    "supervision:report_decide": allow(write=(Role.STAFF, Role.LEADER, Role.SUPERVISOR)),
    # supervision: close-out and requests
    # The lead's staff file (is_lead_staff); the office decides a close-out; a leader
    # reopens a closed task; a request's step is decided by the unit head (a leader or a
    # staff 审核人), the office or the leader in charge (supervision.permissions).
    "supervision:closeout_new": allow(read=(Role.STAFF,), write=(Role.STAFF,)),
    "supervision:closeout_detail": allow(read=WORK_ROLES),
    "supervision:closeout_decide": allow(write=(Role.SUPERVISOR,)),
    "supervision:closeout_withdraw": allow(write=(Role.STAFF,)),
    "supervision:task_reopen": allow(read=(Role.LEADER,), write=(Role.LEADER,)),
    "supervision:request_new": allow(read=(Role.STAFF,), write=(Role.STAFF,)),
    "supervision:request_detail": allow(read=WORK_ROLES),
    "supervision:request_decide": allow(write=(Role.STAFF, Role.LEADER, Role.SUPERVISOR)),
    "supervision:request_withdraw": allow(write=(Role.STAFF,)),
    # --- Escalation (督办单, 催办, 批示): the objects' own rules (escalation.permissions)
    # decide who acts on which notice, urge or instruction; these say who may call.
    # Every work role reads what it may see; the office issues, decides and holds; the
    # lead's staff (and its heads) acknowledge, its staff answer; leaders urge, instruct
    # and settle.
    "escalation:board": allow(read=WORK_ROLES),
    "escalation:notice_detail": allow(read=WORK_ROLES),
    "escalation:notice_docx": allow(read=WORK_ROLES),
    "escalation:notice_pdf": allow(read=WORK_ROLES),
    "escalation:notice_acknowledge": allow(write=(Role.STAFF, Role.LEADER)),
    "escalation:notice_answer": allow(write=(Role.STAFF,)),
    "escalation:notice_decide": allow(write=(Role.SUPERVISOR,)),
    "escalation:notice_new": allow(read=(Role.SUPERVISOR,), write=(Role.SUPERVISOR,)),
    "escalation:urge_new": allow(read=(Role.SUPERVISOR, Role.LEADER), write=(Role.SUPERVISOR, Role.LEADER)),
    "escalation:instruction_new": allow(read=(Role.LEADER,), write=(Role.LEADER,)),
    "escalation:hold": allow(read=(Role.SUPERVISOR,), write=(Role.SUPERVISOR,)),
    "escalation:release": allow(write=(Role.SUPERVISOR,)),
    "escalation:urge_detail": allow(read=WORK_ROLES),
    "escalation:urge_reply": allow(write=(Role.STAFF,)),
    "escalation:instruction_detail": allow(read=WORK_ROLES),
    "escalation:instruction_respond": allow(write=(Role.STAFF,)),
    "escalation:instruction_conclude": allow(write=(Role.LEADER,)),
    # --- Dashboards and exports: leaders and the system admin ------------------------
    "dashboards:overview": allow(read=OVERSIGHT_ROLES),
    "dashboards:export_ledger": allow(write=OVERSIGHT_ROLES),
    "dashboards:export_bulletin": allow(write=OVERSIGHT_ROLES),
    "dashboards:export_status": allow(read=OVERSIGHT_ROLES),
    "dashboards:export_progress": allow(read=OVERSIGHT_ROLES),
    "dashboards:export_download": allow(read=OVERSIGHT_ROLES),
    # --- Bulletins (通报): drafted, edited and issued by the supervision office -------
    # Drafts are the office's (dashboards.bulletins.may_draft/may_edit decide per plan);
    # leaders read the issued bulletins of their plans, the system admin every one.
    "dashboards:bulletin_list": allow(read=OVERSIGHT_ROLES),
    "dashboards:bulletin_new": allow(read=(Role.SUPERVISOR,), write=(Role.SUPERVISOR,)),
    "dashboards:bulletin_detail": allow(read=OVERSIGHT_ROLES),
    "dashboards:bulletin_edit": allow(write=(Role.SUPERVISOR,)),
    "dashboards:bulletin_redraft": allow(write=(Role.SUPERVISOR,)),
    "dashboards:bulletin_issue": allow(read=(Role.SUPERVISOR,), write=(Role.SUPERVISOR,)),
    "dashboards:bulletin_docx": allow(read=OVERSIGHT_ROLES),
    "dashboards:bulletin_pdf": allow(read=OVERSIGHT_ROLES),
    # --- Assessment (考核): schemes by the system admin, scores for the oversight roles --
    "assessment:index": allow(read=OVERSIGHT_ROLES),
    "assessment:ranking": allow(read=OVERSIGHT_ROLES),
    "assessment:agency": allow(read=OVERSIGHT_ROLES),
    "assessment:export": allow(read=OVERSIGHT_ROLES),
    "assessment:scheme": allow(read=SYSTEM, write=SYSTEM),
    # The admin freezes the year, as they run its other settings (activation, rollover): the
    # office whose returns and notices make the scores does not also fix the result.
    "assessment:freeze": allow(read=SYSTEM, write=SYSTEM),
    "assessment:evaluate": allow(read=(Role.LEADER,), write=(Role.LEADER,)),
    # --- Excel fill-in sheets (填报表): staff of an agency, and the supervision office ----
    # Staff download their agency's sheet and bring it back (an import is its uploader's);
    # the supervision office downloads any agency's sheet in its scope to hand out.
    "tasks:fill_sheets": allow(read=(Role.STAFF, Role.SUPERVISOR), write=(Role.STAFF,)),
    "tasks:fill_sheet_download": allow(read=(Role.STAFF, Role.SUPERVISOR)),
    "tasks:fill_sheet_import": allow(read=(Role.STAFF,)),
    "tasks:fill_sheet_confirm": allow(write=(Role.STAFF,)),
    "tasks:fill_sheet_discard": allow(write=(Role.STAFF,)),
    # --- The public progress page (政务公开): settings by the admin, pages for anyone ---
    # The public list and a plan's page serve anyone, signed in or not, GET only: they read
    # a published snapshot and nothing else (publication.services). The system admin turns a
    # plan on, picks its fields and publishes; the supervision office writes the public
    # narratives and may build and preview a draft; both read the settings and take the
    # static bundle (each plan within Plan.visible_to).
    "publication:index": public("GET"),
    "publication:plan_page": public("GET"),
    "publication:manage": allow(read=(Role.ADMIN, Role.SUPERVISOR)),
    "publication:plan_settings": allow(read=(Role.ADMIN, Role.SUPERVISOR), write=SYSTEM),
    "publication:snapshot_build": allow(write=(Role.ADMIN, Role.SUPERVISOR)),
    "publication:snapshot_preview": allow(read=(Role.ADMIN, Role.SUPERVISOR)),
    "publication:snapshot_publish": allow(write=SYSTEM),
    "publication:bundle": allow(read=(Role.ADMIN, Role.SUPERVISOR)),
    "publication:narratives": allow(read=(Role.ADMIN, Role.SUPERVISOR)),
    "publication:narrative_edit": allow(read=(Role.SUPERVISOR,), write=(Role.SUPERVISOR,)),
    # --- Notifications: everyone's own inbox; the delivery log is the system admin's -
    "notifications:inbox": allow(read=ALL_ROLES),
    "notifications:open": allow(write=ALL_ROLES),
    "notifications:read": allow(write=ALL_ROLES),
    "notifications:preferences": allow(read=ALL_ROLES, write=WRITERS),
    "notifications:deliveries": allow(read=SYSTEM),
    "notifications:retry_delivery": allow(write=SYSTEM),
    # --- API pages: tokens are for the work roles' systems ---------------------------
    "api:token_list": allow(read=ALL_ROLES, write=WORK_ROLES),
    "api:token_revoke": allow(write=WORK_ROLES),
    "api:schema": allow(read=ALL_ROLES),
    "api:docs": allow(read=ALL_ROLES),
    "api:redoc": allow(read=ALL_ROLES),
    # --- The API (/api/v1/) ----------------------------------------------------------
    "api:api-root": allow(read=ALL_ROLES),
    "api:agency-list": allow(read=WORK_ROLES),
    "api:agency-detail": allow(read=WORK_ROLES),
    "api:plan-list": allow(read=WORK_ROLES),
    "api:plan-detail": allow(read=WORK_ROLES),
    "api:section-list": allow(read=WORK_ROLES),
    "api:section-detail": allow(read=WORK_ROLES),
    "api:task-list": allow(read=WORK_ROLES),
    "api:task-detail": allow(read=WORK_ROLES),
    "api:progress-update-list": allow(read=WORK_ROLES, write=WORK_ROLES),
    "api:progress-update-detail": allow(read=WORK_ROLES),
    "api:indicator-list": allow(read=WORK_ROLES),
    "api:indicator-detail": allow(read=WORK_ROLES),
    "api:reading-list": allow(read=WORK_ROLES, write=WORK_ROLES),
    "api:reading-detail": allow(read=WORK_ROLES),
    "api:reading-correct": allow(write=WORK_ROLES),
    "api:dashboard-overview": allow(read=OVERSIGHT_ROLES),
    "api:notification-list": allow(read=ALL_ROLES),
    "api:notification-detail": allow(read=ALL_ROLES),
    "api:notification-read": allow(write=ALL_ROLES),
    "api:notification-read-all": allow(write=ALL_ROLES),
    "api:token-list": allow(read=ALL_ROLES, write=WORK_ROLES),
    "api:token-detail": allow(read=ALL_ROLES),
    "api:token-revoke": allow(write=WORK_ROLES),
    # supervision: API
    # Reads for the work roles (what each sees is visible_to); writes for the roles that can
    # take the step: the lead's and co-owners' staff write and submit, the unit head (a
    # leader, or a staff 审核人) signs off, the supervision office reviews and decides, a
    # leader reopens and decides a target change's last step. The objects' own rules
    # (supervision.permissions through supervision.machine) decide the rest.
    "api:report-list": allow(read=WORK_ROLES, write=(Role.STAFF,)),
    "api:report-detail": allow(read=WORK_ROLES),
    "api:report-submit": allow(write=(Role.STAFF,)),
    "api:report-signoff": allow(write=(Role.STAFF, Role.LEADER)),
    "api:report-review": allow(write=(Role.SUPERVISOR,)),
    "api:co-input-list": allow(read=WORK_ROLES, write=(Role.STAFF,)),
    "api:co-input-detail": allow(read=WORK_ROLES),
    "api:co-input-submit": allow(write=(Role.STAFF,)),
    "api:close-out-list": allow(read=WORK_ROLES, write=(Role.STAFF,)),
    "api:close-out-detail": allow(read=WORK_ROLES),
    "api:close-out-decide": allow(write=(Role.SUPERVISOR,)),
    "api:close-out-withdraw": allow(write=(Role.STAFF,)),
    "api:close-out-reopen": allow(write=(Role.LEADER,)),
    "api:change-request-list": allow(read=WORK_ROLES, write=(Role.STAFF,)),
    "api:change-request-detail": allow(read=WORK_ROLES),
    "api:change-request-decide": allow(write=(Role.STAFF, Role.LEADER, Role.SUPERVISOR)),
    "api:change-request-withdraw": allow(write=(Role.STAFF,)),
    # escalation: API
    # Reads for the work roles (what each sees is visible_to); writes for the roles that can
    # take the step: the supervision office issues and decides 督办单, the lead's staff (and
    # its heads) acknowledge and its staff answer; the office or a leader urges, the urged
    # staff reply; a leader instructs and settles, the lead's staff respond. The objects' own
    # rules (escalation.permissions through escalation.machine) decide the rest.
    "api:notice-list": allow(read=WORK_ROLES, write=(Role.SUPERVISOR,)),
    "api:notice-detail": allow(read=WORK_ROLES),
    "api:notice-acknowledge": allow(write=(Role.STAFF, Role.LEADER)),
    "api:notice-answer": allow(write=(Role.STAFF,)),
    "api:notice-decide": allow(write=(Role.SUPERVISOR,)),
    "api:urge-list": allow(read=WORK_ROLES, write=(Role.SUPERVISOR, Role.LEADER)),
    "api:urge-detail": allow(read=WORK_ROLES),
    "api:urge-reply": allow(write=(Role.STAFF,)),
    "api:instruction-list": allow(read=WORK_ROLES, write=(Role.LEADER,)),
    "api:instruction-detail": allow(read=WORK_ROLES),
    "api:instruction-respond": allow(write=(Role.STAFF,)),
    "api:instruction-conclude": allow(write=(Role.LEADER,)),
    "api:transition-list": allow(read=WORK_ROLES),
    "api:transition-detail": allow(read=WORK_ROLES),
    # --- The Django admin: the system admin's -----------------------------------------
    # Its own login page is a login page like ours (same backends, same lockout).
    "admin:login": public("GET", "POST"),
    # Unnamed admin routes: an object's bare URL redirects to its change page, anything
    # else is the admin's 404; both only for someone who may enter the admin at all.
    "admin:django.views.generic.base.RedirectView": allow(read=SYSTEM),
    "admin:django.contrib.admin.sites.AdminSite.catch_all_view": allow(read=SYSTEM, write=SYSTEM),
}

# Route families of the Django admin, first match wins. The audit trail's pages (every
# model's change history, simple-history's record views, the audit app's models) are no
# one's there: the audit admin reads the trail on the audit pages, the system admin never.
PATTERNS: list[tuple[str, Rule]] = [
    ("admin:*_simple_history", allow()),
    ("admin:*_history", allow()),
    ("admin:audit_*", allow()),
    ("admin:accounts_loginevent_*", allow()),
    ("admin:axes_*", allow()),
    ("admin:*", allow(read=SYSTEM, write=SYSTEM)),
]


def rule_for(view_name: str) -> Rule | None:
    """The rule for a URL name (namespaced, as resolver_match.view_name gives it)."""
    found = POLICY.get(view_name)
    if found is not None:
        return found
    for pattern, pattern_rule in PATTERNS:
        if fnmatch.fnmatchcase(view_name, pattern):
            return pattern_rule
    return None


def allows(user, view_name: str, method: str) -> bool:
    """May `user` (signed in or not) use the URL named `view_name` with `method`?"""
    found = rule_for(view_name)
    if found is None:
        return False
    if found.allows(None, method):
        return True
    if not (user is not None and user.is_authenticated and user.is_active):
        return False
    return found.allows(user.role, method)


# DRF views that are pages for people (HTML, sign-in by the login page), checked by the
# middleware like any page (and again by PolicyPermission inside DRF).
DRF_PAGES = {"api:docs", "api:redoc"}


def is_api_view(view_func, view_name: str) -> bool:
    """A DRF view of the API: its caller may sign in with a token, which only DRF knows
    about, so PolicyPermission (not the middleware) enforces the policy there. DRF's
    as_view() marks its views with `cls` (APIView itself cannot be imported here: DRF
    imports this module while it loads its settings)."""
    view_class = getattr(view_func, "cls", None)
    return isinstance(view_class, type) and hasattr(view_class, "permission_classes") and view_name not in DRF_PAGES


# --- The Django admin's model permissions ---------------------------------------------

# Models that are the audit trail or the permission system: no role has them in the
# Django admin (the audit admin reads the trail on its own pages; roles are the security
# admin's users page, and groups/permissions are not used: the role is the one source).
NO_ADMIN_MODELS = {
    "accounts.loginevent",
    "accounts.recoverycodedevice",
    "accounts.recoverycode",
    "admin.logentry",
    "auth.group",
    "auth.permission",
}
NO_ADMIN_APPS = {"audit", "axes", "sessions", "contenttypes", "otp_totp"}


def _admin_model_allowed(model) -> bool:
    opts = model._meta
    if issubclass(model, HistoricalChanges):
        return False
    return opts.label_lower not in NO_ADMIN_MODELS and opts.app_label not in NO_ADMIN_APPS


@functools.cache
def _system_admin_permissions() -> frozenset[str]:
    return frozenset(
        f"{model._meta.app_label}.{action}_{model._meta.model_name}"
        for model in apps.get_models()
        if _admin_model_allowed(model)
        for action in model._meta.default_permissions
    )


def model_permissions(user) -> frozenset[str]:
    """The Django model permissions ("app.action_model") `user` has: the system admin's
    over the platform's data, nobody else's. What a ModelAdmin refuses on top (the
    append-only logs) it still refuses."""
    if not (user.is_authenticated and user.is_active) or user.role != Role.ADMIN:
        return frozenset()
    return _system_admin_permissions()


# --- The API ---------------------------------------------------------------------------


def mark_denied(request) -> None:
    """Mark a request the policy refused (on the Django request under DRF's), so tests
    and logs tell a refusal by the policy from one by an object's own rule."""
    (getattr(request, "_request", None) or request).denied_by_policy = True


def _serves(view, method: str) -> bool:
    """Whether the API view has a handler for `method` at this URL (a viewset maps only
    the actions its route has)."""
    name = method.lower()
    return name in view.http_method_names and hasattr(view, name)


class PolicyPermission(BasePermission):
    """DRF's side of the policy, for every API view: signed in (by session or token),
    active, and the policy lets the role use this URL with this method. The answer
    depends on the role only, never on an object, so a refusal tells nothing about any
    id; what is visible and writable inside stays with the viewset."""

    message = _("您的角色不能使用此接口。")

    def has_permission(self, request, view):
        if not _serves(view, request.method):
            # DRF answers 405 Method Not Allowed: nobody may, so it is no question of access.
            return True
        user = request.user
        match = request.resolver_match
        view_name = match.view_name if match is not None else ""
        if allows(user, view_name, request.method):
            return True
        mark_denied(request)
        return False
