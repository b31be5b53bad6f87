"""The progress bulletin (进展通报): the figures of the requester's scope, the overdue tasks,
the indicators and the 督办单 to be named (open yellow and red ones, those answered late or
unanswered past their deadline, per addressee), as a .docx that prints on A4."""

import datetime
import decimal
import tempfile
from collections.abc import Callable

from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.db.models.lookups import Exact
from django.utils import timezone
from django.utils.translation import gettext as _
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from lxml import etree

from core.spreadsheets import clean_text
from dashboards.exports.base import (
    CHUNK_ROWS,
    Built,
    download_name,
    indicators_queryset,
    latest_note,
    met_label,
    owners_text,
    scope_of,
    value_text,
)
from dashboards.exports.notices import NoticeLine, export_notices
from dashboards.models import Export
from dashboards.rollup import task_aggregates
from dashboards.services import scoped_tasks
from escalation.choices import OPEN_NOTICE_STATES, RANK, Level, NoticeState
from indicators.models import Indicator
from indicators.services import attained, target_text
from tasks.choices import FINISHED, TaskStatus
from tasks.models import Task, TaskOwner
from tasks.risk import Risk, risk_annotation
from workplans.models import Plan


def _one_place(value: decimal.Decimal) -> decimal.Decimal:
    return value.quantize(decimal.Decimal("0.1"), rounding=decimal.ROUND_HALF_UP)


def bulletin_figures(tasks: QuerySet[Task], indicators: list[Indicator], today: datetime.date) -> dict:
    """The overview of a bulletin, from the tasks in scope (one query) and their indicators.

    The definitions are the dashboard's and the rollup's (dashboards.rollup.task_aggregates),
    plus the red count."""
    row = tasks.aggregate(
        **task_aggregates(today), red=Count("pk", filter=Exact(risk_annotation(today), Risk.RED.value))
    )
    met = [attained(i.comparator, i.target, i.latest_value) for i in indicators]
    report_due = row["report_due"]
    mean = _one_place(decimal.Decimal(row["percent_sum"] or 0) / row["tasks"]) if row["tasks"] else decimal.Decimal(0)
    rate = _one_place(decimal.Decimal(100 * row["reported"]) / report_due) if report_due else None
    return {
        "tasks": row["tasks"],
        "by_status": [(str(label), row[value]) for value, label in TaskStatus.choices],
        "mean_percent": mean,
        "overdue": row["overdue"],
        "red": row["red"],
        "amber": row["at_risk"],
        "indicators": len(indicators),
        "indicators_met": sum(1 for m in met if m is True),
        "indicators_missed": sum(1 for m in met if m is False),
        "indicators_unreported": sum(1 for m in met if m is None),
        "reported": row["reported"],
        "report_due": report_due,
        "report_rate": rate,
    }


def bulletin_indicators(scope: set[int] | None, year: int, plan_id: int | None) -> list[Indicator]:
    """Indicators of the tasks in scope; for admins also the plan-wide ones (no task)."""
    tasks = scoped_tasks(scope, year, plan_id)
    condition = Q(task__in=tasks.values("pk"))
    if scope is None:
        plans = Plan.objects.published().filter(year=year)
        if plan_id is not None:
            plans = plans.filter(pk=plan_id)
        condition |= Q(task__isnull=True, plan__in=plans.values("pk"))
    return list(
        indicators_queryset()
        .filter(condition)
        .select_related("plan")
        .order_by(
            "plan__year", "plan__title", "plan_id", F("task__order").asc(nulls_last=True), "task_id", "order", "id"
        )
    )


def overdue_tasks(tasks: QuerySet[Task], today: datetime.date) -> QuerySet[Task]:
    return (
        tasks.filter(due_on__lt=today)
        .exclude(status__in=FINISHED)
        .select_related("plan")
        .defer("text", "search_text")
        .annotate(latest_note=latest_note())
        .prefetch_related(
            Prefetch("task_owners", queryset=TaskOwner.objects.select_related("agency").order_by("role", "order", "id"))
        )
        .order_by("due_on", "plan__title", "plan_id", "order", "id")
    )


# The levels a bulletin names while open: blue is a reminder, left to the 督办 page.
NAMED_LEVELS = (Level.RED, Level.YELLOW)


def bulletin_notices(tasks: QuerySet[Task]) -> list[NoticeLine]:
    """The notices a bulletin counts and names, in one query: the open ones (all levels, for
    the counts) and those answered late (whatever became of them since, unless cancelled)."""
    condition = Q(state__in=OPEN_NOTICE_STATES) | (Q(answered_late=True) & ~Q(state=NoticeState.CANCELLED))
    return export_notices(tasks, condition)


