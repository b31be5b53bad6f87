"""Why the parser read a task, an owner or an indicator as it did, and how sure it is.

Each task, owner detail and indicator in the parse document carries a ``rule`` (one of the
codes below) and a ``confidence`` ("high" or "low"); the import preview shows the labels and
puts the low ones first for the admin's eye.
"""

from django.utils.translation import gettext_lazy

# Tasks
NUMBERED = "numbered_item"
LOST_DOT = "lost_dot"
RUN_ON = "run_on_item"
SUB_ITEM = "sub_item"
PAREN_ITEM = "paren_item"
OWNED_HEADING = "owned_heading"
DELIVERABLE = "deliverable"
TABLE_ROW = "table_row"
# Owners
BRACKET_NOTE = "bracket_note"
BRACKET_LOST = "bracket_lost"
AFTER_FULL_STOP = "after_full_stop"
LABELLED_LINE = "labelled_line"
EXPLAINED_NOTE = "explained_note"
SHARED_DUTY = "shared_duty"
# Indicators
CONSTRUCT = "comparator"
DISTRIBUTED = "distributed"
COUNT = "target_count"
RATE = "bare_rate"
NAMED_VALUE = "named_value"
TABLE_COLUMN = "table_column"

LABELS = {
    NUMBERED: gettext_lazy("编号条目（如“1.”）"),
    LOST_DOT: gettext_lazy("编号后缺少顿号或点，按顺序号识别"),
    RUN_ON: gettext_lazy("与上一条写在同一行，按顺序号拆分"),
    SUB_ITEM: gettext_lazy("小标题下的“(1)”条目"),
    PAREN_ITEM: gettext_lazy("“(一)”编号条目"),
    OWNED_HEADING: gettext_lazy("带责任单位的章节条目（如保障措施）"),
    DELIVERABLE: gettext_lazy("“拟制定文件”下未编号的一行"),
    TABLE_ROW: gettext_lazy("任务分解表的一行"),
    BRACKET_NOTE: gettext_lazy("条目末尾括号内的责任单位"),
    BRACKET_LOST: gettext_lazy("括号残缺的责任单位"),
    AFTER_FULL_STOP: gettext_lazy("句号后未加括号的单位名称"),
    LABELLED_LINE: gettext_lazy("“牵头单位：”“配合单位：”等标注"),
    EXPLAINED_NOTE: gettext_lazy("附有说明的责任单位括注"),
    SHARED_DUTY: gettext_lazy("“按职责分工负责”，未写明牵头单位，按排序第一位"),
    TABLE_COLUMN: gettext_lazy("任务分解表的单位或指标列"),
    CONSTRUCT: gettext_lazy("“达到/控制在”等比较词后的数值"),
    DISTRIBUTED: gettext_lazy("“分别/均”或共用一个数值的并列指标"),
    COUNT: gettext_lazy("“新建/新增”等动词后的数量"),
    RATE: gettext_lazy("没有比较词的百分比"),
    NAMED_VALUE: gettext_lazy("“指标：数值”写法"),
}

_LOW_TASK_RULES = {LOST_DOT, RUN_ON, OWNED_HEADING, DELIVERABLE}
_LOW_INDICATOR_RULES = {COUNT, RATE}
# A heading this long is usually a first sentence that never ended.
_LONG_HEADING = 120


def task_confidence(rule: str, heading: str) -> str:
    return "low" if rule in _LOW_TASK_RULES or not heading or len(heading) > _LONG_HEADING else "high"


def indicator_confidence(rule: str, name: str) -> str:
    return "low" if rule in _LOW_INDICATOR_RULES or not name or len(name) > 30 else "high"
