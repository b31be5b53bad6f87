from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("消息提醒")

    def ready(self):
        # The receiver imports the models and jobs: only once the registry is ready.
        from notifications import alerts, receivers

        alerts.connect()
        receivers.connect()
