"""The states of an assessment scheme (考核方案), written once; the blocks it is made of
are the scoring rules' (assessment.rules.Block)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SchemeState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    ACTIVE = "active", _("已启用")
    FROZEN = "frozen", _("已冻结")


# What a scheme may move to from each state: a draft is activated, an active scheme goes
# back to draft to be reworked or is frozen at the year's end; frozen is final.
ALLOWED = {
    SchemeState.DRAFT: frozenset({SchemeState.ACTIVE}),
    SchemeState.ACTIVE: frozenset({SchemeState.DRAFT, SchemeState.FROZEN}),
    SchemeState.FROZEN: frozenset(),
}
