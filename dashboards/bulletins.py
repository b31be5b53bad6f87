"""The bulletin (通报) of one plan and reporting period: its sections drafted from the data,
editing, re-drafting, and issuing — a number in the bureau's series taken under a row lock,
the data frozen, the .docx rendered from a replaceable template and kept. The one place a
Bulletin is written; the pages (dashboards.bulletin_views) call these.

What is drafted, and from where:
- the period is one of the plan's reporting cycles (workplans.cycles), compared with the
  cycle before it;
- overall figures are as of the drafting day, over the whole plan (a bulletin is the
  office's document about a plan, so only a supervisor whose scope covers every task of
  the plan may draft one); the comparison reads the plan's rollup snapshot of the last day
  of the compared period (dashboards.rollup, the nightly job), or the latest one inside
  that period; with none there, the bulletin says there is nothing to compare with rather
  than invent a figure;
- reporting is the period's: a lead agency's task "reported on time" when its report for
  the period (supervision.models.PeriodReport) was first submitted by the due day; a task
  owes the period's report unless it was finished before the period began; the compared
  period's rate is computed the same way (from the reports, which are kept), inside the
  plan year only;
- the ranking: agencies leading tasks, by their score (assessment.services.standings,
  when the plan has a scheme), then completion (mean percent of the tasks they lead), then
  on-time reporting;
- red and amber tasks with the reason tasks.risk gives; open 督办单; indicators missed
  (indicators.services.attained), values through indicators.units.with_unit.
"""

from __future__ import annotations

import datetime
import decimal
import re
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from assessment.rules import points_text
from assessment.services import standings
from audit.choices import EventType
from audit.services import record
from core import documents, programs
from core.roles import Role
from core.spreadsheets import clean_text
from dashboards.exports.base import indicators_queryset
from dashboards.exports.bulletin import bulletin_figures
from dashboards.exports.notices import NoticeLine, export_notices
from dashboards.models import Bulletin, BulletinCounter, BulletinState, Snapshot, SnapshotScope
from escalation.choices import OPEN_NOTICE_STATES, RANK, Level
from indicators.services import attained, target_text
from indicators.units import with_unit
from supervision.models import PeriodReport
from tasks.choices import FINISHED, OwnerRole, TaskStatus
from tasks.models import Task, TaskOwner
from tasks.risk import Risk, risk_annotation, task_risk
from workplans.cycles import Cycle, cycle_for, previous_cycle
from workplans.models import Plan

DEFAULT_TEMPLATE = Path(__file__).resolve().parent / "docx" / "bulletin.docx"
# A list section prints at most this many lines, then says how many more there are.
LIST_MAX = 300
TEXT_MAX = 20000
PDF_TIME_LIMIT = 90
CONTENT_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}
_UNSAFE_IN_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')
_LINE_BREAKS = re.compile(r"\r\n|\r|\n")
ONE_PLACE = decimal.Decimal("0.1")


class StaleBulletin(Exception):
    """The bulletin changed (edited, re-drafted or issued) since the page was loaded."""

    def __init__(self):
        super().__init__(_("该通报已被他人修改或已印发，请刷新页面后查看最新内容再操作。"))


class BulletinTemplateError(Exception):
    """The template is missing, not a .docx, or its Jinja does not run; a message for users."""


class PdfUnavailable(Exception):
    """LibreOffice could not make the PDF; a message for users, who can still take the .docx."""


def issuing_office() -> str:
    return settings.BULLETIN_ISSUING_OFFICE or settings.ESCALATION_ISSUING_OFFICE


def number_text(series: str, year: int, seq: int) -> str:
    return settings.BULLETIN_NUMBER_FORMAT.format(series=series, year=year, seq=seq)


# --- Periods ------------------------------------------------------------------------------


def periods_of(plan: Plan, today: datetime.date) -> list[Cycle]:
    """The plan year's reporting cycles up to the one holding `today`, newest first."""
    last_day = min(today, datetime.date(plan.year, 12, 31))
    if last_day.year < plan.year:
        return []
    cycles: list[Cycle] = []
    cycle = cycle_for(plan.reporting_cycle, plan.report_due_day, last_day)
    while cycle.start.year == plan.year:
        cycles.append(cycle)
        cycle = previous_cycle(cycle, plan.reporting_cycle, plan.report_due_day)
    return cycles


