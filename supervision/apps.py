from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupervisionConfig(AppConfig):
    name = "supervision"
    verbose_name = _("督查督办")

    def ready(self):
        from supervision import signals, worklist

        signals.transitioned.connect(worklist.new_generation, dispatch_uid="worklist_generation")