def notice_figures(lines: list[NoticeLine], today: datetime.date) -> dict:
    """The counts of the bulletin's 督办 section, the notices it names (open yellow and red,
    answered late, unanswered past the deadline: by addressee, the most severe first), and
    per addressee (agency name, red open, yellow open, unanswered late, answered late)."""
    open_lines = [line for line in lines if line.is_open]
    named = [
        line
        for line in lines
        if (line.is_open and line.level in NAMED_LEVELS) or line.answered_late or line.unanswered_late(today)
    ]
    named.sort(key=lambda line: (line.agency_order, line.agency_name, -RANK[Level(line.level)], line.issued_on))
    agencies: dict[int, list] = {}
    for line in named:
        row = agencies.setdefault(line.agency_id, [line.agency_name, 0, 0, 0, 0])
        row[1] += line.is_open and line.level == Level.RED
        row[2] += line.is_open and line.level == Level.YELLOW
        row[3] += line.unanswered_late(today)
        row[4] += line.answered_late
    return {
        "open": len(open_lines),
        **{level: sum(1 for line in open_lines if line.level == level) for level in Level.values},
        "unanswered_late": sum(1 for line in lines if line.unanswered_late(today)),
        "answered_late": sum(1 for line in lines if line.answered_late),
        "named": named,
        "agencies": list(agencies.values()),
    }


def _notice_situation(line: NoticeLine, today: datetime.date) -> str:
    """已签收 / 已签收，逾期未反馈3天 / 已办结，逾期反馈."""
    lateness = line.lateness(today)
    return (
        _("%(state)s，%(lateness)s") % {"state": line.state_label, "lateness": lateness}
        if lateness
        else line.state_label
    )


def _items(count: int) -> str:
    return _("%(count)d项") % {"count": count}


def _cn_date(day: datetime.date) -> str:
    return _("%(year)d年%(month)d月%(day)d日") % {"year": day.year, "month": day.month, "day": day.day}


def _set_fonts(style_or_run, name: str, size_pt: float | None = None, bold: bool | None = None) -> None:
    font = style_or_run.font
    font.name = name
    if size_pt is not None:
        font.size = Pt(size_pt)
    if bold is not None:
        font.bold = bold
    rpr = style_or_run.element.get_or_add_rPr()
    fonts = rpr.get_or_add_rFonts()
    for attribute in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attribute), None)
    for attribute in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attribute), name)


class _Doc:
    """A python-docx document set up for printing: A4, CJK fonts, black headings, page numbers."""

    BODY_FONT = "宋体"  # East Asian font names, as Word knows them
    HEADING_FONT = "黑体"

    def __init__(self):
        self.document = Document()
        section = self.document.sections[0]
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.top_margin = section.bottom_margin = Mm(25)
        section.left_margin = section.right_margin = Mm(22)
        styles = self.document.styles
        _set_fonts(styles["Normal"], self.BODY_FONT, 12)
        for name, size in (("Title", 20), ("Heading 1", 15), ("Heading 2", 13)):
            _set_fonts(styles[name], self.HEADING_FONT, size, bold=name != "Title")
            styles[name].font.color.rgb = RGBColor(0, 0, 0)
        _set_fonts(styles["Table Grid"], self.BODY_FONT, 10.5)
        self._page_numbers(section)

    def _page_numbers(self, section) -> None:
        paragraph = section.footer.paragraphs[0]
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.add_run(_("第 "))
        field = OxmlElement("w:fldSimple")
        field.set(qn("w:instr"), "PAGE")
        run = OxmlElement("w:r")
        text = OxmlElement("w:t")
        text.text = "1"
        run.append(text)
        field.append(run)
        paragraph._p.append(field)
        paragraph.add_run(_(" 页"))

    def paragraph(self, text: str = "", *, style=None, align=None, size=None, bold=None):
        paragraph = self.document.add_paragraph(style=style)
        if align is not None:
            paragraph.alignment = align
        if text:
            run = paragraph.add_run(clean_text(text))
            if size is not None:
                run.font.size = Pt(size)
            if bold is not None:
                run.bold = bold
        return paragraph

    def table(self, headers: list[str], widths_mm: list[float], rows, progress: Callable[[], None] | None = None):
        """A grid table of fixed column widths whose header row repeats on every printed page;
        `rows` are lists of text. The body rows are written as XML directly: python-docx's
        add_row and cell.text walk the whole table each time, slow past a few hundred rows."""
        table = self.document.add_table(rows=1, cols=len(headers))
        table.style = self.document.styles["Table Grid"]
        table.autofit = False
        twips = [str(Mm(width).twips) for width in widths_mm]
        for column, width in zip(table.columns, widths_mm, strict=True):
            column.width = Mm(width)
        header = table.rows[0]
        repeat = OxmlElement("w:tblHeader")
        repeat.set(qn("w:val"), "true")
        header._tr.get_or_add_trPr().append(repeat)
        for cell, title, width in zip(header.cells, headers, widths_mm, strict=True):
            cell.width = Mm(width)
            cell.paragraphs[0].add_run(title).bold = True

        tbl = table._tbl
        sub = etree.SubElement
        names = {name: qn(f"w:{name}") for name in ("tr", "tc", "tcPr", "tcW", "p", "r", "t", "br", "w", "type")}
        preserve = "{http://www.w3.org/XML/1998/namespace}space"
        for values in rows:
            tr = sub(tbl, names["tr"])
            for value, width in zip(values, twips, strict=True):
                tc = sub(tr, names["tc"])
                tc_width = sub(sub(tc, names["tcPr"]), names["tcW"])
                tc_width.set(names["w"], width)
                tc_width.set(names["type"], "dxa")
                run = sub(sub(tc, names["p"]), names["r"])
                for n, line in enumerate(clean_text(value).split("\n")):
                    if n:
                        sub(run, names["br"])
                    text = sub(run, names["t"])
                    text.text = line
                    text.set(preserve, "preserve")
            if progress is not None:
                progress()
        return table


