"""Admin for the rollup snapshots and export jobs: both written by jobs, read here."""

from django.contrib import admin

from accounts.admin import ReadOnlyAdmin
from dashboards.models import Export, Snapshot, TrendPoint


@admin.register(Snapshot)
class SnapshotAdmin(ReadOnlyAdmin):
    list_display = ["day", "scope", "plan", "section", "agency", "tasks", "done", "overdue", "at_risk", "mean_percent"]
    list_filter = ["scope", "plan__year", "day"]
    search_fields = ["plan__title", "agency__name"]
    date_hierarchy = "day"
    list_select_related = ["plan", "section", "agency"]


@admin.register(Export)
class ExportAdmin(ReadOnlyAdmin):
    list_display = ["kind", "year", "plan", "requested_by", "status", "done_rows", "total_rows", "created_at"]
    list_filter = ["kind", "status", "year"]
    search_fields = ["requested_by__username", "requested_by__full_name", "plan__title"]
    date_hierarchy = "created_at"
    list_select_related = ["plan", "requested_by"]


@admin.register(TrendPoint)
class TrendPointAdmin(ReadOnlyAdmin):
    list_display = ["day", "year", "agency", "tasks", "done", "weighted_percent"]
    list_filter = ["year", "day"]
    list_select_related = ["agency"]
