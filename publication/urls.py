"""The public progress pages (政务公开) and their settings, namespace `publication`."""

from publication import views

app_name = "publication"

urlpatterns = views.urlpatterns
