"""Model history for the audit trail: django-simple-history records, each stamped with the
client address. Apps give their audited models `history = audit_history(...)`; every
record then becomes an audit event (audit.receivers)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.net import client_ip


class HistoryWithAddress(models.Model):
    ip_address = models.GenericIPAddressField(_("地址"), null=True, blank=True)

    class Meta:
        abstract = True


def audit_history(**kwargs) -> HistoricalRecords:
    """HistoricalRecords for an audited model: who, when, from where, before and after."""
    return HistoricalRecords(bases=[HistoryWithAddress], **kwargs)


def stamp_address(sender, history_instance, **kwargs):
    """pre_create_historical_record: the address of the request that made the change."""
    request = getattr(HistoricalRecords.context, "request", None)
    if hasattr(history_instance, "ip_address"):
        history_instance.ip_address = client_ip(request)


def give_reason(obj: models.Model, reason, user=None) -> None:
    """Why (and, outside a request, by whom) the next save of `obj` changes it: the reason
    and user simple-history writes on that change record. The one way services say it."""
    obj._change_reason = str(reason)  # type: ignore[attr-defined]
    if user is not None:
        obj._history_user = user  # type: ignore[attr-defined]
