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
from imports.services.common import SKIP_AGENCY
from imports.services.document import ImportRefused, Problem, generic_owner_names, normalise_document, owner_names
from imports.services.importer import ImportResult, _duplicate_result, import_document
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


def effective_mapping(plan_import: PlanImport, doc: dict, matcher: AgencyMatcher) -> dict:
    """The admin's saved choices over the matcher's suggestions, for every owner name."""
    saved = plan_import.owner_mapping or {}
    generic = generic_owner_names(doc)
    mapping: dict[str, object] = {}
    for name in owner_names(doc):
        if name in saved and saved[name] not in (None, ""):
            mapping[name] = saved[name]
        else:
            match = matcher.match(name)
            # A generic owner (各区, 有关部门) that matches no agency is left out until the
            # admin maps it: the preview marks it, and the import does not stop on it.
            mapping[name] = match.agency.pk if match.agency else (SKIP_AGENCY if name in generic else None)
    return mapping


def save_edits(plan_import: PlanImport, *, document: dict | None = None, mapping: dict | None = None) -> None:
    fields = ["updated_at"]
    if document is not None:
        plan_import.edited_document = document
        fields.append("edited_document")
    if mapping is not None:
        plan_import.owner_mapping = mapping
        fields.append("owner_mapping")
    plan_import.save(update_fields=fields)


def confirm_import(
    plan_import: PlanImport,
    *,
    user,
    mapping: dict,
    document: dict | None = None,
    activate: bool = False,
    ip_address: str | None = None,
) -> ImportResult:
    """The admin's confirmation: claim the import, write the plan, link the two — all in
    one transaction, so a failure anywhere leaves the import 待确认 and nothing written."""
    document = document if document is not None else plan_import.current_document
    if document is None:
        raise ImportRefused([Problem(_("该导入已确认过或当前不可确认，请刷新页面查看状态。"))])
    doc = normalise_document(document)
    with transaction.atomic():
        claimed = PlanImport.objects.filter(pk=plan_import.pk, status=ImportStatus.PARSED).update(
            status=ImportStatus.IMPORTED, edited_document=document, owner_mapping=mapping, updated_at=timezone.now()
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
