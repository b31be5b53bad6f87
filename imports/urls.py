from django.urls import path

from imports import views

app_name = "imports"

urlpatterns = [
    path("new/", views.upload, name="upload"),
    path("<int:pk>/", views.status, name="status"),
    path("<int:pk>/progress/", views.progress, name="progress"),
    path("<int:pk>/preview/", views.preview, name="preview"),
    path("<int:pk>/tasks/<int:index>/", views.task_edit, name="task_edit"),
    path("<int:pk>/autosave/", views.autosave, name="autosave"),
    path("<int:pk>/owners/", views.bulk_owners, name="bulk_owners"),
    path("<int:pk>/create-unmatched/", views.create_unmatched, name="create_unmatched"),
]
