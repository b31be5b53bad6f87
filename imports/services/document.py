"""The parse document made safe to write, and every problem that blocks an import, in Chinese."""

from __future__ import annotations

import copy
import datetime
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from accounts.matching import AgencyMatcher
from imports.services.common import (
    AGENCY_NAME_MAX,
    CREATE_AGENCY,
    DOC_NUMBER_MAX,
    INDICATOR_NAME_MAX,
    INDICATOR_UNIT_MAX,
    MILESTONE_TEXT_MAX,
    SECTION_LABEL_MAX,
    SECTION_TITLE_MAX,
    SKIP_AGENCY,
    TARGET_LIMIT,
    TARGET_QUANTUM,
    TASK_HEADING_MAX,
    TASK_NUMBER_MAX,
    TITLE_MAX,
    create_parent,
    group_ids,
)
from indicators.choices import Comparator
from workplans.models import MAX_YEAR, MIN_YEAR


@dataclass(frozen=True)
class Problem:
    """Something that blocks the import; `task` is the task's index when it is about one."""

    message: str
    task: int | None = None

    def __str__(self):
        return self.message


class ImportRefused(Exception):
    """The document or the mapping cannot be imported as it stands; nothing was written."""

    def __init__(self, problems):
        self.problems = [p if isinstance(p, Problem) else Problem(str(p)) for p in problems]
        super().__init__(_("；").join(p.message for p in self.problems))


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _date_or_none(value) -> datetime.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value).strip())


def normalise_document(doc: dict, *, year: int | None = None, title: str | None = None) -> dict:
    """A deep copy of `doc` in the exact shape the import writes: strings stripped, owners
    de-duplicated in order, missing keys filled. Invalid values are left for `check_document`."""
    doc = copy.deepcopy(doc or {})
    plan = doc.get("plan") or {}
    out_plan = {
        "title": _text(title if title is not None else plan.get("title")),
        "year": year if year is not None else plan.get("year"),
        "issuer": _text(plan.get("issuer")) or None,
        "doc_number": _text(plan.get("doc_number")) or None,
        "issued_on": _text(plan.get("issued_on")) or None,
    }
    if isinstance(out_plan["year"], str) and out_plan["year"].strip().isdigit():
        out_plan["year"] = int(out_plan["year"].strip())
    sections = []
    for section in doc.get("sections") or []:
        path = [_text(label) for label in section.get("path") or [] if _text(label)]
        if path:
            sections.append({"path": path, "title": _text(section.get("title"))[:SECTION_TITLE_MAX]})
    tasks = []
    for task in doc.get("tasks") or []:
        owners = []
        for owner in task.get("owners") or []:
            owner = _text(owner)
            if owner and owner not in owners:
                owners.append(owner)
        tasks.append(
            {
                "section": [_text(label) for label in task.get("section") or [] if _text(label)],
                "number": _text(task.get("number")) or None,
                "heading": _text(task.get("heading")),
                "text": _text(task.get("text")),
                "owners": owners,
                "milestones": [
                    {"due": _text(m.get("due")) or None, "text": _text(m.get("text"))}
                    for m in task.get("milestones") or []
                ],
                "indicators": [
                    {
                        "name": _text(i.get("name")),
                        "comparator": _text(i.get("comparator")) or Comparator.AT_LEAST,
                        "target": i.get("target"),
                        "unit": _text(i.get("unit")),
                        "due": _text(i.get("due")) or None,
                        **_why(i, "source"),
                    }
                    for i in task.get("indicators") or []
                ],
                **_why(task),
                **_owner_details(task),
            }
        )
    out = {"plan": out_plan, "sections": sections, "tasks": tasks, "warnings": list(doc.get("warnings") or [])}
    # What the parser says about its own reading, for the preview; the import writes none of it.
    if doc.get("dropped"):
        out["dropped"] = [
            {"line": d.get("line"), "reason": _text(d.get("reason")), "text": _text(d.get("text"))}
            for d in doc["dropped"]
            if isinstance(d, dict)
        ]
    if doc.get("format"):
        out["format"] = _text(doc["format"])
    return out


def _why(item: dict, *extra: str) -> dict:
    """The parser's optional notes on an item: the rule that read it, how sure it is, and
    (for an indicator) the sentence it came from."""
    return {key: _text(item[key]) for key in ("rule", "confidence", *extra) if item.get(key)}


