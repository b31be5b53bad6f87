from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("用户与单位")

    def ready(self):
        from accounts import receivers  # noqa: F401  (connects the login log)
        from accounts.two_factor import receivers as two_factor_receivers  # noqa: F401  (second factor owed)
