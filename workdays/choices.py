"""What a day of the working-day calendar can be, where the row came from, and the marks
Chinese calendars print on such days."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class DayKind(models.TextChoices):
    # A day off by the State Council's notice (放假), weekends inside the span included.
    HOLIDAY = "holiday", _("法定节假日")
    # A Saturday or Sunday worked to make up for a bridged holiday (调休上班).
    WORKDAY = "workday", _("调休上班")


class Source(models.TextChoices):
    PACKAGE = "package", _("软件包（chinesecalendar）")
    MANUAL = "manual", _("手工维护")
    FILE = "file", _("文件导入")


# The one-character marks of a printed Chinese calendar, shown in the month grid; the file's
# `kind` column holds the same marks in the site's default language (workdays.files).
MARKS = {
    DayKind.HOLIDAY: pgettext_lazy("calendar mark", "休"),
    DayKind.WORKDAY: pgettext_lazy("calendar mark", "班"),
}