def default_period(plan: Plan, today: datetime.date) -> Cycle | None:
    """The last cycle that has ended (what a bulletin usually reports), else the current one."""
    cycles = periods_of(plan, today)
    ended = [cycle for cycle in cycles if cycle.end < today]
    return next(iter(ended or cycles), None)


def compared_with(plan: Plan, period: Cycle) -> Cycle:
    return previous_cycle(period, plan.reporting_cycle, plan.report_due_day)


def period_by_start(plan: Plan, start: datetime.date, today: datetime.date) -> Cycle | None:
    return next((cycle for cycle in periods_of(plan, today) if cycle.start == start), None)


# --- Who may do what ----------------------------------------------------------------------


def may_draft(user, plan: Plan) -> bool:
    """A supervisor whose scope covers every task of the (published) plan. Two queries."""
    if not (user.is_authenticated and user.is_active and user.role == Role.SUPERVISOR):
        return False
    if not Plan.objects.visible_to(user).filter(pk=plan.pk).exists():
        return False
    visible = Task.objects.visible_to(user).filter(plan=plan).values("pk")
    return not Task.objects.filter(plan=plan).exclude(pk__in=visible).exists()


def may_edit(user, bulletin: Bulletin) -> bool:
    """The supervision office edits and issues the drafts it sees (its plans')."""
    return (
        user.is_authenticated
        and user.role == Role.SUPERVISOR
        and bulletin.state == BulletinState.DRAFT
        and Bulletin.objects.visible_to(user).filter(pk=bulletin.pk).exists()
    )


# --- Drafting the data ----------------------------------------------------------------------


def _iso(day: datetime.date | None) -> str | None:
    return day.isoformat() if day else None


def cn_date(day: datetime.date) -> str:
    return _("%(year)d年%(month)d月%(day)d日") % {"year": day.year, "month": day.month, "day": day.day}


def _one_place(value) -> decimal.Decimal:
    return decimal.Decimal(value).quantize(ONE_PLACE, rounding=decimal.ROUND_HALF_UP)


def _rate(part: int, whole: int) -> str | None:
    return str(_one_place(decimal.Decimal(100 * part) / whole)) if whole else None


def _task_label(number: str, heading: str) -> str:
    return f"{number}. {heading}" if number else heading


def owes_report_q(period: Cycle) -> Q:
    """Tasks that owe `period`'s report: all but those finished before it began."""
    return ~Q(status__in=FINISHED) | Q(completed_on__gte=period.start)


def _report_exists(period: Cycle, *, late: bool) -> Exists:
    """A report for `period` first submitted on time (late=False) or after the due day."""
    return Exists(
        PeriodReport.objects.filter(task=OuterRef("pk"), period_start=period.start, revision__gte=1, late=late)
    )


def reporting(plan: Plan, period: Cycle) -> dict[int, dict]:
    """Per lead agency: tasks owing `period`'s report (due), reported on time, late. One query."""
    owing = Task.objects.filter(plan=plan).filter(owes_report_q(period)).order_by()
    rows = (
        owing.filter(task_owners__role=OwnerRole.LEAD)
        .values("task_owners__agency_id")
        .annotate(
            due=Count("pk"),
            on_time=Count("pk", filter=Q(_report_exists(period, late=False))),
            late=Count("pk", filter=Q(_report_exists(period, late=True))),
        )
    )
    return {
        row["task_owners__agency_id"]: {"due": row["due"], "on_time": row["on_time"], "late": row["late"]}
        for row in rows
    }


def _reporting_total(per_agency: dict[int, dict]) -> dict:
    due = sum(row["due"] for row in per_agency.values())
    on_time = sum(row["on_time"] for row in per_agency.values())
    late = sum(row["late"] for row in per_agency.values())
    return {"due": due, "on_time": on_time, "late": late, "missing": due - on_time - late, "rate": _rate(on_time, due)}


