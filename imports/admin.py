"""Admin for plan imports: listed read-only; they move through the import pages and the
parse job, not by hand."""

from django.contrib import admin

from imports.models import PlanImport


@admin.register(PlanImport)
class PlanImportAdmin(admin.ModelAdmin):
    """Read-only: imports move through the import pages and the parse job, not by hand."""

    list_display = ["original_name", "status", "progress", "created_by", "created_at", "plan", "replaces"]
    list_filter = ["status", "created_at"]
    search_fields = ["original_name", "sha256"]
    list_select_related = ["created_by", "plan", "replaces"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "file",
        "original_name",
        "sha256",
        "size",
        "status",
        "progress",
        "error",
        "created_by",
        "created_at",
        "updated_at",
        "plan",
        "replaces",
        "document",
        "edited_document",
        "owner_mapping",
    ]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
