from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = _("接口")

    def ready(self):
        # The schema extension for our token authentication registers itself on import.
        from api import schema  # noqa: F401
