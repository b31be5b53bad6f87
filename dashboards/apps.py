from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardsConfig(AppConfig):
    name = "dashboards"
    verbose_name = _("督查看板")

    def ready(self):
        # Receivers import the jobs, and so the models: only once the registry is ready.
        from dashboards import receivers

        receivers.connect()
