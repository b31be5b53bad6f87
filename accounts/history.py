"""The audit trail: django-simple-history records, each stamped with the client address."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class HistoryWithAddress(models.Model):
    ip_address = models.GenericIPAddressField(_("地址"), null=True, blank=True)

    class Meta:
        abstract = True


def audit_history(**kwargs) -> HistoricalRecords:
    """HistoricalRecords for an audited model: who, when, from where, before and after."""
    return HistoricalRecords(bases=[HistoryWithAddress], **kwargs)
