"""The console's year pages: closing a plan's year, the rollover, the alignment."""

from django.urls import path

from console import year_views

urlpatterns = [
    path("plans/<int:pk>/close/", year_views.year_close, name="year_close"),
    path("plans/<int:pk>/rollover/", year_views.rollover, name="rollover"),
    path("plans/<int:pk>/alignment/", year_views.alignment_page, name="alignment"),
]
