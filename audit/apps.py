from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("安全审计")

    def ready(self):
        # Receivers import models, which only exist once the registry is ready.
        from audit import receivers

        receivers.connect()
