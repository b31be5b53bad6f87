from django.apps import AppConfig
from django.conf import settings
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = _("接口")

    def ready(self):
        # The schema extension for our token authentication registers itself on import.
        from api import receivers, schema  # noqa: F401

        post_save.connect(
            receivers.revoke_tokens_on_account_change,
            sender=settings.AUTH_USER_MODEL,
            dispatch_uid="api_revoke_tokens_on_account_change",
        )
