"""What the overview page shows of a scope's figures, built once per computed overview and
kept beside it: the tiles and tables as HTML, the charts' data and the plans that need
attention. Every leader of the scope reads the same entry, so a warm look reads one small
cache entry and renders only the page's frame (the reporting table is per person)."""

import dataclasses
import datetime

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from accounts.models import User
from core.roles import OVERSIGHT_ROLES
from dashboards import services
from dashboards.services import (
    IndicatorRow,
    Overview,
    Row,
    cached_overview,
    leader_scopes,
    scope_key,
    store_overview,
    store_reporting,
    store_years,
)
from indicators.templatetags.indicator_format import sparkline
from indicators.units import with_unit
from supervision.rates import ReportingRates
from tasks.choices import TaskStatus

PLAN_ROWS = 30  # the plans most in need of attention; the task list has the rest


@dataclasses.dataclass
class OverviewPage:
    """The scope's part of the page. `data` is the overview without its long lists (the
    header reads its day and time; tests and the API read the full one)."""

    computed_at: datetime.datetime | None
    data: Overview
    figures_html: dict[str, str]
    chart_data: dict
    plan_rows: list[Row]
    more_plans: int
    chosen_plan: Row | None


def _page_key(scope: set[int] | None, year: int, today: datetime.date, plan_id: int | None) -> str:
    return ":".join(
        [
            "dashboard:page:v1",
            scope_key(scope),
            str(year),
            str(plan_id or ""),
            today.isoformat(),
            translation.get_language() or "",
        ]
    )


def cached_page(scope: set[int] | None, year: int, today: datetime.date, plan_id: int | None) -> OverviewPage:
    """The scope's part of the overview page while its figures are fresh (services._fresh),
    built from cached_overview otherwise (which computes them if they are missing or old)."""
    page = services.cache.get(_page_key(scope, year, today, plan_id))
    if page is not None and services._fresh(page.computed_at):
        return page
    return store_page(scope, year, today, plan_id, cached_overview(scope, year, today, plan_id))


def store_page(
    scope: set[int] | None, year: int, today: datetime.date, plan_id: int | None, data: Overview
) -> OverviewPage:
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
    page = OverviewPage(
        computed_at=data.computed_at,
        data=dataclasses.replace(data, plans=[], sections=[], agencies=[], indicator_rows=[], trend=[], notices=[]),
        figures_html=figures_html(figures),
        chart_data=_chart_data(data, task_list_url),
        plan_rows=figures["plan_rows"],
        more_plans=figures["more_plans"],
        chosen_plan=next((row for row in data.plans if row.key == plan_id), None),
    )
    if data.computed_at:
        services.cache.set(_page_key(scope, year, today, plan_id), page, settings.DASHBOARD_CACHE_SECONDS)
    return page


def precompute_overviews(today: datetime.date) -> int:
    """Compute and keep this year's overview, year list and page of every leader_scopes()
    scope, and each leader's reporting rate, so that their first look of the morning, and
    every look after a burst of reports, is read from the cache. In the site's language:
    the page's entry is per language, and a leader who chose another computes their own.
    Returns the number of scopes."""
    scopes = leader_scopes()
    with translation.override(settings.LANGUAGE_CODE):
        for scope in scopes:
            store_years(scope)
            store_page(scope, today.year, today, None, store_overview(scope, today.year, today))
    # The reporting rate is kept per person (a supervisor's includes the plans they are on).
    for user in User.objects.filter(is_active=True, role__in=OVERSIGHT_ROLES).select_related("agency"):
        store_reporting(user, today.year, today)
    return len(scopes)


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


def figures_html(figures: dict) -> dict[str, str]:
    """The overview's tiles and tables as HTML: the same for every leader of the scope."""
    data = figures["data"]
    context = figures | {
        "indicator_rows_html": indicator_rows_html(data.indicator_rows),
        "agency_rows_html": rollup_rows_html(data.agencies, _("单位"), figures),
        "plan_rows_html": rollup_rows_html(figures["plan_rows"], _("计划"), figures, by_section_link=True),
        "section_rows_html": rollup_rows_html(data.sections, _("部分"), figures),
    }
    return {
        part: mark_safe(render_to_string(f"dashboards/_overview_{part}.html", context))  # our templates' output
        for part in ("tiles", "tables")
    }


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


def reporting_rows_html(reporting: ReportingRates) -> str:
    """The reporting table's rows, one per agency and the total (the reporting rate is per
    person, so these are written at every look: in Python, for the reason above)."""
    labels = [
        _("单位"),
        _("应报送"),
        _("已报送待审核"),
        _("审核通过"),
        _("退回"),
        _("未报送"),
        _("报送率"),
        _("配合单位反馈（已反馈/应反馈）"),
    ]
    warn = mark_safe(' class="overdue"')
    lines = []
    for row, total in [*((row, False) for row in reporting.agencies), (reporting.total, True)]:
        label = format_html("<strong>{}</strong>", _("合计")) if total else row.label
        cells = format_html(
            '<td data-label="{}">{}</td>\n  <td data-label="{}">{}</td>\n  <td data-label="{}">{}</td>\n'
            '  <td data-label="{}">{}</td>\n  <td data-label="{}"{}>{}</td>\n  <td data-label="{}"{}>{}</td>\n'
            '  <td data-label="{}">{}</td>\n  <td data-label="{}">{}</td>',
            labels[0],
            label,
            labels[1],
            row.due,
            labels[2],
            row.submitted,
            labels[3],
            row.accepted,
            labels[4],
            warn if row.returned else "",
            row.returned,
            labels[5],
            warn if row.not_submitted else "",
            row.not_submitted,
            labels[6],
            "—" if row.rate is None else f"{row.rate}%",
            labels[7],
            f"{row.inputs_submitted} / {row.inputs_due}" if row.inputs_due else "—",
        )
        lines.append(format_html("<tr{}>\n  {}\n</tr>", mark_safe(' class="total"') if total else "", cells))
    return mark_safe("".join(lines))  # each line made by format_html, escaped
