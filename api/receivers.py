"""A user's API tokens stop when the account changes under them: a new password (whoever
set it), a disabled account, or a role that has no tokens. Connected in ApiConfig.ready()
to the user model by its setting name (api sits below accounts and imports no User)."""

from api.choices import RevokeReason
from api.models import TOKENLESS_ROLES, ApiToken


def revoke_reason(user) -> str | None:
    """Why `user`'s tokens must stop now, or None. `_password` is set by set_password()
    until the save is done (Django clears it for a mere hash upgrade at login)."""
    if not user.is_active:
        return RevokeReason.USER_DISABLED
    if getattr(user, "_password", None) is not None or not user.has_usable_password():
        return RevokeReason.PASSWORD_CHANGED
    if user.role in TOKENLESS_ROLES:
        return RevokeReason.ROLE_CHANGED
    return None


def revoke_tokens_on_account_change(sender, instance, created, update_fields=None, **kwargs):
    if created or (update_fields is not None and not {"password", "is_active", "role"} & set(update_fields)):
        return
    reason = revoke_reason(instance)
    if reason is None:
        return
    for token in ApiToken.objects.filter(user=instance, revoked_at__isnull=True):
        token.revoke(reason)
