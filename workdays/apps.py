from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkdaysConfig(AppConfig):
    name = "workdays"
    verbose_name = _("工作日历")

    def ready(self):
        # Models exist only once the registry is ready.
        from django.db.models.signals import post_delete, post_migrate, post_save

        from workdays.models import CalendarDay
        from workdays.services import on_calendar_day_written, on_tables_reset

        post_save.connect(on_calendar_day_written, sender=CalendarDay, dispatch_uid="workdays_day_saved")
        post_delete.connect(on_calendar_day_written, sender=CalendarDay, dispatch_uid="workdays_day_deleted")
        post_migrate.connect(on_tables_reset, sender=self, dispatch_uid="workdays_tables_reset")
