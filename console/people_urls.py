"""The people: the agency tree and the bulk user import (console/agency_views.py,
console/user_views.py)."""

from django.urls import path

from console import agency_views, user_views

urlpatterns = [
    path("agencies/", agency_views.agency_list, name="agencies"),
    path("agencies/add/", agency_views.agency_add, name="agency_add"),
    path("agencies/<int:pk>/", agency_views.agency_edit, name="agency_edit"),
    path("agencies/<int:pk>/move/", agency_views.agency_move, name="agency_move"),
    path("agencies/<int:pk>/merge/", agency_views.agency_merge, name="agency_merge"),
    path("agencies/<int:pk>/deactivate/", agency_views.agency_deactivate, name="agency_deactivate"),
    path("agencies/<int:pk>/activate/", agency_views.agency_activate, name="agency_activate"),
    path("users/import/", user_views.user_import, name="user_import"),
    path("users/import/template/", user_views.user_import_template, name="user_import_template"),
    path("users/import/<int:pk>/", user_views.user_import_preview, name="user_import_preview"),
    path("users/import/<int:pk>/confirm/", user_views.user_import_confirm, name="user_import_confirm"),
    path("users/import/<int:pk>/logins/", user_views.user_import_logins, name="user_import_logins"),
]
