"""Admin for tasks, owners, milestones and the (read-only) progress log."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from accounts.admin import ReadOnlyAdmin
from tasks.models import Attachment, Milestone, MilestoneEvent, ProgressUpdate, Task, TaskOwner


class TaskOwnerInline(admin.TabularInline):
    model = TaskOwner
    extra = 1
    autocomplete_fields = ["agency"]


class MilestoneInline(admin.TabularInline):
    model = Milestone
    extra = 0
    # Done or not is recorded on the task page, with who and when (MilestoneEvent).
    readonly_fields = ["done_on"]
    exclude = ["done_by_update"]


@admin.register(Task)
class TaskAdmin(SimpleHistoryAdmin):
    list_display = ["__str__", "plan", "section", "status", "percent", "due_on", "last_progress_at"]
    list_filter = ["plan__year", "plan", "status", "owners"]
    search_fields = ["number", "heading", "text", "owners__name"]
    autocomplete_fields = ["plan", "section", "responsible_users"]
    readonly_fields = ["status", "percent", "version", "last_progress_at"]
    inlines = [TaskOwnerInline, MilestoneInline]
    list_select_related = ["plan", "section"]


@admin.register(Milestone)
class MilestoneAdmin(SimpleHistoryAdmin):
    list_display = ["text", "task", "due_on", "done_on"]
    list_filter = ["task__plan__year", "task__plan", "due_on"]
    search_fields = ["text", "task__heading"]
    autocomplete_fields = ["task"]
    # Completion is history (MilestoneEvent): marked with a progress report, taken back
    # on the task page with a reason, never edited here.
    readonly_fields = ["done_on", "done_by_update"]
    list_select_related = ["task"]


@admin.register(MilestoneEvent)
class MilestoneEventAdmin(ReadOnlyAdmin):
    """Milestones done and taken back: the record, never changed."""

    list_display = ["milestone", "task", "kind", "done_on", "recorded_by", "recorded_at", "reason"]
    list_filter = ["kind", "task__plan__year", "task__plan"]
    search_fields = ["milestone__text", "task__heading", "reason"]
    date_hierarchy = "recorded_at"
    list_select_related = ["milestone", "task", "recorded_by"]


@admin.register(ProgressUpdate)
class ProgressUpdateAdmin(ReadOnlyAdmin):
    """Append-only: the status a task shows is the latest of these, so none is changed."""

    list_display = ["task", "author", "created_at", "status", "percent"]
    list_filter = ["task__plan__year", "task__plan", "status", "author__agency"]
    search_fields = ["task__heading", "note", "author__username", "author__full_name"]
    date_hierarchy = "created_at"
    list_select_related = ["task", "author"]


@admin.register(TaskOwner)
class TaskOwnerAdmin(SimpleHistoryAdmin):
    list_display = ["task", "agency", "role"]
    list_filter = ["role", "task__plan__year", "task__plan", "agency"]
    search_fields = ["task__heading", "agency__name"]
    autocomplete_fields = ["task", "agency"]
    list_select_related = ["task", "agency"]


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    """Evidence is part of the record: listed here, never changed or removed."""

    list_display = ["original_name", "task", "kind", "size", "uploaded_by", "created_at"]
    list_filter = ["kind", "task__plan__year", "task__plan"]
    search_fields = ["original_name", "task__heading", "uploaded_by__username", "uploaded_by__full_name"]
    date_hierarchy = "created_at"
    list_select_related = ["task", "uploaded_by"]
