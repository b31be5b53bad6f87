from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EscalationConfig(AppConfig):
    name = "escalation"
    verbose_name = _("督办升级")

    def ready(self):
        from escalation import receivers, signals, worklist
        from supervision import worklist as work_list

        receivers.connect()
        work_list.register(worklist.sections)
        # A step here changes someone's work list: the header's badges start afresh.
        signals.stepped.connect(work_list.new_generation, dispatch_uid="escalation_worklist_generation")
        signals.batch_stepped.connect(work_list.new_generation, dispatch_uid="escalation_worklist_generation_batch")
