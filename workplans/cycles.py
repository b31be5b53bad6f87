"""Reporting cycles: the window a task's report must fall in, and the day it is due."""

import calendar
import dataclasses
import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from workplans.choices import ReportingCycle


@dataclasses.dataclass(frozen=True)
class Cycle:
    start: datetime.date  # first day of the cycle
    end: datetime.date  # last day of the cycle
    due_on: datetime.date  # the day reports are due
    label: str  # e.g. "2026年11月" or "2026年第4季度"

    def contains(self, day: datetime.date) -> bool:
        return self.start <= day <= self.end


def cycle_for(reporting_cycle: str, report_due_day: int, day: datetime.date) -> Cycle:
    """The cycle containing `day`.

    Monthly: the calendar month, due on day `report_due_day` of it. Quarterly: the calendar
    quarter, due on day `report_due_day` of its last month (Q4 with 25 → 12-25).
    """
    # 1–28 is what the plan model allows; it keeps the due day inside every month, February included.
    if not 1 <= report_due_day <= 28:
        raise ValueError(f"report_due_day must be 1–28, got {report_due_day}")
    if reporting_cycle == ReportingCycle.MONTHLY:
        first_month = last_month = day.month
        label = _("%(year)d年%(month)d月") % {"year": day.year, "month": day.month}
    elif reporting_cycle == ReportingCycle.QUARTERLY:
        quarter = (day.month - 1) // 3 + 1
        first_month, last_month = 3 * quarter - 2, 3 * quarter
        label = _("%(year)d年第%(quarter)d季度") % {"year": day.year, "quarter": quarter}
    else:
        raise ValueError(f"unknown reporting cycle {reporting_cycle!r}")
    return Cycle(
        start=datetime.date(day.year, first_month, 1),
        end=datetime.date(day.year, last_month, calendar.monthrange(day.year, last_month)[1]),
        due_on=datetime.date(day.year, last_month, report_due_day),
        label=label,
    )


def current_cycle(plan, today: datetime.date | None = None) -> Cycle:
    """The plan's cycle containing `today` (the local date by default)."""
    today = today or timezone.localdate()
    return cycle_for(plan.reporting_cycle, plan.report_due_day, today)


def previous_cycle(cycle: Cycle, reporting_cycle: str, report_due_day: int) -> Cycle:
    """The cycle just before `cycle`, across a year boundary if need be."""
    return cycle_for(reporting_cycle, report_due_day, cycle.start - datetime.timedelta(days=1))


def is_reported(last_progress_at: datetime.datetime | None, cycle: Cycle) -> bool:
    """Whether a progress update made at `last_progress_at` counts as the report for `cycle`.

    Compared on the local date (settings.TIME_ZONE): an update at 23:30 UTC on 31 March is
    07:30 on 1 April in Shanghai, and so belongs to April, as the person who made it sees it.
    """
    if last_progress_at is None:
        return False
    return cycle.contains(timezone.localtime(last_progress_at).date())