def unreported(plan: Plan, period: Cycle) -> list[dict]:
    """The agencies leading tasks whose report for `period` was not submitted by its due day
    (none, or late), each with those tasks; by the agency's order. One query."""
    rows = (
        Task.objects.filter(plan=plan, task_owners__role=OwnerRole.LEAD)
        .filter(owes_report_q(period))
        .alias(on_time=_report_exists(period, late=False))
        .filter(on_time=False)
        .annotate(late=_report_exists(period, late=True))
        .values(
            "number",
            "heading",
            "late",
            "task_owners__agency_id",
            "task_owners__agency__name",
            "task_owners__agency__order",
        )
        .order_by("task_owners__agency__order", "task_owners__agency__name", "order", "id")
    )
    agencies: dict[int, dict] = {}
    for row in rows:
        agency = agencies.setdefault(
            row["task_owners__agency_id"],
            {"agency": row["task_owners__agency__name"], "missing": 0, "late": 0, "tasks": []},
        )
        agency["late" if row["late"] else "missing"] += 1
        label = _task_label(row["number"], row["heading"])
        agency["tasks"].append(_("%(task)s（逾期报送）") % {"task": label} if row["late"] else label)
    return list(agencies.values())


def ranking(plan: Plan, period: Cycle, per_agency: dict[int, dict], today: datetime.date) -> list[dict]:
    """The lead agencies ranked: score (when the plan has a scheme), completion, on-time
    reporting; equal keys share a rank. Two queries and the standings'."""
    rows = (
        TaskOwner.objects.filter(task__plan=plan, role=OwnerRole.LEAD)
        .values("agency_id", "agency__name", "agency__order")
        .annotate(
            tasks=Count("task_id"),
            percent_sum=Sum("task__percent"),
            done=Count("task_id", filter=Q(task__status__in=FINISHED)),
        )
        .order_by()
    )
    lines = []
    for row in rows:
        reported = per_agency.get(row["agency_id"], {"due": 0, "on_time": 0})
        lines.append(
            {
                "agency_id": row["agency_id"],
                "agency": row["agency__name"],
                "order": row["agency__order"],
                "tasks": row["tasks"],
                "done": row["done"],
                "completion": str(_one_place(decimal.Decimal(row["percent_sum"] or 0) / row["tasks"])),
                "report_due": reported["due"],
                "on_time": reported["on_time"],
                "on_time_rate": _rate(reported["on_time"], reported["due"]),
                "score": None,
            }
        )
    scores = {s.agency_id: s.points for s in standings(plan, until=today, agency_ids={r["agency_id"] for r in lines})}
    for line in lines:
        if line["agency_id"] in scores:
            line["score"] = points_text(scores[line["agency_id"]])

    def key(line: dict) -> tuple:
        score = decimal.Decimal(line["score"]) if line["score"] is not None else decimal.Decimal("-1e9")
        rate = decimal.Decimal(line["on_time_rate"]) if line["on_time_rate"] is not None else decimal.Decimal(-1)
        return (-score, -decimal.Decimal(line["completion"]), -rate)

    lines.sort(key=lambda line: (key(line), line["order"], line["agency"]))
    previous, rank = None, 0
    for position, line in enumerate(lines, start=1):
        if key(line) != previous:
            rank, previous = position, key(line)
        line["rank"] = rank
    return lines


def _risk_lists(plan: Plan, today: datetime.date) -> dict[str, list[dict]]:
    """Red and amber tasks with their reasons (tasks.risk), by due date. One query and a prefetch."""
    leads = Prefetch(
        "task_owners",
        queryset=TaskOwner.objects.filter(role=OwnerRole.LEAD).select_related("agency"),
        to_attr="leads",
    )
    tasks = (
        Task.objects.filter(plan=plan)
        .alias(risk=risk_annotation(today))
        .filter(risk__in=(Risk.RED, Risk.AMBER))
        .select_related("plan")
        .defer("text", "search_text")
        .prefetch_related(leads)
        .order_by("due_on", "order", "id")
    )
    found: dict[str, list[dict]] = {Risk.RED: [], Risk.AMBER: []}
    for task in tasks:
        mark, reason = task_risk(task, today)
        if mark in found:
            found[mark].append(
                {
                    "task": str(task),
                    "agency": "、".join(owner.agency.name for owner in task.leads),
                    "percent": task.percent,
                    "due_on": task.due_on.isoformat(),
                    "reason": reason,
                }
            )
    return {"red": found[Risk.RED], "amber": found[Risk.AMBER]}


def _notice_situation(line: NoticeLine, today: datetime.date) -> str:
    lateness = line.lateness(today)
    return f"{line.state_label}，{lateness}" if lateness else line.state_label


