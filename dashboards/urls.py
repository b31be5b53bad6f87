from django.urls import path

from dashboards import bulletin_views, export_views, views

app_name = "dashboards"

urlpatterns = [
    path("", views.overview_page, name="overview"),
    path("exports/ledger/", export_views.export_ledger, name="export_ledger"),
    path("exports/bulletin/", export_views.export_bulletin, name="export_bulletin"),
    path("exports/<int:pk>/", export_views.export_status, name="export_status"),
    path("exports/<int:pk>/progress/", export_views.export_progress, name="export_progress"),
    path("exports/<int:pk>/download/", export_views.export_download, name="export_download"),
    path("bulletins/", bulletin_views.bulletin_list, name="bulletin_list"),
    path("bulletins/new/", bulletin_views.bulletin_new, name="bulletin_new"),
    path("bulletins/<int:pk>/", bulletin_views.bulletin_detail, name="bulletin_detail"),
    path("bulletins/<int:pk>/edit/", bulletin_views.bulletin_edit, name="bulletin_edit"),
    path("bulletins/<int:pk>/redraft/", bulletin_views.bulletin_redraft, name="bulletin_redraft"),
    path("bulletins/<int:pk>/issue/", bulletin_views.bulletin_issue, name="bulletin_issue"),
    path("bulletins/<int:pk>/docx/", bulletin_views.bulletin_docx, name="bulletin_docx"),
    path("bulletins/<int:pk>/pdf/", bulletin_views.bulletin_pdf, name="bulletin_pdf"),
]
