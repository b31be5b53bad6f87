"""Admin for API tokens: listed and revoked here (the tokens of accounts the system admin
manages, core.roles.can_manage_account); made by their owner only, on /api/tokens/ or
through the API, where the key can be shown to them."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from api.models import ApiToken
from core.roles import can_manage_account


@admin.register(ApiToken)
class ApiTokenAdmin(SimpleHistoryAdmin):
    list_display = ["name", "user", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "revoked_reason", "created_at", "expires_at"]
    search_fields = ["name", "prefix", "user__username", "user__full_name"]
    readonly_fields = [
        "user",
        "name",
        "prefix",
        "created_by",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "revoked_reason",
    ]
    exclude = ["key_hash"]
    list_select_related = ["user"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("撤销所选令牌"))
    def revoke(self, request, queryset):
        tokens = list(queryset.select_related("user"))
        mine = [t for t in tokens if t.user_id == request.user.pk or can_manage_account(request.user, t.user)]
        count = sum(token.revoke() for token in mine)
        self.message_user(
            request, ngettext("已撤销 %(n)d 个令牌。", "已撤销 %(n)d 个令牌。", count) % {"n": count}, messages.SUCCESS
        )
        if len(mine) < len(tokens):
            skipped = len(tokens) - len(mine)
            self.message_user(
                request,
                ngettext(
                    "%(n)d 个令牌属于管理员账户，未撤销：请安全管理员在账户页面撤销。",
                    "%(n)d 个令牌属于管理员账户，未撤销：请安全管理员在账户页面撤销。",
                    skipped,
                )
                % {"n": skipped},
                messages.WARNING,
            )