def _open_notices(plan: Plan, today: datetime.date) -> dict:
    lines = export_notices(Task.objects.filter(plan=plan), Q(state__in=OPEN_NOTICE_STATES))
    lines.sort(key=lambda line: (-RANK[Level(line.level)], line.agency_order, line.agency_name, line.issued_on))
    return {
        "count": len(lines),
        **{level: sum(1 for line in lines if line.level == level) for level in Level.values},
        "overdue": sum(1 for line in lines if line.unanswered_late(today)),
        "items": [
            {
                "number": line.number,
                "level": line.level_label,
                "agency": line.agency_name,
                "task": line.task_label,
                "reply_due_on": line.reply_due_on.isoformat(),
                "situation": _notice_situation(line, today),
            }
            for line in lines
        ],
    }


def _missed_indicators(indicators: list, leads: dict[int, str]) -> list[dict]:
    return [
        {
            "name": indicator.name,
            "task": str(indicator.task) if indicator.task_id else "",
            "agency": leads.get(indicator.task_id, ""),
            "target": target_text(indicator),
            "value": with_unit(indicator.latest_value, indicator.unit),
            "as_of": _iso(indicator.latest_as_of),
        }
        for indicator in indicators
        if attained(indicator.comparator, indicator.target, indicator.latest_value) is False
    ]


def _change(now, before, *, points: bool = False) -> str:
    """+3.2 个百分点 / -2 项 / 持平."""
    difference = decimal.Decimal(str(now)) - decimal.Decimal(str(before))
    if difference == 0:
        return _("持平")
    sign = "+" if difference > 0 else "-"
    amount = _one_place(abs(difference)) if points else int(abs(difference))
    if points:
        return _("%(sign)s%(amount)s 个百分点") % {"sign": sign, "amount": amount}
    return _("%(sign)s%(amount)s 项") % {"sign": sign, "amount": amount}


def comparison(plan: Plan, compared: Cycle, overall: dict, report_now: dict, report_before: dict | None) -> dict:
    """Now against the compared period's end: the plan snapshot of its last day, else its
    latest one inside that period; with none, `available` is False and `note` says why."""
    snapshot = (
        Snapshot.objects.filter(scope=SnapshotScope.PLAN, plan=plan, day__gte=compared.start, day__lte=compared.end)
        .order_by("-day")
        .first()
    )
    rows = []
    if snapshot is not None:
        mean_before = _one_place(snapshot.mean_percent)
        rows.append(
            [
                _("平均完成进度"),
                f"{overall['mean_percent']}%",
                f"{mean_before}%",
                _change(overall["mean_percent"], mean_before, points=True),
            ]
        )
        counts = (
            (_("已完成（含销号）"), overall["done"], snapshot.done + snapshot.closed),
            (_("逾期未完成"), overall["overdue"], snapshot.overdue),
            (_("黄色预警"), overall["amber"], snapshot.at_risk),
            (_("指标已达标"), overall["indicators_met"], snapshot.indicators_met),
        )
        rows += [[label, str(now), str(before), _change(now, before)] for label, now, before in counts]
    if report_before is not None and report_now["rate"] is not None and report_before["rate"] is not None:
        rows.append(
            [
                _("按时报送率"),
                f"{report_now['rate']}%",
                f"{report_before['rate']}%",
                _change(report_now["rate"], report_before["rate"], points=True),
            ]
        )
    if snapshot is not None:
        note = _("上期数据取自%(day)s的进展快照。") % {"day": cn_date(snapshot.day)}
    else:
        note = _("上期（%(label)s）末无进展快照，进度类指标不作比较。") % {"label": compared.label}
    return {
        "available": bool(rows),
        "snapshot_day": _iso(snapshot.day) if snapshot else None,
        "mean_percent_change": rows[0][3] if snapshot is not None else None,
        "note": note,
        "rows": rows,
    }


