"""Field sizes and names shared by the import modules."""

from __future__ import annotations

from decimal import Decimal

from accounts.models import Agency
from indicators.models import Indicator
from tasks.models import Milestone, Task
from workplans.models import Plan, Section

# The mapping value that asks for a new agency named as the plan writes it.
CREATE_AGENCY = "create"

# Field sizes of the models the import writes (kept here so checks and writes agree).
TITLE_MAX = Plan._meta.get_field("title").max_length
DOC_NUMBER_MAX = Plan._meta.get_field("doc_number").max_length
SECTION_LABEL_MAX = Section._meta.get_field("label").max_length
SECTION_TITLE_MAX = Section._meta.get_field("title").max_length
TASK_NUMBER_MAX = Task._meta.get_field("number").max_length
TASK_HEADING_MAX = Task._meta.get_field("heading").max_length
MILESTONE_TEXT_MAX = Milestone._meta.get_field("text").max_length
INDICATOR_NAME_MAX = Indicator._meta.get_field("name").max_length
INDICATOR_UNIT_MAX = Indicator._meta.get_field("unit").max_length
AGENCY_NAME_MAX = Agency._meta.get_field("name").max_length
# DecimalField(max_digits=14, decimal_places=4): at most 10 digits before the point.
TARGET_LIMIT = Decimal(10) ** 10
TARGET_QUANTUM = Decimal("0.0001")

CHANGE_REASON_NEW = "导入计划"
CHANGE_REASON_UPDATE = "导入计划新版本"
