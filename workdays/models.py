"""The exceptions of the working-day calendar: official holidays and make-up working days.

Only the exceptions are stored: every other day is a working day from Monday to Friday and
a day off at the weekend (workdays.services)."""

import datetime

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from audit.history import audit_history
from workdays.choices import MARKS, DayKind, Source

MIN_YEAR = 2000
MAX_YEAR = 2100
NAME_MAX_CHARS = 50


def check_day(day: datetime.date, kind: str) -> None:
    """Raise ValidationError when `kind` cannot be true of `day`: a year the platform does
    not keep, or a make-up working day on a weekday (Monday to Friday are working days
    already; 调休 only ever moves work onto a weekend). A holiday may fall on a weekend:
    the notice names the whole span off (国庆节 1–7 October), Saturdays included."""
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise ValidationError(
            gettext("只能维护 %(min)d 至 %(max)d 年的日历。") % {"min": MIN_YEAR, "max": MAX_YEAR},
            code="year",
        )
    if kind == DayKind.WORKDAY and day.weekday() < 5:
        raise ValidationError(
            gettext("%(date)s 是周一至周五，本来就是工作日，不能设为调休上班日。") % {"date": day.isoformat()},
            code="weekday_workday",
        )


class CalendarDayQuerySet(models.QuerySet):
    def in_years(self, years) -> "CalendarDayQuerySet":
        """The days of `years`, as date ranges the unique index on `date` serves."""
        condition = Q(pk__in=[])
        for year in years:
            condition |= Q(date__range=(datetime.date(year, 1, 1), datetime.date(year, 12, 31)))
        return self.filter(condition)


class CalendarDay(models.Model):
    date = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类型"), max_length=16, choices=DayKind.choices)
    name = models.CharField(
        _("节日名称"), max_length=NAME_MAX_CHARS, blank=True, help_text=_("如 国庆节；调休上班日填所调的节日")
    )
    source = models.CharField(_("来源"), max_length=16, choices=Source.choices, default=Source.MANUAL)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = CalendarDayQuerySet.as_manager()
    history = audit_history(verbose_name=_("工作日历变更记录"))

    class Meta:
        verbose_name = _("节假日与调休")
        verbose_name_plural = _("节假日与调休")
        ordering = ["date"]
        # The unique index on `date` serves every read: a year's exceptions are a range of it
        # (workdays.services loads one year per query), and an edit looks one date up. The
        # weekend rule of a make-up day (check_day) is not a constraint: on SQLite it would
        # call a function Django registers per connection, which other tools lack.
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=DayKind.values), name="calendarday_kind_valid"),
            models.CheckConstraint(condition=Q(source__in=Source.values), name="calendarday_source_valid"),
            models.CheckConstraint(
                condition=Q(date__gte=datetime.date(MIN_YEAR, 1, 1)) & Q(date__lte=datetime.date(MAX_YEAR, 12, 31)),
                name="calendarday_date_in_range",
            ),
        ]

    def __str__(self):
        return f"{self.date.isoformat()} {self.get_kind_display()} {self.name}".rstrip()

    @property
    def mark(self) -> str:
        return str(MARKS.get(self.kind, ""))

    def clean(self):
        if self.date is not None and self.kind:
            check_day(self.date, self.kind)
