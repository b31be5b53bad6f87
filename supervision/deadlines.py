"""Deadlines of the loop in working days (workdays), from settings.SUPERVISION."""

import datetime
import enum

from django.conf import settings

from workdays.services import add_working_days


class Deadline(enum.Enum):
    REVIEW = "REVIEW_WORKING_DAYS"
    SIGNOFF = "SIGNOFF_WORKING_DAYS"
    CO_OWNER_LEAD = "CO_OWNER_LEAD_WORKING_DAYS"


def working_days(kind: Deadline) -> int:
    """The setting's value (config/settings.py SUPERVISION, with its defaults and meaning)."""
    return int(settings.SUPERVISION[kind.value])


def deadline(kind: Deadline, received: datetime.date) -> datetime.date:
    """The working day by which a step received on `received` is due."""
    return add_working_days(received, working_days(kind))


def co_owner_due(lead_due: datetime.date) -> datetime.date:
    """Co-owners' input: some working days before the lead's due day."""
    return add_working_days(lead_due, -working_days(Deadline.CO_OWNER_LEAD))
