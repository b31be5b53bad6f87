"""The console's pages: each part keeps its own URL module."""

from django.urls import include, path

from console import people_urls, plan_urls, year_urls

app_name = "console"

urlpatterns = [
    path("", include(plan_urls)),
    path("", include(year_urls)),
    path("", include(people_urls)),
]
