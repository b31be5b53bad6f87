"""Leader pages: the overview of the agencies a leader oversees (admins: everything), with
rollups by plan, section and agency that drill down to the tasks behind each figure, and
the open 督办单 per addressee and level that drill down to the 督办 page."""

from django.conf import settings
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from accounts.services import scope_agency_ids
from core.permissions import role_required
from core.roles import OVERSIGHT_ROLES
from dashboards import services
from dashboards.models import Export
from dashboards.services import IndicatorRow, Row, cached_overview, cached_reporting, cached_years, scope_key
from indicators.templatetags.indicator_format import sparkline
from indicators.units import with_unit
from tasks.choices import TaskStatus

RECENT_EXPORTS = 5
PLAN_ROWS = 30  # the plans most in need of attention; the task list has the rest


def _chart_data(data, task_list_url: str) -> dict:
    """What static/js/dashboard.js draws; every label is translated here."""
    return {
        "labels": {
            "status": _("任务状态"),
            "agencies": _("各单位平均进度"),
            "trend": _("全年完成进度"),
            "indicators": _("指标达标情况"),
            "mean_percent": _("平均进度"),
            "done_share": _("已完成占比"),
            "tasks": _("任务数"),
            "done": _("已完成"),
            "met": _("达标"),
            "missed": _("未达标"),
            "unreported": _("未填报"),
            "percent_axis": "%",
            "empty": _("暂无历史数据"),
            "no_data": _("暂无数据"),
        },
        "status": [
            {"key": value, "name": str(label), "value": getattr(data.total, value)}
            for value, label in TaskStatus.choices
        ],
        "agencies": [
            {
                "id": row.key,
                "name": row.label,
                "tasks": row.tasks,
                "done": row.done,
                "mean_percent": row.mean_percent,
                "url": task_list_url + row.link,
            }
            for row in data.agencies
        ],
        "trend": {
            "days": [point["day"].isoformat() for point in data.trend],
            "mean_percent": [point["mean_percent"] for point in data.trend],
            "done_share": [point["done_share"] for point in data.trend],
        },
        "indicators": {
            "met": data.indicators_met,
            "missed": data.indicators_missed,
            "unreported": data.indicators_unreported,
        },
    }


@role_required(*OVERSIGHT_ROLES)
@require_safe
def overview_page(request):
    scope = scope_agency_ids(request.user)
    today = timezone.localdate()
    years = cached_years(scope)
    try:
        year = int(request.GET.get("year") or today.year)
    except ValueError:
        year = today.year
    if year not in years:
        years = sorted({*years, year}, reverse=True)
    try:
        plan_id = int(request.GET["plan"]) if request.GET.get("plan") else None
    except ValueError:
        plan_id = None
    # Tasks outside the scope never enter the figures, so a plan id of someone else's
    # plan shows nothing rather than anything of theirs.
    data = cached_overview(scope, year, today, plan_id)
    reporting = cached_reporting(request.user, year, today, plan_id)
    task_list_url = reverse("tasks:my_tasks")
    attention = sorted(data.plans, key=lambda row: (-(row.overdue + row.at_risk), row.label))
    figures = {
        "data": data,
        "plan_id": plan_id,
        "plan_rows": attention[:PLAN_ROWS],
        "more_plans": max(len(data.plans) - PLAN_ROWS, 0),
        "year": year,
        "task_list_url": task_list_url,
        "board_url": reverse("escalation:board"),
    }
    return render(
        request,
        "dashboards/overview.html",
        figures
        | {
            "figures_html": figures_html(scope, figures),
            "reporting": reporting,
            "chosen_plan": next((row for row in data.plans if row.key == plan_id), None),
            "years": years,
            "chart_data": _chart_data(data, task_list_url),
            "scope_size": None if scope is None else len(scope),
            "exports": Export.objects.filter(requested_by=request.user)[:RECENT_EXPORTS],
        },
    )


def figures_html(scope: set[int] | None, figures: dict) -> dict[str, str]:
    """The overview's tiles and tables as HTML, rendered once per computed overview and
    kept beside it for every leader of the scope: they are the same for all of them, and
    rendering a city's rows (thousands of cells) costs more than reading the figures."""
    data = figures["data"]
    key = ":".join(
        [
            "dashboard:html:v1",
            scope_key(scope),
            str(figures["year"]),
            str(figures["plan_id"] or ""),
            data.today.isoformat(),
            data.computed_at.isoformat() if data.computed_at else "",
            translation.get_language() or "",
        ]
    )
    # services.cache: the overview's own cache (a test may give it one of its own).
    html = services.cache.get(key) if data.computed_at else None
    if html is None:
        context = figures | {
            "indicator_rows_html": indicator_rows_html(data.indicator_rows),
            "agency_rows_html": rollup_rows_html(data.agencies, _("单位"), figures),
            "plan_rows_html": rollup_rows_html(figures["plan_rows"], _("计划"), figures, by_section_link=True),
            "section_rows_html": rollup_rows_html(data.sections, _("部分"), figures),
        }
        html = {part: render_to_string(f"dashboards/_overview_{part}.html", context) for part in ("tiles", "tables")}
        if data.computed_at:
            services.cache.set(key, html, settings.DASHBOARD_CACHE_SECONDS)
    return {part: mark_safe(text) for part, text in html.items()}  # our templates' output, escaped


