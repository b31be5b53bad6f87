from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TasksConfig(AppConfig):
    name = "tasks"
    verbose_name = _("任务")

    def ready(self):
        from audit.receivers import record_creations
        from tasks.models import Attachment, ProgressUpdate

        # The progress log and its files are never changed, so they have no model history:
        # the audit trail records each one as it is created.
        record_creations(ProgressUpdate, Attachment)
