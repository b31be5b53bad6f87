"""The publication records in the Django admin, to look at only: settings, narratives and
snapshots change through the pages (publication.services), which audit every step."""

from django.contrib import admin

from publication.models import PublicNarrative, PublicSetting, PublicSnapshot


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PublicSetting)
class PublicSettingAdmin(ReadOnlyAdmin):
    list_display = ("plan", "enabled", "schedule", "version", "updated_at")
    list_select_related = ("plan",)


@admin.register(PublicNarrative)
class PublicNarrativeAdmin(ReadOnlyAdmin):
    list_display = ("task", "updated_by", "updated_at")
    list_select_related = ("task", "updated_by")


@admin.register(PublicSnapshot)
class PublicSnapshotAdmin(ReadOnlyAdmin):
    list_display = ("plan", "state", "period", "built_at", "published_at")
    list_select_related = ("plan",)
    list_filter = ("state",)
