"""The plan pages of the console: a plan, its activation, the bulk step, one task's edits."""

from django.urls import path

from console import plan_views

urlpatterns = [
    path("plans/<int:pk>/", plan_views.plan_detail, name="plan_detail"),
    path("plans/<int:pk>/settings/", plan_views.plan_settings, name="plan_settings"),
    path("plans/<int:pk>/activate/", plan_views.plan_activate, name="plan_activate"),
    path("plans/<int:pk>/draft/", plan_views.plan_back_to_draft, name="plan_back_to_draft"),
    path("plans/<int:pk>/tasks/bulk/", plan_views.plan_bulk, name="plan_bulk"),
    path("plans/<int:pk>/tasks/add/", plan_views.task_add, name="plan_task_add"),
    path("plans/tasks/<int:pk>/", plan_views.task_edit, name="plan_task_edit"),
    path("plans/tasks/<int:pk>/move/", plan_views.task_move, name="plan_task_move"),
    path("plans/tasks/<int:pk>/split/", plan_views.task_split, name="plan_task_split"),
    path("plans/tasks/<int:pk>/merge/", plan_views.task_merge, name="plan_task_merge"),
    path("plans/tasks/<int:pk>/delete/", plan_views.task_delete, name="plan_task_delete"),
]
