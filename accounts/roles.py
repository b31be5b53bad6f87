"""Changing a user's role: the security admin's job (三员分立), with its rules in one place
for the users page and the shell: not one's own role, never the last active security
admin, the person behind every administrator account, one administrator role per person.
The change is recorded in the user's history with what changed (the audit trail reads it).
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Upper
from django.utils.translation import gettext as _

from accounts.models import User
from core.roles import ADMIN_ROLES, Role


def is_last_active_security_admin(user: User, *, lock: bool = False) -> bool:
    """True when `user` is the only active security admin left: without one, nobody could
    grant roles or unlock accounts any more. `lock` holds the security admins' rows until
    the transaction ends, so two demotions at once cannot both pass."""
    if user.role != Role.SECURITY or not user.is_active:
        return False
    admins = User.objects.filter(role=Role.SECURITY, is_active=True)
    if lock:
        admins = admins.select_for_update(of=("self",))
    return list(admins.values_list("pk", flat=True)) == [user.pk]


def person_taken_by(person_id: str, *, exclude: User) -> User | None:
    """The other administrator account of this person, if any (case does not count)."""
    return (
        User.objects.annotate(person=Upper("person_id"))
        .filter(role__in=ADMIN_ROLES, person=person_id.upper())
        .exclude(pk=exclude.pk)
        .first()
    )


def change_reason(target: User, role: str, person_id: str, unit_reviewer: bool = False) -> str:
    parts = []
    if target.role != role:
        parts.append(_("角色：%(old)s → %(new)s") % {"old": Role(target.role).label, "new": Role(role).label})
    if target.person_id != person_id:
        parts.append(_("工号/证件号：%(old)s → %(new)s") % {"old": target.person_id or "—", "new": person_id or "—"})
    if target.is_unit_reviewer != unit_reviewer:
        parts.append(_("设为单位审核人") if unit_reviewer else _("取消单位审核人"))
    return "；".join(parts)


@transaction.atomic
def change_role(actor: User | None, target: User, role: str, person_id: str, unit_reviewer: bool | None = None) -> str:
    """Give `target` the `role` (and `person_id`, and for staff the 单位审核人 right: signing
    off their agency's reports and requests); `actor` is the security admin doing it
    (None: from the shell). Returns what changed ("" for nothing); a refused change raises
    ValidationError with the reason in Chinese and changes nothing. `unit_reviewer` None
    keeps the flag as it is, but a role other than staff never keeps it."""
    person_id = person_id.strip()
    if unit_reviewer and role != Role.STAFF:
        raise ValidationError(_("只有经办人可以设为单位审核人（领导本身即可审核本单位的报送）。"))
    if role not in Role.values:
        raise ValidationError(_("未知的角色。"))
    if actor is not None and actor.pk == target.pk:
        raise ValidationError(_("不能修改自己的角色：请由另一位安全管理员操作。"))
    # of=self: the manager joins the (nullable) agency, which PostgreSQL cannot lock.
    target = User.objects.select_for_update(of=("self",)).get(pk=target.pk)
    if role in ADMIN_ROLES and not person_id:
        raise ValidationError(_("设为系统管理员、安全管理员或审计管理员时，必须填写工号/证件号。"))
    if role in (Role.STAFF, Role.LEADER) and target.agency_id is None:
        raise ValidationError(_("该用户没有所属单位，不能设为经办人或领导；请系统管理员先为其设置单位。"))
    if role != Role.SECURITY and is_last_active_security_admin(target, lock=True):
        raise ValidationError(_("%(user)s 是最后一位在用的安全管理员，不能改为其他角色。") % {"user": target})
    if role in ADMIN_ROLES:
        other = person_taken_by(person_id, exclude=target)
        if other is not None:
            raise ValidationError(
                _(
                    "工号/证件号 %(person)s 已用于%(role)s账户 %(user)s："
                    "同一人只能担任系统管理员、安全管理员、审计管理员中的一个。"
                )
                % {"person": person_id, "role": other.get_role_display(), "user": other.username}
            )
    if unit_reviewer is None:
        unit_reviewer = target.is_unit_reviewer and role == Role.STAFF
    reason = change_reason(target, role, person_id, unit_reviewer)
    if not reason:
        return ""
    target.role, target.person_id, target.is_unit_reviewer = role, person_id, unit_reviewer
    target._change_reason = reason
    try:
        # The database has the last word (a concurrent change of another account).
        with transaction.atomic():
            target.save(update_fields=["role", "person_id", "is_unit_reviewer", "is_staff", "is_superuser"])
    except IntegrityError as error:
        raise ValidationError(
            _("保存失败：同一人只能担任系统管理员、安全管理员、审计管理员中的一个，管理员账户须有工号/证件号。")
        ) from error
    return reason