def draft_data(plan: Plan, period: Cycle, compared: Cycle, today: datetime.date) -> dict:
    """Every section of the bulletin, as JSON (what is kept, and frozen at issue)."""
    tasks = Task.objects.filter(plan=plan)
    indicators = list(indicators_queryset().filter(plan=plan).select_related("task"))
    figures = bulletin_figures(tasks, indicators, today)
    done = sum(
        n for value, (label, n) in zip(TaskStatus.values, figures["by_status"], strict=True) if value in FINISHED
    )
    overall = {
        "tasks": figures["tasks"],
        "by_status": [[label, n] for label, n in figures["by_status"]],
        "mean_percent": str(figures["mean_percent"]),
        "done": done,
        "overdue": figures["overdue"],
        "red": figures["red"],
        "amber": figures["amber"],
        "indicators": figures["indicators"],
        "indicators_met": figures["indicators_met"],
        "indicators_missed": figures["indicators_missed"],
        "indicators_unreported": figures["indicators_unreported"],
    }
    per_agency = reporting(plan, period)
    report_now = _reporting_total(per_agency)
    report_before = _reporting_total(reporting(plan, compared)) if compared.start.year == plan.year else None
    leads = dict(TaskOwner.objects.filter(task__plan=plan, role=OwnerRole.LEAD).values_list("task_id", "agency__name"))
    notices = _open_notices(plan, today)
    data = {
        "as_of": today.isoformat(),
        "plan": plan.title,
        "period": {
            "label": period.label,
            "start": _iso(period.start),
            "end": _iso(period.end),
            "due_on": _iso(period.due_on),
        },
        "compared": {"label": compared.label, "start": _iso(compared.start), "end": _iso(compared.end)},
        "overall": overall,
        "reporting": report_now,
        "reporting_before": report_before,
        "comparison": comparison(plan, compared, overall, report_now, report_before),
        "ranking": ranking(plan, period, per_agency, today),
        "unreported": unreported(plan, period),
        **_risk_lists(plan, today),
        "notices": notices,
        "indicators_missed": _missed_indicators(indicators, leads),
    }
    data["summary"] = summary_text(data, period)
    return data


def summary_text(data: dict, period: Cycle) -> str:
    """The opening paragraph, written from the figures (the supervisor may rewrite it)."""
    overall, report = data["overall"], data["reporting"]
    statuses = "、".join(
        _("%(status)s%(count)d项") % {"status": label, "count": n} for label, n in overall["by_status"] if n
    )
    text = _("截至%(day)s，%(plan)s纳入督办的工作任务共%(tasks)d项%(statuses)s，平均完成进度%(mean)s%%") % {
        "day": cn_date(datetime.date.fromisoformat(data["as_of"])),
        "plan": data["plan"],
        "tasks": overall["tasks"],
        "statuses": (_("，其中%(statuses)s") % {"statuses": statuses}) if statuses else "",
        "mean": overall["mean_percent"],
    }
    change = data["comparison"]["mean_percent_change"]
    if change:
        text += _("，较上期末%(change)s") % {"change": change}
    text += _("。逾期未完成%(overdue)d项，红色预警%(red)d项，黄色预警%(amber)d项。") % overall
    if report["due"]:
        text += _(
            "%(period)s应报送%(due)d项，按时报送%(on_time)d项，逾期报送%(late)d项，未报送%(missing)d项，按时报送率%(rate)s%%"
        ) % {**report, "period": period.label}
        before = data["reporting_before"]
        if before and before["rate"] is not None:
            text += _("（上期%(rate)s%%）") % before
        text += _("；%(count)d个单位存在未按时报送情况。") % {"count": len(data["unreported"])}
    if data["notices"]["count"]:
        text += _("在办督办单%(count)d件，其中逾期未反馈%(overdue)d件。") % data["notices"]
    if overall["indicators"]:
        text += _("量化指标%(indicators)d项，已达标%(indicators_met)d项，未达标%(indicators_missed)d项。") % overall
    return text


def default_title(plan: Plan, period: Cycle) -> str:
    return _("关于%(plan)s推进情况的通报（%(period)s）") % {"plan": plan.title, "period": period.label}


# --- Writing ----------------------------------------------------------------------------------


def _audit(event: EventType, bulletin: Bulletin, user, **detail) -> None:
    """One audit event naming who acted (also from a job or the shell, with no request)."""
    record(event, user=user, obj=bulletin, object_repr=str(bulletin)[:200], detail={"plan": bulletin.plan_id, **detail})