def _owner_details(task: dict) -> dict:
    details = [
        {
            "name": _text(d.get("name")),
            "lead": bool(d.get("lead")),
            "generic": bool(d.get("generic")),
            **_why(d),
        }
        for d in task.get("owner_details") or []
        if isinstance(d, dict) and _text(d.get("name"))
    ]
    return {"owner_details": details} if details else {}


def generic_owner_names(doc: dict) -> set[str]:
    """Owner names the parser flagged as generic (各区, 县政府有关部门): no one agency."""
    return {
        _text(d.get("name"))
        for task in doc.get("tasks") or []
        for d in task.get("owner_details") or []
        if d.get("generic")
    }


def owner_names(doc: dict) -> list[str]:
    """Every distinct owner name of the document, in order of first appearance."""
    seen: dict[str, None] = {}
    for task in doc.get("tasks") or []:
        for owner in task.get("owners") or []:
            owner = _text(owner)
            if owner:
                seen.setdefault(owner, None)
    return list(seen)


def task_key(path, number, heading) -> tuple:
    """A task's identity across versions of a plan: section path + number (or heading when
    the item has no number)."""
    return (tuple(path), ("#", number) if number else ("~", heading))


def task_place(doc_task: dict, index: int) -> str:
    path = " / ".join(doc_task.get("section") or []) or _("（无部分）")
    number = doc_task.get("number")
    if number:
        return _("第%(index)d项任务（%(path)s 第%(number)s项）") % {"index": index + 1, "path": path, "number": number}
    return _("第%(index)d项任务（%(path)s）") % {"index": index + 1, "path": path}


def parse_target(value) -> Decimal:
    if isinstance(value, bool) or value in (None, ""):
        raise ValueError
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation as exc:
        raise ValueError from exc
    if not number.is_finite() or abs(number) >= TARGET_LIMIT:
        raise ValueError
    if number == number.to_integral():
        return number.quantize(Decimal(1))
    # DecimalField(decimal_places=4): finer figures are rounded, not refused.
    return number.quantize(TARGET_QUANTUM).normalize()


