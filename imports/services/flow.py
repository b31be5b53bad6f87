"""The web flow: upload, parse job, preview edits, confirmation."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.matching import AgencyMatcher
from audit.choices import EventType
from audit.services import record
from core.jobs import QUEUE_UNAVAILABLE, enqueue
from imports.choices import ImportStatus
from imports.jobs import is_slow_read, parse_plan_import, read_plan_import
from imports.models import PlanImport
from imports.services import gaps as gap_rules
from imports.services.common import CREATE_AGENCY, CREATE_UNDER, SKIP_AGENCY, is_create
from imports.services.document import (
    ImportRefused,
    Problem,
    check_document,
    check_mapping,
    generic_owner_names,
    normalise_document,
    owner_names,
)
from imports.services.importer import ImportResult, _duplicate_result, import_document
from tasks.models import Task
from workplans.choices import PlanStatus
from workplans.models import Plan
from workplans.signals import plan_written

ALLOWED_EXTENSIONS = ("txt", "htm", "html", "docx", "doc", "wps", "pdf", "ofd", "xlsx", "csv")


def file_sha256(uploaded) -> str:
    digest = hashlib.sha256()
    for chunk in uploaded.chunks():
        digest.update(chunk)
    uploaded.seek(0)
    return digest.hexdigest()


@dataclass
class UploadOutcome:
    plan_import: PlanImport | None = None
    existing_plan: Plan | None = None
    message: str = ""


def start_import(uploaded, *, created_by, replaces: Plan | None = None) -> UploadOutcome:
    """Store an upload as a queued PlanImport and queue its parse once the row is
    committed; the same bytes already imported (or already on their way) write nothing."""
    sha256 = file_sha256(uploaded)
    existing_plan = Plan.objects.filter(source_sha256=sha256).first()
    if existing_plan is not None:
        return UploadOutcome(existing_plan=existing_plan, message=_duplicate_result(existing_plan).message)
    open_import = (
        PlanImport.objects.filter(
            sha256=sha256, status__in=[ImportStatus.QUEUED, ImportStatus.PARSING, ImportStatus.PARSED]
        )
        .order_by("-created_at")
        .first()
    )
    if open_import is not None:
        return UploadOutcome(
            plan_import=open_import,
            message=_("该文件已于%(when)s上传，尚未确认导入，已为您打开该次导入。")
            % {"when": f"{timezone.localtime(open_import.created_at):%Y-%m-%d %H:%M}"},
        )
    uploaded.seek(0)
    slow = is_slow_read(uploaded.read(), uploaded.name or "")
    uploaded.seek(0)
    plan_import = PlanImport.objects.create(
        file=uploaded,
        original_name=uploaded.name[:255],
        sha256=sha256,
        size=uploaded.size or 0,
        created_by=created_by,
        replaces=replaces,
    )
    queue_parse(plan_import, slow=slow)
    if slow:
        message = _("文件已上传。这是扫描件或旧版 Word/WPS 文件，需先识别文字或转换格式，可能需要几分钟。")
    else:
        message = _("文件已上传，正在解析。")
    return UploadOutcome(plan_import=plan_import, message=message)


def queue_parse(plan_import: PlanImport, *, slow: bool = False) -> None:
    job = read_plan_import if slow else parse_plan_import

    def start() -> None:
        if not enqueue(job, plan_import.pk):
            # The broker is down: the import page says to upload again later (the same
            # file is accepted again: a failed import does not hold its sha256).
            PlanImport.objects.filter(pk=plan_import.pk, status=ImportStatus.QUEUED).update(
                status=ImportStatus.FAILED, error=str(QUEUE_UNAVAILABLE), updated_at=timezone.now()
            )

    transaction.on_commit(start)


def target_plan(plan_import: PlanImport, doc: dict) -> Plan | None:
    """The plan this import updates: the one the admin chose, else an existing plan with the
    same title and year (a new version of it), else None (a new plan)."""
    if plan_import.replaces_id:
        return plan_import.replaces
    meta = doc["plan"]
    if not meta["title"] or not isinstance(meta["year"], int):
        return None
    return Plan.objects.filter(title=meta["title"], year=meta["year"]).order_by("-created_at").first()


def previous_mapping(plan_import: PlanImport, target: Plan | None) -> dict:
    """The owner mapping of the last confirmed import of `target`: a new version of a plan
    starts from what the admin decided for the previous one (a group, a name left out)."""
    if target is None:
        return {}
    previous = (
        PlanImport.objects.filter(plan=target, status=ImportStatus.IMPORTED)
        .exclude(pk=plan_import.pk)
        .order_by("-updated_at", "-pk")
        .values_list("owner_mapping", flat=True)
        .first()
    )
    return previous or {}


def effective_mapping(
    plan_import: PlanImport, doc: dict, matcher: AgencyMatcher, *, previous: dict | None = None
) -> dict:
    """The admin's saved choices, then those of the plan's previous import (`previous`), over
    the matcher's suggestions, for every owner name."""
    saved = plan_import.owner_mapping or {}
    previous = previous or {}
    generic = generic_owner_names(doc)
    mapping: dict[str, object] = {}
    for name in owner_names(doc):
        if name in saved and saved[name] not in (None, "", []):
            mapping[name] = saved[name]
        elif name in previous and previous[name] not in (None, "", []) and not is_create(previous[name]):
            # (a name created last time is an agency now: the matcher finds it)
            mapping[name] = previous[name]
        else:
            match = matcher.match(name)
            # A generic owner (各区, 有关部门) that matches no agency is left out until the
            # admin maps it: the preview marks it, and the import does not stop on it.
            mapping[name] = match.agency.pk if match.agency else (SKIP_AGENCY if name in generic else None)
    return mapping