def create_draft(plan: Plan, period: Cycle, user, *, today: datetime.date | None = None) -> Bulletin:
    """A new draft of `plan`'s bulletin for `period`, drafted from today's data."""
    today = today or timezone.localdate()
    if not may_draft(user, plan):
        raise PermissionDenied(_("只有权限范围覆盖该计划全部任务的督查专员可以起草通报。"))
    compared = compared_with(plan, period)
    with transaction.atomic():
        data = draft_data(plan, period, compared, today)
        bulletin = Bulletin.objects.create(
            plan=plan,
            year=plan.year,
            period_start=period.start,
            period_end=period.end,
            period_due_on=period.due_on,
            period_label=period.label,
            compared_start=compared.start,
            compared_end=compared.end,
            compared_label=compared.label,
            title=default_title(plan, period)[:200],
            summary=data["summary"],
            data=data,
            drafted_at=timezone.now(),
            drafted_by=user,
        )
        _audit(EventType.CREATE, bulletin, user, period=period.label, as_of=data["as_of"])
    return bulletin


def _lock(bulletin_id: int, user, version: int) -> Bulletin:
    """The draft, locked, if `user` may change it and nobody has since `version`."""
    bulletin = Bulletin.objects.select_for_update().select_related("plan").get(pk=bulletin_id)
    if not (user.role == Role.SUPERVISOR and Bulletin.objects.visible_to(user).filter(pk=bulletin.pk).exists()):
        raise PermissionDenied(_("只有督查专员可以修改和印发通报。"))
    if bulletin.version != version:
        raise StaleBulletin
    if bulletin.state != BulletinState.DRAFT:
        raise ValidationError(_("该通报已印发，不能再修改。"))
    return bulletin


def _clean(text: str) -> str:
    return clean_text(text or "", TEXT_MAX).strip()


def edit(bulletin_id: int, user, *, version: int, title: str, summary: str, next_steps: str) -> Bulletin:
    with transaction.atomic():
        bulletin = _lock(bulletin_id, user, version)
        values = {"title": _clean(title)[:200], "summary": _clean(summary), "next_steps": _clean(next_steps)}
        if not values["title"]:
            raise ValidationError({"title": [_("请填写标题。")]})
        changed = [field for field, value in values.items() if getattr(bulletin, field) != value]
        for field, value in values.items():
            setattr(bulletin, field, value)
        bulletin.version += 1
        bulletin.save(update_fields=[*values, "version", "updated_at"])
        _audit(EventType.UPDATE, bulletin, user, changed=changed, version=bulletin.version)
    return bulletin


def redraft(bulletin_id: int, user, *, version: int, today: datetime.date | None = None) -> tuple[Bulletin, bool]:
    """Draft the data again from today's figures. The opening summary is rewritten too unless
    the supervisor has changed it (then it stays, and the second value is False)."""
    today = today or timezone.localdate()
    with transaction.atomic():
        bulletin = _lock(bulletin_id, user, version)
        plan = bulletin.plan
        period = cycle_for(plan.reporting_cycle, plan.report_due_day, bulletin.period_start)
        compared = compared_with(plan, period)
        untouched = bulletin.summary == bulletin.data.get("summary")
        bulletin.data = draft_data(plan, period, compared, today)
        if untouched:
            bulletin.summary = bulletin.data["summary"]
        bulletin.drafted_at = timezone.now()
        bulletin.version += 1
        bulletin.save(update_fields=["data", "summary", "drafted_at", "version", "updated_at"])
        _audit(
            EventType.UPDATE, bulletin, user, redrafted=True, as_of=bulletin.data["as_of"], summary_rewritten=untouched
        )
    return bulletin, untouched


def lock_counter(year: int) -> BulletinCounter:
    series = settings.BULLETIN_NUMBER_SERIES
    BulletinCounter.objects.bulk_create([BulletinCounter(series=series, year=year)], ignore_conflicts=True)
    return BulletinCounter.objects.select_for_update().get(series=series, year=year)


def issue(bulletin_id: int, user, *, version: int) -> Bulletin:
    """Number the draft in the year's series (under the counter's row lock: no gaps, no
    repeats), render its .docx and keep it; from then on it never changes. A template that
    will not render refuses the issue and takes no number."""
    with transaction.atomic():
        bulletin = _lock(bulletin_id, user, version)
        if not bulletin.next_steps.strip():
            raise ValidationError({"next_steps": [_("请填写“下步要求”后再印发。")]})
        now = timezone.now()
        counter = lock_counter(timezone.localtime(now).year)
        counter.last += 1
        counter.save(update_fields=["last"])
        bulletin.series, bulletin.number_year, bulletin.seq = counter.series, counter.year, counter.last
        bulletin.number = number_text(counter.series, counter.year, counter.last)
        bulletin.state = BulletinState.ISSUED
        bulletin.issued_by, bulletin.issued_at = user, now
        bulletin.version += 1
        try:
            content = render_docx(bulletin)
        except BulletinTemplateError as refused:
            raise ValidationError(str(refused)) from refused
        bulletin.docx.save(filename(bulletin, "docx"), ContentFile(content), save=False)
        bulletin.save()
        _audit(
            EventType.TRANSITION,
            bulletin,
            user,
            action="issue",
            before=BulletinState.DRAFT,
            after=BulletinState.ISSUED,
            number=bulletin.number,
        )
    return bulletin


