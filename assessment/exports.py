"""The frozen year's result as an .xlsx workbook: the ranking, then every item behind it.
Every cell goes through core.spreadsheets (text stays text, never a formula)."""

import io

from django.utils.translation import gettext as _
from openpyxl import Workbook

from core.spreadsheets import Cells


def result_xlsx(plan, outcome) -> bytes:
    workbook = Workbook(write_only=True)
    ranking = workbook.create_sheet(_("考核排名"))
    cells = Cells(ranking)
    for column, width in zip("ABCDEF", [8, 30, 12, 14, 14, 14], strict=True):
        ranking.column_dimensions[column].width = width
    ranking.append([cells.text(_("%(plan)s 年度考核结果") % {"plan": plan.title})])
    headers = [_("名次"), _("单位"), _("总分"), _("牵头任务得分"), _("配合任务得分"), _("领导评价得分")]
    ranking.append([cells.header(h) for h in headers])
    for s in outcome.standings:
        ranking.append(
            [
                cells.value(s.rank),
                cells.text(s.agency_name),
                cells.value(s.points),
                cells.value(s.lead_points),
                cells.value(s.co_points),
                cells.value(s.evaluation_points),
            ]
        )
    items = workbook.create_sheet(_("计分明细"))
    cells = Cells(items)
    for column, width in zip("ABCDEFGHI", [24, 8, 18, 36, 12, 16, 8, 10, 60], strict=True):
        items.column_dimensions[column].width = width
    headers = [
        _("单位"),
        _("角色"),
        _("计分项"),
        _("任务"),
        _("日期"),
        _("周期"),
        _("分值"),
        _("计入得分"),
        _("计分理由"),
    ]
    items.append([cells.header(h) for h in headers])
    for s in outcome.items:
        items.append(
            [
                cells.text(s.agency_name),
                cells.text(s.role_label),
                cells.text(s.block_label),
                cells.text(s.task_label),
                cells.value(s.item.day),
                cells.text(s.cycle_label),
                cells.value(s.item.points),
                cells.value(s.item.weighted),
                cells.text(s.item.reason),
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
