"""URL configuration: every app's pages, the API (config.api) and the Django admin."""

from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from accounts import views as account_views
from config import api

admin.site.site_header = _("卫生健康工作要点督办平台 · 管理后台")
admin.site.site_title = _("督办平台管理后台")
admin.site.index_title = _("数据管理")
# The admin signs in through the platform's login page (CAPTCHA, lockout, second factor).
admin.site.login = account_views.admin_login  # type: ignore[method-assign]

urlpatterns = [
    path("", account_views.home, name="home"),
    path("healthz", account_views.healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("plans/", include("workplans.urls")),
    path("plans/imports/", include("imports.urls")),
    path("workdays/", include("workdays.urls")),
    path("tasks/", include("workbench.urls")),
    path("supervision/", include("supervision.urls")),
    path("escalation/", include("escalation.urls")),
    path("assessment/", include("assessment.urls")),
    path("public/", include("publication.urls")),
    path("console/", include("console.urls")),
    path("dashboard/", include("dashboards.urls")),
    path("api/", include((api.urlpatterns, "api"))),
    path("notifications/", include("notifications.urls")),
    path("audit/", include("audit.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
# Uploaded files (plan sources, evidence) are never served by URL, not even in
# development: only through views that check who is asking.
