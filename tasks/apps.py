from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TasksConfig(AppConfig):
    name = "tasks"
    verbose_name = _("任务")

    def ready(self):
        from audit.receivers import record_creations
        from tasks.models import Attachment, MilestoneEvent, ProgressUpdate

        # The progress log, its files and the milestones' done/reopened record are never
        # changed, so they have no model history: the audit trail records each one as it
        # is created.
        record_creations(ProgressUpdate, Attachment, MilestoneEvent)
