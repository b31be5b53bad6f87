"""Admin for plans and their sections."""

from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy
from simple_history.admin import SimpleHistoryAdmin

from workplans.models import Plan, Section


class SectionInline(admin.TabularInline):
    model = Section
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
    list_display = ["__str__", "plan", "parent", "order"]
    list_filter = ["plan__year", "plan"]
    search_fields = ["label", "title", "plan__title"]
    autocomplete_fields = ["plan", "parent"]
    list_select_related = ["plan", "parent"]
