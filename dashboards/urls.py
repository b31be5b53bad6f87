from django.urls import path

from dashboards import export_views, views

app_name = "dashboards"

urlpatterns = [
    path("", views.overview_page, name="overview"),
    path("exports/ledger/", export_views.export_ledger, name="export_ledger"),
    path("exports/bulletin/", export_views.export_bulletin, name="export_bulletin"),
    path("exports/<int:pk>/", export_views.export_status, name="export_status"),
    path("exports/<int:pk>/progress/", export_views.export_progress, name="export_progress"),
    path("exports/<int:pk>/download/", export_views.export_download, name="export_download"),
]