# --- The document ------------------------------------------------------------------------------


def _line(value) -> str:
    return " ".join(clean_text(value or "", TEXT_MAX).split())


def _paragraphs(value) -> str:
    """Multi-line text as docxtpl paragraphs ("\\a" between them), blank lines dropped, each
    line trimmed (also of the full-width spaces people indent with: the template indents)."""
    lines = (line.strip().strip("\u3000") for line in _LINE_BREAKS.split(clean_text(value or "", TEXT_MAX)))
    return "\a".join(line.replace("\t", " ") for line in lines if line)


def _percent(value) -> str:
    return "—" if value is None else f"{value}%"


def _capped(items: list) -> tuple[list, str]:
    """At most LIST_MAX items, and a note of how many more there are."""
    if len(items) <= LIST_MAX:
        return items, ""
    return items[:LIST_MAX], _("（另有%(count)d项未列出）") % {"count": len(items) - LIST_MAX}


def document_context(bulletin: Bulletin) -> dict:
    """The template's variables (all text; lists of dicts of text):

    office, number (empty for a draft), draft (bool), title, plan, period, compared,
    as_of and issued_on ("2026年4月10日"), summary and next_steps (one paragraph per line),
    comparison_note, comparison (rows: item, now, before, change), ranking (rank, agency,
    tasks, completion, on_time_rate, score), has_scores, unreported (agency, missing,
    late, tasks), unreported_text, red and amber (n, task, agency, percent, due_on,
    reason), notices (n, number, level, agency, task, reply_due_on, situation),
    notices_text, indicators (n, name, agency, target, value, as_of), more_* notes."""
    data = bulletin.data
    as_of = datetime.date.fromisoformat(data["as_of"])
    issued_on = timezone.localtime(bulletin.issued_at).date() if bulletin.issued_at else None
    report = data["reporting"]
    ranking_rows = [
        {
            "rank": str(line["rank"]),
            "agency": _line(line["agency"]),
            "tasks": str(line["tasks"]),
            "completion": _percent(line["completion"]),
            "on_time_rate": _percent(line["on_time_rate"]),
            "score": line["score"] if line["score"] is not None else "—",
        }
        for line in data["ranking"]
    ]
    unreported_rows = [
        {
            "agency": _line(line["agency"]),
            "missing": str(line["missing"]),
            "late": str(line["late"]),
            "tasks": _line("；".join(line["tasks"])),
        }
        for line in data["unreported"]
    ]
    red, more_red = _capped(data["red"])
    amber, more_amber = _capped(data["amber"])

    def risk_rows(items):
        return [
            {
                "n": str(n),
                "task": _line(item["task"]),
                "agency": _line(item["agency"]),
                "percent": f"{item['percent']}%",
                "due_on": item["due_on"],
                "reason": _line(item["reason"]),
            }
            for n, item in enumerate(items, start=1)
        ]

    notices = data["notices"]
    notice_items, more_notices = _capped(notices["items"])
    missed, more_missed = _capped(data["indicators_missed"])
    return {
        "office": _line(issuing_office()),
        "number": _line(bulletin.number),
        "draft": bulletin.state == BulletinState.DRAFT,
        "title": _line(bulletin.title),
        "plan": _line(data["plan"]),
        "period": _line(bulletin.period_label),
        "compared": _line(bulletin.compared_label),
        "as_of": cn_date(as_of),
        "issued_on": cn_date(issued_on) if issued_on else "",
        "summary": _paragraphs(bulletin.summary),
        "next_steps": _paragraphs(bulletin.next_steps),
        "comparison_note": _line(data["comparison"]["note"]),
        "comparison": [
            {"item": row[0], "now": row[1], "before": row[2], "change": row[3]} for row in data["comparison"]["rows"]
        ],
        "ranking": ranking_rows,
        "has_scores": any(line["score"] is not None for line in data["ranking"]),
        "unreported": unreported_rows,
        "unreported_text": (
            _("%(period)s应报送%(due)d项，按时报送%(on_time)d项，逾期报送%(late)d项，未报送%(missing)d项。")
            % {**report, "period": bulletin.period_label}
        ),
        "red": risk_rows(red),
        "amber": risk_rows(amber),
        "more_red": more_red,
        "more_amber": more_amber,
        "notices": [
            {"n": str(n), **{key: _line(value) for key, value in item.items()}}
            for n, item in enumerate(notice_items, start=1)
        ],
        "more_notices": more_notices,
        "notices_text": _(
            "截至%(day)s，在办督办单%(count)d件，其中红色%(red)d件、黄色%(yellow)d件、蓝色%(blue)d件，逾期未反馈%(overdue)d件。"
        )
        % {**notices, "day": cn_date(as_of)},
        "indicators": [
            {
                "n": str(n),
                "name": _line(item["name"]),
                "agency": _line(item["agency"]),
                "target": _line(item["target"]),
                "value": _line(item["value"]),
                "as_of": item["as_of"] or "—",
            }
            for n, item in enumerate(missed, start=1)
        ],
        "more_indicators": more_missed,
    }