def indicator_rows_html(rows: list[IndicatorRow]) -> str:
    """The indicator table's rows. Written here rather than in the template: a hundred rows
    of six cells through the template language cost ten times as much, on every first look."""
    labels = [_("指标"), _("任务"), _("目标"), _("最新值"), _("达标情况"), _("趋势")]
    outcomes = {
        None: format_html('<span class="muted">{}</span>', _("未填报")),
        True: format_html('<span class="met">{}</span>', _("达标")),
        False: format_html('<span class="not-met">{}</span>', _("未达标")),
    }
    lines = []
    for row in rows:
        indicator = row.indicator
        task = indicator.task
        latest = indicator.latest_value  # type: ignore[attr-defined]  # with_latest_reading's
        lines.append(
            format_html(
                '<tr>\n      <td data-label="{}">{}</td>\n      <td data-label="{}"><a href="{}">{} {}</a></td>\n'
                '      <td data-label="{}">{} {}</td>\n      <td data-label="{}">{}</td>\n'
                '      <td data-label="{}">{}</td>\n      <td data-label="{}" class="trend {}">{}</td>\n    </tr>',
                labels[0],
                indicator.name,
                labels[1],
                reverse("tasks:task_detail", args=[indicator.task_id]),
                task.number,
                Truncator(task.heading).chars(24),
                labels[2],
                indicator.get_comparator_display(),
                with_unit(indicator.target, indicator.unit),
                labels[3],
                "—" if latest is None else with_unit(latest, indicator.unit),
                labels[4],
                outcomes[row.met],
                labels[5],
                "not-met" if row.met is False else "met",
                sparkline(row.trend),
            )
        )
    return mark_safe("".join(lines))  # each line made by format_html, escaped


def rollup_rows_html(rows: list[Row], heading: str, figures: dict, by_section_link: bool = False) -> str:
    """A rollup table's rows (dashboards/_rollup_table.html), each figure linking to the
    tasks behind it; written here for the same reason as indicator_rows_html."""
    url = figures["task_list_url"]
    labels = {
        "tasks": _("任务"),
        "mean": _("平均进度"),
        "overdue": _("逾期"),
        "at_risk": _("预警"),
        "rate": _("本期报送率"),
        "unreported": _("查看未报送的任务"),
        "by_section": _("分部分"),
    }
    statuses = [(value, str(label)) for value, label in TaskStatus.choices]
    lines = []
    for row in rows:
        link = url + row.link
        cells = [
            format_html(
                '<td data-label="{}"><a href="{}">{}</a>{}</td>',
                heading,
                link,
                row.label,
                format_html(
                    ' <a class="tag" href="?year={}&amp;plan={}#by-section">{}</a>',
                    figures["year"],
                    row.key,
                    labels["by_section"],
                )
                if by_section_link
                else "",
            ),
            format_html('<td data-label="{}">{}</td>', labels["tasks"], row.tasks),
        ]
        for value, label in statuses:
            n = getattr(row, value)
            shown = format_html('<a href="{}&amp;status={}">{}</a>', link, value, n) if n else "0"
            cells.append(format_html('<td data-label="{}">{}</td>', label, shown))
        cells.append(format_html('<td data-label="{}">{}%</td>', labels["mean"], row.mean_percent))
        overdue = format_html('<a href="{}&amp;overdue=1">{}</a>', link, row.overdue) if row.overdue else "0"
        cells.append(
            format_html(
                '<td data-label="{}"{}>{}</td>',
                labels["overdue"],
                mark_safe(' class="overdue"') if row.overdue else "",
                overdue,
            )
        )
        at_risk = format_html('<a href="{}&amp;risk=amber">{}</a>', link, row.at_risk) if row.at_risk else "0"
        cells.append(format_html('<td data-label="{}">{}</td>', labels["at_risk"], at_risk))
        rate = (
            "—"
            if row.report_rate is None
            else format_html(
                '<a href="{}&amp;reported=0" title="{}">{}%</a>', link, labels["unreported"], row.report_rate
            )
        )
        cells.append(format_html('<td data-label="{}">{}</td>', labels["rate"], rate))
        lines.append(format_html("\n    <tr>\n      {}\n    </tr>", mark_safe("\n      ".join(cells))))
    return mark_safe("".join(lines))  # each cell made by format_html, escaped
