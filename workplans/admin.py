"""Admin for plans and their sections."""

from django.contrib import admin
from django.db.models import Count
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy
from simple_history.admin import SimpleHistoryAdmin

from accounts.admin import ConstraintsCheckedForm
from workplans.models import MAX_YEAR, MIN_YEAR, Plan, Section


class PlanForm(ConstraintsCheckedForm):
    constraint_errors = {
        "plan_year_in_range": (
            "year",
            format_lazy(gettext_lazy("年度须在 {min} 至 {max} 之间。"), min=MIN_YEAR, max=MAX_YEAR),
        ),
        "plan_report_due_day_1_28": ("report_due_day", gettext_lazy("每月报送日须在 1 至 28 日之间。")),
        "plan_status_valid": ("status", gettext_lazy("未知的计划状态。")),
        "plan_not_own_higher_plan": ("higher_plan", gettext_lazy("上级计划不能是本计划。")),
        "plan_reporting_cycle_valid": ("reporting_cycle", gettext_lazy("未知的报送周期。")),
        "plan_source_sha256_unique": (None, gettext_lazy("同一份文件已导入为另一个工作计划。")),
    }


class SectionForm(ConstraintsCheckedForm):
    constraint_errors = {
        "section_id_plan_key": ("plan", gettext_lazy("部分与所属计划不一致。")),
        "section_label_unique": ("label", gettext_lazy("同一上级部分下已有此编号的部分。")),
        "section_top_label_unique": ("label", gettext_lazy("本计划已有此编号的部分。")),
        "section_not_own_parent": ("parent", gettext_lazy("上级部分不能是本部分。")),
    }


class SectionInline(admin.TabularInline):
    model = Section
    form = SectionForm
    fields = ["label", "title", "parent", "order"]
    extra = 0
    show_change_link = True

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "parent":
            plan_id = request.resolver_match.kwargs.get("object_id")
            kwargs["queryset"] = Section.objects.filter(plan_id=plan_id) if plan_id else Section.objects.none()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Plan)
class PlanAdmin(SimpleHistoryAdmin):
    form = PlanForm
    list_display = ["title", "year", "issuer", "doc_number", "status", "reporting_cycle", "task_count"]
    list_filter = ["year", "status", "reporting_cycle", "issuer"]
    search_fields = ["title", "doc_number"]
    autocomplete_fields = ["issuer"]
    readonly_fields = ["source_sha256", "created_at", "updated_at"]
    inlines = [SectionInline]
    list_select_related = ["issuer"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(task_count=Count("tasks"))

    @admin.display(description=gettext_lazy("任务数"), ordering="task_count")
    def task_count(self, plan):
        return plan.task_count


@admin.register(Section)
class SectionAdmin(SimpleHistoryAdmin):
    form = SectionForm
    list_display = ["__str__", "plan", "parent", "order"]
    list_filter = ["plan__year", "plan"]
    search_fields = ["label", "title", "plan__title"]
    autocomplete_fields = ["plan", "parent"]
    list_select_related = ["plan", "parent"]