def template_path() -> Path:
    """settings.BULLETIN_TEMPLATE (relative: to the project's folder), else ours."""
    return documents.template_file(settings.BULLETIN_TEMPLATE, DEFAULT_TEMPLATE)


def render_docx(bulletin: Bulletin) -> bytes:
    """The bulletin as a .docx from template_path() (core.documents: escaped, sandboxed);
    BulletinTemplateError when it will not do."""
    path = template_path()
    try:
        return documents.render_docx(path, document_context(bulletin))
    except documents.TemplateFailed as failed:
        if failed.reason == documents.MISSING:
            message = _("找不到通报模板文件：%(path)s，请检查 BULLETIN_TEMPLATE 设置") % {"path": path}
        elif failed.reason == documents.NOT_DOCX:
            message = _("通报模板不是有效的 Word 文档（.docx）：%(path)s") % {"path": path}
        else:
            message = _("通报模板中的填充标记有误（%(error)s），请修改模板：%(path)s") % {
                "error": failed.error,
                "path": path,
            }
        raise BulletinTemplateError(message) from failed


def docx_content(bulletin: Bulletin) -> bytes:
    """An issued bulletin's kept file (never rendered again); a draft's preview, rendered now."""
    if bulletin.state == BulletinState.ISSUED and bulletin.docx:
        with bulletin.docx.open("rb") as handle:
            return handle.read()
    return render_docx(bulletin)


def pdf_available() -> bool:
    return programs.office_available()


def render_pdf(bulletin: Bulletin) -> bytes | None:
    """The bulletin's .docx converted by LibreOffice (core.programs.office_to_pdf); None where
    it is not installed, PdfUnavailable when the conversion fails or runs past PDF_TIME_LIMIT."""
    if not programs.office_available():
        return None
    try:
        return programs.office_to_pdf(docx_content(bulletin), "bulletin.docx", PDF_TIME_LIMIT)
    except programs.ProgramFailed as failed:
        if failed.reason == programs.TIMEOUT:
            raise PdfUnavailable(
                _("生成通报 PDF 超时（超过 %(seconds)d 秒），请下载 Word 版（.docx）") % {"seconds": PDF_TIME_LIMIT}
            ) from failed
        raise PdfUnavailable(_("LibreOffice 未能生成通报 PDF，请下载 Word 版（.docx）")) from failed


def filename(bulletin: Bulletin, ext: str) -> str:
    """ "督查通报〔2026〕3期-关于….docx"; a draft's "通报（草稿）-….docx"."""
    stem = bulletin.number or _("通报（草稿）")
    name = _UNSAFE_IN_NAME.sub("_", f"{stem}-{bulletin.title}").strip(" .")[:120]
    return f"{name}.{ext}"


def plans_to_draft(user) -> Iterable[Plan]:
    """The published plans a supervisor sees, newest year first (may_draft checks coverage)."""
    return Plan.objects.visible_to(user).published().order_by("-year", "title", "pk")