def build_bulletin(export: Export, progress: Callable[[int, int], None]) -> Built:
    scope, scope_short, described = scope_of(export)
    today = timezone.localdate()
    tasks = scoped_tasks(scope, export.year, export.plan_id)
    indicators = bulletin_indicators(scope, export.year, export.plan_id)
    figures = bulletin_figures(tasks, indicators, today)
    overdue = list(overdue_tasks(tasks, today))
    notices = notice_figures(bulletin_notices(tasks), today)
    total = 1 + len(overdue) + len(indicators) + len(notices["named"])
    state = {"done": 1}
    progress(1, total)

    def step() -> None:
        state["done"] += 1
        if state["done"] % CHUNK_ROWS == 0:
            progress(state["done"], total)

    doc = _Doc()
    title = _("%(year)d年%(month)d月工作要点推进情况通报") % {"year": today.year, "month": today.month}
    doc.paragraph(title, style="Title", align=WD_ALIGN_PARAGRAPH.CENTER)
    doc.paragraph(
        _("（%(year)d年度 · %(scope)s）") % {"year": export.year, "scope": described},
        align=WD_ALIGN_PARAGRAPH.CENTER,
        size=12,
    )
    user = export.requested_by
    issuer = user.agency.name if user.agency_id else ""
    if not issuer and export.plan_id and export.plan.issuer_id:
        issuer = export.plan.issuer.name
    doc.paragraph(f"{issuer}\u3000\u3000{_cn_date(today)}".strip(), align=WD_ALIGN_PARAGRAPH.RIGHT)

    doc.paragraph(_("一、总体情况"), style="Heading 1")
    doc.paragraph(_summary(figures, today))
    rate = f"{figures['report_rate']}%" if figures["report_rate"] is not None else "—"
    figure_rows = [
        [_("任务总数"), _items(figures["tasks"])],
        *[[label, _items(n)] for label, n in figures["by_status"]],
        [_("平均完成进度"), f"{figures['mean_percent']}%"],
        [_("逾期未完成"), _items(figures["overdue"])],
        [_("风险（红）"), _items(figures["red"])],
        [_("预警（黄）"), _items(figures["amber"])],
        [_("量化指标"), _items(figures["indicators"])],
        [_("指标已达标"), _items(figures["indicators_met"])],
        [_("指标未达标"), _items(figures["indicators_missed"])],
        [_("指标未填报"), _items(figures["indicators_unreported"])],
        [_("本期应报送"), _items(figures["report_due"])],
        [_("本期已报送"), _items(figures["reported"])],
        [_("本期报送率"), rate],
    ]
    doc.table([_("项目"), _("数值")], [60, 40], figure_rows)

    doc.paragraph(_("二、逾期未完成任务（%(count)d项）") % {"count": len(overdue)}, style="Heading 1")
    if overdue:
        doc.table(
            [_("序号"), _("任务"), _("牵头单位"), _("完成时限"), _("逾期天数"), _("进度"), _("最新进展")],
            [11, 45, 24, 21, 14, 12, 39],
            (
                [
                    str(n),
                    str(task),
                    owners_text((o.role, o.agency.name) for o in task.task_owners.all())[0],
                    f"{task.due_on:%Y-%m-%d}",
                    str((today - task.due_on).days),
                    f"{task.percent}%",
                    clean_text(task.latest_note or "", 500),
                ]
                for n, task in enumerate(overdue, start=1)
            ),
            step,
        )
    else:
        doc.paragraph(_("截至目前，无逾期未完成任务。"))

    doc.paragraph(_("三、量化指标完成情况（%(count)d项）") % {"count": len(indicators)}, style="Heading 1")
    if indicators:
        doc.table(
            [_("指标"), _("目标"), _("最新值"), _("日期"), _("达标情况")],
            [62, 34, 30, 24, 16],
            (
                [
                    indicator.name,
                    target_text(indicator),
                    value_text(indicator),
                    f"{indicator.latest_as_of:%Y-%m-%d}" if indicator.latest_as_of else "—",
                    met_label(attained(indicator.comparator, indicator.target, indicator.latest_value)),
                ]
                for indicator in indicators
            ),
            step,
        )
    else:
        doc.paragraph(_("暂无量化指标。"))

    _notice_section(doc, notices, today, step)
    progress(total, total)

    handle = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the caller, who streams and closes it
    doc.document.save(handle)
    return Built(handle, download_name(title, scope_short, today, "docx"), figures["tasks"], scope)


