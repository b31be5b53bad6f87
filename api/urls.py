"""/api/: the v1 endpoints, the OpenAPI schema and its docs, and the token page."""

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib.auth.decorators import login_required
from django.urls import include, path, re_path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.routers import DefaultRouter

from accounts.api import AgencyViewSet
from api import views
from api.tokens import ApiTokenViewSet
from dashboards.api import DashboardViewSet
from indicators.api import IndicatorViewSet, ReadingViewSet
from notifications.api import NotificationViewSet
from tasks.api import ProgressUpdateViewSet, TaskViewSet
from workplans.api import PlanViewSet, SectionViewSet

app_name = "api"

router = DefaultRouter()
# JSON is the one format: no ".json" suffixes to give an id a second spelling.
router.include_format_suffixes = False
router.register("agencies", AgencyViewSet, basename="agency")
router.register("plans", PlanViewSet, basename="plan")
router.register("sections", SectionViewSet, basename="section")
router.register("tasks", TaskViewSet, basename="task")
router.register("progress-updates", ProgressUpdateViewSet, basename="progress-update")
router.register("indicators", IndicatorViewSet, basename="indicator")
router.register("readings", ReadingViewSet, basename="reading")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("dashboard", DashboardViewSet, basename="dashboard")
router.register("tokens", ApiTokenViewSet, basename="token")

urlpatterns = [
    path("v1/", include(router.urls)),
    # Anything else under /api/v1/ is a JSON 404 like every other answer of the API.
    re_path(r"^v1/", views.not_found),
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
