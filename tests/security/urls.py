"""The site's URLs plus views that fail on purpose, for the error-page tests."""

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from config.urls import urlpatterns as site_urlpatterns

SECRET_DETAIL = "db password hunter2 at /work/main/config/settings.py"


def page_that_fails(request):
    """Fails as asked: ?status=400 or 403, else with an unexpected exception (500)."""
    status = request.GET.get("status")
    if status == "400":
        raise SuspiciousOperation(SECRET_DETAIL)
    if status == "403":
        raise PermissionDenied(SECRET_DETAIL)
    raise RuntimeError(SECRET_DETAIL)


class ApiThatFails(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        raise RuntimeError(SECRET_DETAIL)


urlpatterns = [
    # Named "home", the page every signed-in role may open, so the access policy lets it run.
    path("boom/", page_that_fails, name="home"),
    path("api/v1/boom/", ApiThatFails.as_view()),
    *site_urlpatterns,
]
