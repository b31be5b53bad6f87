"""URL configuration."""

from django.contrib import admin
from django.urls import include, path

from accounts import views as account_views

admin.site.site_header = "卫生健康工作要点督办平台 · 管理后台"
admin.site.site_title = "督办平台管理后台"
admin.site.index_title = "数据管理"

urlpatterns = [
    path("", account_views.home, name="home"),
    path("healthz", account_views.healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("plans/", include("workplans.urls")),
    path("tasks/", include("tasks.urls")),
    path("dashboard/", include("dashboards.urls")),
    path("api/", include("api.urls")),
    path("notifications/", include("notifications.urls")),
    path("audit/", include("audit.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
# Uploaded files (plan sources, evidence) are never served by URL, not even in
# development: only through views that check who is asking.
