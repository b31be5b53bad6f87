"""Admin for tasks, owners, milestones and the (read-only) progress log."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy
from simple_history.admin import SimpleHistoryAdmin

from accounts.admin import ConstraintsCheckedForm, ReadOnlyAdmin
from tasks.choices import OwnerRole
from tasks.models import Attachment, Milestone, MilestoneEvent, ProgressUpdate, Task, TaskOwner

ONE_LEAD = gettext_lazy("一项任务只能有一个牵头单位。")


class TaskForm(ConstraintsCheckedForm):
    constraint_errors = {
        "task_id_plan_key": ("plan", gettext_lazy("任务与所属计划不一致。")),
        "task_number_unique_in_section": ("number", gettext_lazy("本部分已有此序号的任务。")),
        "task_number_unique_in_plan_top": ("number", gettext_lazy("本计划已有此序号的任务（未分部分）。")),
        "task_percent_0_100": (None, gettext_lazy("进度须在 0% 至 100% 之间。")),
        "task_status_valid": (None, gettext_lazy("未知的任务状态。")),
        "task_done_is_100_percent": (None, gettext_lazy("已完成的任务进度须为 100%。")),
        "task_not_started_is_0_percent": (None, gettext_lazy("未开始的任务进度须为 0%。")),
        "task_version_positive": (None, gettext_lazy("任务版本号无效。")),
        "task_not_serving_itself": ("serves", gettext_lazy("对应上级任务不能是本任务。")),
        "task_not_carried_from_itself": ("carried_from", gettext_lazy("上年任务不能是本任务。")),
    }


class TaskOwnerForm(ConstraintsCheckedForm):
    constraint_errors = {
        "taskowner_agency_once_per_task": ("agency", gettext_lazy("该单位已是这项任务的责任单位。")),
        "taskowner_one_lead_per_task": ("role", ONE_LEAD),
        "taskowner_role_valid": ("role", gettext_lazy("未知的责任单位角色。")),
    }


class TaskOwnerFormSet(forms.BaseInlineFormSet):
    """The rows are checked against the database one by one; two new leads in one post
    would each pass, so the set counts its leads itself."""

    def clean(self):
        super().clean()
        leads = [
            form
            for form in self.forms
            if form.cleaned_data.get("role") == OwnerRole.LEAD and not form.cleaned_data.get("DELETE")
        ]
        if len(leads) > 1:
            raise forms.ValidationError(ONE_LEAD)


class TaskOwnerInline(admin.TabularInline):
    model = TaskOwner
    form = TaskOwnerForm
    formset = TaskOwnerFormSet
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
    form = TaskForm
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
    form = TaskOwnerForm
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
