"""Assessment's pages, under /assessment/ (namespace `assessment`)."""

app_name = "assessment"

urlpatterns: list = []
