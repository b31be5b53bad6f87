"""Assessment's pages, under /assessment/ (namespace `assessment`)."""

from django.urls import path

from assessment import views

app_name = "assessment"

urlpatterns = [
    path("", views.index, name="index"),
    path("<int:pk>/", views.ranking, name="ranking"),
    path("<int:pk>/scheme/", views.scheme, name="scheme"),
    path("<int:pk>/agency/<int:agency_pk>/", views.agency_items, name="agency"),
    path("<int:pk>/evaluate/", views.evaluate, name="evaluate"),
    path("<int:pk>/freeze/", views.freeze, name="freeze"),
    path("<int:pk>/export.xlsx", views.export, name="export"),
]
