"""The REST API's router: every app's viewsets under /api/v1/. It is the one module that
knows every app's API, so it sits on top with the URL configuration; each app's api.py
builds on api (the shared REST base) and knows only its own layer and those below."""

from django.urls import include, path, re_path
from rest_framework.routers import DefaultRouter

from accounts.api import AgencyViewSet
from api import urls as api_pages
from api import views
from api.tokens import ApiTokenViewSet
from dashboards.api import DashboardViewSet
from escalation.api import InstructionViewSet, NoticeViewSet, UrgeViewSet
from indicators.api import IndicatorViewSet
from notifications.api import NotificationViewSet
from supervision.api import (
    ChangeRequestViewSet,
    CloseOutViewSet,
    CoOwnerInputViewSet,
    PeriodReportViewSet,
    TransitionViewSet,
)
from tasks.api import TaskViewSet
from workbench.api import ProgressUpdateViewSet, ReadingReportViewSet
from workplans.api import PlanViewSet, SectionViewSet

router = DefaultRouter()
# JSON is the one format: no ".json" suffixes to give an id a second spelling.
router.include_format_suffixes = False
router.register("agencies", AgencyViewSet, basename="agency")
router.register("plans", PlanViewSet, basename="plan")
router.register("sections", SectionViewSet, basename="section")
router.register("tasks", TaskViewSet, basename="task")
router.register("progress-updates", ProgressUpdateViewSet, basename="progress-update")
router.register("indicators", IndicatorViewSet, basename="indicator")
router.register("readings", ReadingReportViewSet, basename="reading")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("dashboard", DashboardViewSet, basename="dashboard")
router.register("tokens", ApiTokenViewSet, basename="token")
router.register("reports", PeriodReportViewSet, basename="report")
router.register("co-inputs", CoOwnerInputViewSet, basename="co-input")
router.register("close-outs", CloseOutViewSet, basename="close-out")
router.register("change-requests", ChangeRequestViewSet, basename="change-request")
router.register("transitions", TransitionViewSet, basename="transition")
router.register("notices", NoticeViewSet, basename="notice")
router.register("urges", UrgeViewSet, basename="urge")
router.register("instructions", InstructionViewSet, basename="instruction")

urlpatterns = [
    path("v1/", include(router.urls)),
    # Anything else under /api/v1/ is a JSON 404 like every other answer of the API.
    re_path(r"^v1/", views.not_found),
    *api_pages.urlpatterns,
]
