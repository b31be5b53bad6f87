"""Indicator comparators."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Comparator(models.TextChoices):
    AT_LEAST = ">=", _("不低于")
    AT_MOST = "<=", _("不高于")
    EQUAL = "=", _("等于")
