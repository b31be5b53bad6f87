from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("消息提醒")

    def ready(self):
        # Redis carries the reminders' jobs: its eviction policy is checked here.
        from config import checks  # noqa: F401 - registers the checks
