from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("公共组件")

    def ready(self):
        from core import checks, integrity

        checks.register()
        # post_migrate is sent once per app that has models, after the whole schema is
        # migrated; the first one puts back every same-plan trigger a SQLite table rebuild
        # dropped (CREATE TRIGGER IF NOT EXISTS: the others find them there).
        post_migrate.connect(integrity.ensure_sqlite_triggers, dispatch_uid="same_plan_triggers")
