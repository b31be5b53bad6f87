from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("安全审计")

    def ready(self):
        from audit import receivers

        receivers.connect()
        _log_bulk_admin_actions()


def _log_bulk_admin_actions() -> None:
    """The admin logs a deletion of several objects with one bulk_create, which sends no
    post_save: record those entries here (a single entry is saved and seen by post_save)."""
    from django.contrib.admin.models import LogEntryManager

    if getattr(LogEntryManager.log_actions, "_audited", False):
        return
    original = LogEntryManager.log_actions

    def log_actions(self, user_id, queryset, action_flag, change_message="", *, single_object=False):
        from audit.receivers import admin_action

        result = original(self, user_id, queryset, action_flag, change_message, single_object=single_object)
        if isinstance(result, list) and len(result) > 1:
            for entry in result:
                admin_action(entry)
        return result

    log_actions._audited = True
    LogEntryManager.log_actions = log_actions
