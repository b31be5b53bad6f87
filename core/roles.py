"""The platform's roles and the groups of them the access policy and the pages speak of.

Every layer names roles (the audit trail records the role a user acted in, the policy
grants URLs by role), so the vocabulary sits at the bottom; accounts gives roles to users
and accounts.policy decides what each may do.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    STAFF = "staff", _("经办人")
    LEADER = "leader", _("领导")
    # Staff of the supervision office (督查室): a work role, not an administrator. Reviews
    # reports, closes out tasks (销号) and decides requests in its scope (an agency subtree,
    # usually the whole bureau, and the plans it is named on).
    SUPERVISOR = "supervisor", _("督查专员")
    # The three administrators of 等保 2.0's separation of duties (三员分立): the system
    # admin runs the platform, the security admin grants roles and unlocks accounts, the
    # audit admin reads the trail. No person holds two of them (User's constraints).
    ADMIN = "admin", _("系统管理员")
    SECURITY = "security", _("安全管理员")
    AUDITOR = "auditor", _("审计管理员")


ALL_ROLES: tuple[str, ...] = tuple(Role.values)
# The roles of the separation of duties: each needs the person behind the account.
ADMIN_ROLES = (Role.ADMIN, Role.SECURITY, Role.AUDITOR)
# Who works on tasks: reads them, reports on them (staff), oversees them (leaders,
# supervisors, admins).
WORK_ROLES = (Role.STAFF, Role.LEADER, Role.SUPERVISOR, Role.ADMIN)
# Who watches the figures and takes the ledger and bulletin away: leaders, the supervision
# office and the system admin.
OVERSIGHT_ROLES = (Role.LEADER, Role.SUPERVISOR, Role.ADMIN)


def role_label(value: str) -> str:
    """The role's name in the current language; an unknown value as it is (an old row)."""
    return str(Role(value).label) if value in Role.values else value


def grantable_roles(actor) -> frozenset[str]:
    """The roles `actor` may give a new account of a bulk import (三员分立): roles are the
    security admin's to grant, so the security admin gives staff, leaders and supervisors;
    the system admin creates staff accounts only (经办人, as in the Django admin), whose
    role the security admin changes afterwards; the three administrators' accounts are
    never made in bulk."""
    if actor is None or not (actor.is_authenticated and actor.is_active):
        return frozenset()
    if actor.role == Role.SECURITY:
        return frozenset({Role.STAFF, Role.LEADER, Role.SUPERVISOR})
    if actor.role == Role.ADMIN:
        return frozenset({Role.STAFF})
    return frozenset()


def can_manage_account(actor, target) -> bool:
    """May `actor` change `target`'s credentials and standing (password, login name, active
    flag, second factor, API tokens)? The one rule the Django admin, the API and the pages
    ask (三员分立): the security admin manages every account but their own (another
    security admin does that); the system admin manages the ordinary accounts (staff,
    leaders), never an administrator's, their own included; nobody else manages anyone."""
    if actor is None or not (actor.is_authenticated and actor.is_active):
        return False
    if actor.role == Role.SECURITY:
        return actor.pk != target.pk
    if actor.role == Role.ADMIN:
        return target.role not in ADMIN_ROLES
    return False
