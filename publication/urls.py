"""The public progress pages (政务公开) and their settings, namespace `publication`."""

app_name = "publication"

urlpatterns: list = []
