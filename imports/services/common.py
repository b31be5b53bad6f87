"""Field sizes and names shared by the import modules."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext_lazy

from accounts.models import Agency
from indicators.models import Indicator
from tasks.models import Milestone, Task
from workplans.models import Plan, Section

# The mapping value that asks for a new agency named as the plan writes it.
CREATE_AGENCY = "create"
# The mapping value that leaves an owner name out: a generic owner (各区, 有关部门) that is no
# one agency. The task keeps its other owners; the name stays in the parse, not in the plan.
SKIP_AGENCY = "skip"
# "create:<parent id>": a new agency named as the plan writes it, placed under that parent.
CREATE_UNDER = "create:"


def create_parent(value) -> int | None:
    """The parent agency id of a "create:<id>" mapping value, else None."""
    if isinstance(value, str) and value.startswith(CREATE_UNDER):
        tail = value[len(CREATE_UNDER) :]
        return int(tail) if tail.isdigit() else None
    return None


def is_create(value) -> bool:
    return value == CREATE_AGENCY or create_parent(value) is not None


def group_ids(value) -> list[int] | None:
    """The agency ids of a group mapping (a generic owner such as 各区 mapped to several
    agencies, stored as a list), else None."""
    if isinstance(value, list):
        try:
            return [int(v) for v in value]
        except (TypeError, ValueError):
            return []
    return None


def _max_length(model, name: str) -> int:
    length = model._meta.get_field(name).max_length
    if not isinstance(length, int):
        raise TypeError(f"{model.__name__}.{name} has no max_length")
    return length


# Field sizes of the models the import writes (kept here so checks and writes agree).
TITLE_MAX = _max_length(Plan, "title")
DOC_NUMBER_MAX = _max_length(Plan, "doc_number")
SECTION_LABEL_MAX = _max_length(Section, "label")
SECTION_TITLE_MAX = _max_length(Section, "title")
TASK_NUMBER_MAX = _max_length(Task, "number")
TASK_HEADING_MAX = _max_length(Task, "heading")
MILESTONE_TEXT_MAX = _max_length(Milestone, "text")
INDICATOR_NAME_MAX = _max_length(Indicator, "name")
INDICATOR_UNIT_MAX = _max_length(Indicator, "unit")
AGENCY_NAME_MAX = _max_length(Agency, "name")
# DecimalField(max_digits=14, decimal_places=4): at most 10 digits before the point.
TARGET_LIMIT = Decimal(10) ** 10
TARGET_QUANTUM = Decimal("0.0001")

CHANGE_REASON_NEW = gettext_lazy("导入计划")
CHANGE_REASON_UPDATE = gettext_lazy("导入计划新版本")