def check_document(doc: dict) -> list[Problem]:
    """Every problem of a normalised document that would make the write fail or go wrong."""
    problems: list[Problem] = []
    label_too_long = _("部分编号“%(label)s”过长（最多%(limit)d字）。")
    plan = doc["plan"]
    if not plan["title"]:
        problems.append(Problem(_("计划标题不能为空。")))
    elif len(plan["title"]) > TITLE_MAX:
        problems.append(Problem(_("计划标题过长（最多%(limit)d字）。") % {"limit": TITLE_MAX}))
    year = plan["year"]
    if not isinstance(year, int) or isinstance(year, bool) or not MIN_YEAR <= year <= MAX_YEAR:
        problems.append(
            Problem(_("计划年度无效：应为%(min)d–%(max)d之间的年份。") % {"min": MIN_YEAR, "max": MAX_YEAR})
        )
    if plan["doc_number"] and len(plan["doc_number"]) > DOC_NUMBER_MAX:
        problems.append(Problem(_("文号过长（最多%(limit)d字）。") % {"limit": DOC_NUMBER_MAX}))
    try:
        _date_or_none(plan["issued_on"])
    except ValueError:
        problems.append(Problem(_("印发日期“%(day)s”不是有效日期（格式：2026-03-01）。") % {"day": plan["issued_on"]}))
    for section in doc["sections"]:
        for label in section["path"]:
            if len(label) > SECTION_LABEL_MAX:
                problems.append(Problem(label_too_long % {"label": label, "limit": SECTION_LABEL_MAX}))
    if not doc["tasks"]:
        problems.append(Problem(_("文档中没有任何工作任务，无法导入。")))
    seen: dict[tuple, int] = {}
    for index, task in enumerate(doc["tasks"]):
        where = task_place(task, index)

        def problem(message: str, where: str = where, index: int = index) -> Problem:
            return Problem(_("%(where)s：%(problem)s") % {"where": where, "problem": message}, index)

        for label in task["section"]:
            if len(label) > SECTION_LABEL_MAX:
                problems.append(problem(label_too_long % {"label": label, "limit": SECTION_LABEL_MAX}))
        if task["number"]:
            if len(task["number"]) > TASK_NUMBER_MAX:
                problems.append(problem(_("序号过长（最多%(limit)d字）。") % {"limit": TASK_NUMBER_MAX}))
            key = (tuple(task["section"]), task["number"])
            if key in seen:
                problems.append(
                    problem(
                        _("与第%(other)d项任务序号重复（同一部分内序号必须唯一），请修改其中一项的序号。")
                        % {"other": seen[key] + 1}
                    )
                )
            else:
                seen[key] = index
        if not task["heading"]:
            problems.append(problem(_("任务摘要不能为空。")))
        elif len(task["heading"]) > TASK_HEADING_MAX:
            problems.append(problem(_("任务摘要过长（最多%(limit)d字），请缩短。") % {"limit": TASK_HEADING_MAX}))
        for owner in task["owners"]:
            if len(owner) > AGENCY_NAME_MAX:
                problems.append(problem(_("责任单位名称“%(name)s…”过长。") % {"name": owner[:20]}))
        for milestone in task["milestones"]:
            try:
                _date_or_none(milestone["due"])
            except ValueError:
                problems.append(problem(_("时间节点日期“%(day)s”无效。") % {"day": milestone["due"]}))
            if not milestone["text"]:
                problems.append(problem(_("时间节点内容不能为空。")))
            elif len(milestone["text"]) > MILESTONE_TEXT_MAX:
                problems.append(problem(_("时间节点内容过长（最多%(limit)d字）。") % {"limit": MILESTONE_TEXT_MAX}))
        for indicator in task["indicators"]:
            label = indicator["name"] or _("（未命名）")
            if not indicator["name"]:
                problems.append(problem(_("量化指标名称不能为空。")))
            elif len(indicator["name"]) > INDICATOR_NAME_MAX:
                problems.append(problem(_("指标“%(name)s…”名称过长。") % {"name": label[:20]}))
            if indicator["comparator"] not in Comparator.values:
                problems.append(
                    problem(
                        _("指标“%(name)s”的比较方式“%(comparator)s”无效。")
                        % {"name": label, "comparator": indicator["comparator"]}
                    )
                )
            try:
                parse_target(indicator["target"])
            except ValueError:
                problems.append(
                    problem(
                        _("指标“%(name)s”的目标值“%(target)s”不是有效数字。")
                        % {"name": label, "target": indicator["target"]}
                    )
                )
            if len(indicator["unit"]) > INDICATOR_UNIT_MAX:
                problems.append(
                    problem(
                        _("指标“%(name)s”的单位过长（最多%(limit)d字）。")
                        % {"name": label, "limit": INDICATOR_UNIT_MAX}
                    )
                )
            try:
                _date_or_none(indicator["due"])
            except ValueError:
                problems.append(
                    problem(_("指标“%(name)s”的目标日期“%(day)s”无效。") % {"name": label, "day": indicator["due"]})
                )
    return problems


def check_mapping(doc: dict, mapping: dict, matcher: AgencyMatcher) -> list[Problem]:
    """Every owner name must be mapped to an existing agency, a group of them (a generic
    name), marked to be created (at the top or under an existing parent), or left out."""
    problems = []
    gone = _("责任单位“%(name)s”对应的单位不存在，请重新选择。")
    for name in owner_names(doc):
        value = mapping.get(name)
        if value in (CREATE_AGENCY, SKIP_AGENCY):
            continue
        if value in (None, "", []):
            problems.append(
                Problem(
                    _("责任单位“%(name)s”尚未对应到单位：请选择已有单位、“新建单位”或“不作为责任单位”。")
                    % {"name": name}
                )
            )
            continue
        group = group_ids(value)
        if group is not None:
            if any(agency_id not in matcher.by_id for agency_id in group) or not group:
                problems.append(Problem(gone % {"name": name}))
            continue
        parent = create_parent(value)
        if parent is not None:
            if parent not in matcher.by_id:
                problems.append(Problem(_("“%(name)s”要新建到的上级单位不存在，请重新选择。") % {"name": name}))
            continue
        try:
            agency_id = int(value)
        except (TypeError, ValueError):
            agency_id = None
        if agency_id not in matcher.by_id:
            problems.append(Problem(gone % {"name": name}))
    return problems
