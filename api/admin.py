"""Admin for API tokens: listed and revoked here; made on /api/tokens/ or through the API,
where the key can be shown to its owner."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from api.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(SimpleHistoryAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["name", "prefix", "user__username", "user__full_name"]
    readonly_fields = ["user", "name", "prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    exclude = ["key_hash"]
    list_select_related = ["user"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("撤销所选令牌"))
    def revoke(self, request, queryset):
        count = sum(token.revoke() for token in queryset)
        self.message_user(
            request, ngettext("已撤销 %(n)d 个令牌。", "已撤销 %(n)d 个令牌。", count) % {"n": count}, messages.SUCCESS
        )
