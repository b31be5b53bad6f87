"""Admin for indicators and their readings."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from accounts.admin import ReadOnlyAdmin
from indicators.models import Indicator, Reading


@admin.register(Indicator)
class IndicatorAdmin(SimpleHistoryAdmin):
    list_display = ["name", "comparator", "target", "unit", "plan", "task", "due_on"]
    list_filter = ["plan__year", "plan", "comparator", "task__owners"]
    search_fields = ["name", "task__heading"]
    autocomplete_fields = ["plan", "task"]
    list_select_related = ["plan", "task"]


@admin.register(Reading)
class ReadingAdmin(ReadOnlyAdmin, SimpleHistoryAdmin):
    """Readings are history: listed here, never added, changed or deleted (a wrong value is
    corrected on the task page or through the API, and the old one kept)."""

    list_display = ["indicator", "value", "as_of", "reporter", "created_at", "supersedes", "correction_reason"]
    list_filter = ["plan__year", "plan", "as_of"]
    search_fields = ["indicator__name", "note", "correction_reason"]
    exclude = ["plan"]  # follows the indicator
    list_select_related = ["indicator", "reporter", "supersedes"]
