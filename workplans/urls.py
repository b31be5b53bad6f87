from django.urls import path

from workplans import views

app_name = "workplans"

urlpatterns = [
    path("", views.plan_list, name="plan_list"),
    path("imports/new/", views.import_upload, name="import_upload"),
    path("imports/<int:pk>/", views.import_status, name="import_status"),
    path("imports/<int:pk>/progress/", views.import_progress, name="import_progress"),
    path("imports/<int:pk>/preview/", views.import_preview, name="import_preview"),
    path("imports/<int:pk>/tasks/<int:index>/", views.import_task_edit, name="import_task_edit"),
]
