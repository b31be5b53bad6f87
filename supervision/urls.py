"""The supervision loop's pages, under /supervision/ (namespace `supervision`)."""

from supervision import closeout_views, report_views, request_views, worklist_views

app_name = "supervision"

urlpatterns = [
    *worklist_views.urlpatterns,
    *report_views.urlpatterns,
    *closeout_views.urlpatterns,
    *request_views.urlpatterns,
]
