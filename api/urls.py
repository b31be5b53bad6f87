"""The API's pages: the OpenAPI schema and its docs, and the token page. (The /api/v1/
endpoints are config.api's router: it knows every app.)"""

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib.auth.decorators import login_required
from django.urls import path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from api import views

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The docs are pages: someone not logged in is sent to the login page, then back.
    # Swagger UI's init script is served by the same view (?script), so no inline script.
    path("docs/", login_required(SpectacularSwaggerSplitView.as_view(url_name="api:schema")), name="docs"),
    # Redoc renders with styled-components, which injects <style> elements and runs its
    # search index in a blob: worker: this one page allows inline styles and blob workers,
    # never inline script. It shows only the schema, no user data.
    path(
        "redoc/",
        login_required(
            csp_update({"style-src": [UNSAFE_INLINE], "worker-src": ["blob:"]})(
                SpectacularRedocView.as_view(url_name="api:schema")
            )
        ),
        name="redoc",
    ),
    path("tokens/", views.token_list, name="token_list"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
]
