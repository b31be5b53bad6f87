"""Admin for agencies, users and the login log (read-only)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from accounts.models import Agency, AgencyAlias, LoginEvent, User


class AgencyAliasInline(admin.TabularInline):
    model = AgencyAlias
    extra = 1


@admin.register(Agency)
class AgencyAdmin(SimpleHistoryAdmin):
    list_display = ["name", "short_name", "level", "parent", "is_active"]
    list_filter = ["level", "is_active"]
    search_fields = ["name", "short_name", "aliases__name"]
    autocomplete_fields = ["parent"]
    inlines = [AgencyAliasInline]
    list_select_related = ["parent"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin, SimpleHistoryAdmin):
    list_display = ["username", "full_name", "agency", "role", "is_active", "last_login"]
    list_filter = ["role", "is_active", "agency"]
    search_fields = ["username", "full_name", "email", "agency__name"]
    autocomplete_fields = ["agency"]
    list_select_related = ["agency"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("个人信息"), {"fields": ("full_name", "email", "phone")}),
        (_("单位与角色"), {"fields": ("agency", "role", "is_active")}),
        (_("重要日期"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "full_name", "agency", "role", "password1", "password2")}),
    )
    readonly_fields = ["last_login", "date_joined"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """For logs: visible to admins, never edited or deleted through the app."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LoginEvent)
class LoginEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "username", "user", "ip_address", "outcome"]
    list_filter = ["outcome", "at"]
    search_fields = ["username", "ip_address"]
    date_hierarchy = "at"
    list_select_related = ["user"]


@admin.register(AgencyAlias)
class AgencyAliasAdmin(SimpleHistoryAdmin):
    list_display = ["name", "agency"]
    search_fields = ["name", "agency__name", "agency__short_name"]
    autocomplete_fields = ["agency"]
    list_select_related = ["agency"]