def save_edits(
    plan_import: PlanImport,
    *,
    document: dict | None = None,
    mapping: dict | None = None,
    decisions: dict | None = None,
) -> None:
    """Keep what the admin chose so far on the import (a reload, a refused confirmation or
    the next day finds it). A mapping is merged over the saved one, name by name."""
    fields = ["updated_at"]
    if document is not None:
        plan_import.edited_document = document
        fields.append("edited_document")
    if mapping is not None:
        plan_import.owner_mapping = {**(plan_import.owner_mapping or {}), **mapping}
        fields.append("owner_mapping")
    if decisions is not None:
        plan_import.decisions = {**(plan_import.decisions or {}), **decisions}
        fields.append("decisions")
    plan_import.save(update_fields=fields)


def set_task_owners(plan_import: PlanImport, indexes: list[int], agencies: list) -> int:
    """Give the tasks at `indexes` these owners (the first leads), picked from the agency
    tree: each task's owners become the agencies' exact names, and each name is mapped to
    its agency, so the importer writes them as picked. Returns the number of tasks set."""
    if plan_import.current_document is None:
        return 0
    document = normalise_document(plan_import.current_document)
    names = [agency.name for agency in agencies]
    count = 0
    for index in sorted(set(indexes)):
        if 0 <= index < len(document["tasks"]):
            task = document["tasks"][index]
            task["owners"] = list(names)
            task.pop("owner_details", None)  # the parser's notes on the names it read
            count += 1
    save_edits(plan_import, document=document, mapping={agency.name: agency.pk for agency in agencies})
    return count


def create_unmatched(plan_import: PlanImport, doc: dict, mapping: dict, parent=None) -> list[str]:
    """Mark every owner name mapped to nothing yet (not one left out on purpose) to be
    created as a new agency under `parent` (or at the top), named as written."""
    names = [name for name in owner_names(doc) if mapping.get(name) in (None, "", [])]
    value = f"{CREATE_UNDER}{parent.pk}" if parent is not None else CREATE_AGENCY
    if names:
        save_edits(plan_import, mapping=dict.fromkeys(names, value))
    return names


def confirm_import(
    plan_import: PlanImport,
    *,
    user,
    mapping: dict,
    document: dict | None = None,
    activate: bool = False,
    ip_address: str | None = None,
    decisions: dict | None = None,
) -> ImportResult:
    """The admin's confirmation: claim the import, write the plan, link the two — all in
    one transaction, so a failure anywhere leaves the import 待确认 and nothing written.
    Each class of gap present (gaps.find_gaps) needs a decision in `decisions` (default:
    the import's saved ones); a missing one refuses the confirmation, naming the class."""
    document = document if document is not None else plan_import.current_document
    if document is None:
        raise ImportRefused([Problem(_("该导入已确认过或当前不可确认，请刷新页面查看状态。"))])
    decisions = gap_rules.clean_decisions(decisions if decisions is not None else plan_import.decisions or {})
    doc = normalise_document(document)
    missing = gap_rules.missing_decisions(gap_rules.find_gaps(doc, mapping), decisions)
    if missing:
        # Everything else that blocks the import is listed with it, so one round suffices.
        refused_mapping = gap_rules.apply_decisions(document, mapping, decisions)[1]
        raise ImportRefused(missing + check_document(doc) + check_mapping(doc, refused_mapping, AgencyMatcher.load()))
    document, mapping = gap_rules.apply_decisions(document, mapping, decisions)
    doc = normalise_document(document)
    with transaction.atomic():
        claimed = PlanImport.objects.filter(pk=plan_import.pk, status=ImportStatus.PARSED).update(
            status=ImportStatus.IMPORTED,
            edited_document=document,
            owner_mapping=mapping,
            decisions=decisions,
            updated_at=timezone.now(),
        )
        if not claimed:
            raise ImportRefused([Problem(_("该导入已确认过或当前不可确认，请刷新页面查看状态。"))])
        target = target_plan(plan_import, doc)
        result = import_document(
            document,
            mapping=mapping,
            created_by=user,
            source_file=plan_import.file.name,
            sha256=plan_import.sha256,
            plan=target,
            status=PlanStatus.ACTIVE if activate else None,
            ip_address=ip_address,
            ownerless_exempt=decisions.get(gap_rules.OWNERLESS) == gap_rules.EXEMPT,
            keep_hand_set=not decisions.get(gap_rules.OVERWRITE),
        )
        if activate and (unowned := Task.objects.filter(plan=result.plan).unowned().count()):
            # The console's activation check in short: nobody would report these tasks.
            # Raised inside the transaction, so nothing is written and the import stays open.
            raise ImportRefused(
                [
                    Problem(
                        _(
                            "有 %(n)d 项任务没有牵头单位，不能在导入时直接启用：请取消“确认后立即启用”，"
                            "导入后在计划页面指定责任单位再启用，或为这些任务选择“标记为无需填报”。"
                        )
                        % {"n": unowned}
                    )
                ]
            )
        PlanImport.objects.filter(pk=plan_import.pk).update(plan=result.plan)
        record_import(plan_import, result)
        plan_id = result.plan.pk
        transaction.on_commit(lambda: plan_written.send(sender=Plan, plan_id=plan_id), robust=True)
    plan_import.refresh_from_db()
    return result


def record_import(plan_import: PlanImport, result: ImportResult):
    """The 导入 event of a confirmed plan import, written in its transaction."""
    return record(
        EventType.IMPORT,
        obj=result.plan,
        detail={
            "plan_import": plan_import.pk,
            "file": plan_import.original_name,
            "sha256": plan_import.sha256,
            "duplicate": bool(getattr(result, "duplicate", False)),
            "counts": dict(getattr(result, "counts", {}) or {}),
            "plan_status": result.plan.status,
        },
    )
