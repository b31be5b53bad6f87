from django.urls import path

from workdays import views

app_name = "workdays"

# Days are named by ?date= / a posted date, not a path segment: the date is the row's key.
urlpatterns = [
    path("", views.calendar_page, name="calendar"),
    path("day/", views.day_edit, name="day_edit"),
    path("day/delete/", views.day_delete, name="day_delete"),
    path("import/", views.import_file, name="import"),
    path("export/", views.export_file, name="export"),
]
