"""The facts a 督办单 states about its task, filled in from the data (基本情况): progress,
due date and days late (calendar and working days), points behind the year's pace
(tasks.risk), missed indicators, and what the ladder saw (a milestone due, a report late).
Written in the site's language; the figures are kept beside the text (Notice.facts_data)."""

import datetime

from django.utils.translation import gettext as _

from indicators.units import plain_number, with_unit
from supervision.progress import missed_among, missed_indicators
from tasks.risk import points_behind
from workdays.services import working_days_between


def _day(day: datetime.date) -> str:
    return _("%(year)d年%(month)d月%(day)d日") % {"year": day.year, "month": day.month, "day": day.day}


def figures(task, today: datetime.date, *, indicators=None, late_memo: dict | None = None) -> dict:
    """The figures of `task` on `today` (its plan loaded). `indicators`: the task's, with
    their latest reading (with_latest_reading), when the caller loaded many tasks' at once;
    `late_memo`: working days late per due date, shared across a batch."""
    late = (today - task.due_on).days
    if late > 0:
        memo = late_memo if late_memo is not None else {}
        if task.due_on not in memo:
            memo[task.due_on] = working_days_between(task.due_on, today)
        working_late = memo[task.due_on]
    else:
        working_late = 0
    missed = missed_indicators(task, today=today) if indicators is None else missed_among(indicators)
    data = {
        "as_of": today.isoformat(),
        "status": task.status,
        "status_label": str(task.get_status_display()),
        "percent": task.percent,
        "due_on": task.due_on.isoformat(),
        "days_late": max(late, 0),
        "working_days_late": max(working_late, 0),
        "points_behind": points_behind(task.plan.year, task.percent, today),
        "missed_indicators": [],
    }
    for indicator in missed:
        value = getattr(indicator, "latest_value", None)
        data["missed_indicators"].append(
            {
                "name": indicator.name,
                "target": plain_number(indicator.target),
                "comparator": indicator.get_comparator_display(),
                "value": None if value is None else plain_number(value),
                "unit": indicator.unit,
            }
        )
    return data


def text(data: dict, extra: list[str] | None = None) -> str:
    """The facts as the notice prints them."""
    as_of = datetime.date.fromisoformat(data["as_of"])
    due_on = datetime.date.fromisoformat(data["due_on"])
    lines = [
        _("截至%(day)s，该任务完成进度为%(percent)d%%（%(status)s），完成时限为%(due)s。")
        % {"day": _day(as_of), "percent": data["percent"], "status": data["status_label"], "due": _day(due_on)}
    ]
    if data["days_late"]:
        lines.append(
            _("已逾期%(days)d天（%(working)d个工作日）。")
            % {"days": data["days_late"], "working": data["working_days_late"]}
        )
    if data["points_behind"]:
        lines.append(_("落后时间进度%(points)d个百分点。") % {"points": data["points_behind"]})
    for item in data["missed_indicators"]:
        shown = {
            "name": item["name"],
            "comparator": item["comparator"],
            "target": with_unit(item["target"], item["unit"]),
            "value": with_unit(item["value"], item["unit"]),
        }
        if item["value"] is None:
            lines.append(_("指标“%(name)s”尚无填报值（目标%(comparator)s%(target)s）。") % shown)
        else:
            lines.append(_("指标“%(name)s”最新值为%(value)s，未达到目标（%(comparator)s%(target)s）。") % shown)
    lines.extend(extra or [])
    return "\n".join(lines)


def milestone_line(milestone_text: str, due_on: datetime.date) -> str:
    return _("时间节点“%(text)s”将于%(day)s到期，尚未完成。") % {"text": milestone_text[:80], "day": _day(due_on)}


def report_line(period_label: str, due_on: datetime.date) -> str:
    return _("%(period)s进展应于%(day)s前报送，至今未报送。") % {"period": period_label, "day": _day(due_on)}


def ignored_line(number: str, due_on: datetime.date) -> str:
    return _("督办单%(number)s要求于%(day)s前反馈，逾期未反馈。") % {"number": number, "day": _day(due_on)}