def _notice_section(doc: _Doc, notices: dict, today: datetime.date, step: Callable[[], None]) -> None:
    """四、督办单办理情况: the counts, a table per addressee, and the notices named."""
    doc.paragraph(_("四、督办单办理情况"), style="Heading 1")
    doc.paragraph(
        _(
            "截至%(day)s，未办结的督办单共%(open)d件，其中红色督办%(red)d件、黄色督办%(yellow)d件、"
            "蓝色督办%(blue)d件；逾期未反馈%(unanswered_late)d件，逾期反馈%(answered_late)d件。"
        )
        % {**notices, "day": _cn_date(today)}
    )
    if not notices["named"]:
        doc.paragraph(_("截至目前，无未办结的黄色、红色督办单，无逾期反馈或逾期未反馈的督办单。"))
        return
    doc.paragraph(_("（一）各主送单位情况"), style="Heading 2")
    counts = [[name, *(str(n) for n in figures)] for name, *figures in notices["agencies"]]
    sums = [str(sum(row[i] for row in notices["agencies"])) for i in range(1, 5)]
    doc.table(
        [_("主送单位"), _("红色督办（未办结）"), _("黄色督办（未办结）"), _("逾期未反馈"), _("逾期反馈")],
        [50, 30, 30, 28, 28],
        [*counts, [_("合计"), *sums]],
    )
    doc.paragraph(_("（二）督办单明细（%(count)d件）") % {"count": len(notices["named"])}, style="Heading 2")
    doc.table(
        [_("序号"), _("主送单位"), _("督办单编号"), _("等级"), _("任务"), _("反馈时限"), _("办理情况")],
        [10, 24, 28, 16, 40, 21, 27],
        (
            [
                str(n),
                line.agency_name,
                line.number,
                line.level_label,
                line.task_label,
                f"{line.reply_due_on:%Y-%m-%d}",
                _notice_situation(line, today),
            ]
            for n, line in enumerate(notices["named"], start=1)
        ),
        step,
    )


def _summary(figures: dict, today: datetime.date) -> str:
    statuses = _("、").join(
        _("%(status)s%(count)d项") % {"status": label, "count": n} for label, n in figures["by_status"]
    )
    text = _(
        "截至%(day)s，纳入督办的工作任务共%(tasks)d项，其中%(statuses)s；"
        "平均完成进度%(mean_percent)s%%。逾期未完成%(overdue)d项，"
        "风险（红）%(red)d项，预警（黄）%(amber)d项。"
        "量化指标共%(indicators)d项，已达标%(indicators_met)d项，"
        "未达标%(indicators_missed)d项，未填报%(indicators_unreported)d项。"
    ) % {**figures, "day": _cn_date(today), "statuses": statuses}
    if figures["report_rate"] is not None:
        text += _("本期应报送%(report_due)d项，已报送%(reported)d项，报送率%(report_rate)s%%。") % figures
    return text
