from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class IndicatorsConfig(AppConfig):
    name = "indicators"
    verbose_name = _("量化指标")

    def ready(self):
        from config.integrity import ensure_sqlite_triggers

        # Sent once per app; the last of the apps holding same-plan references is enough.
        post_migrate.connect(ensure_sqlite_triggers, sender=self, dispatch_uid="same_plan_triggers")
