"""The web flow: upload, parse job, preview edits, confirmation."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from workplans.choices import ImportStatus, PlanStatus
from workplans.models import Plan, PlanImport
from workplans.services.document import ImportRefused, Problem, normalise_document, owner_names
from workplans.services.importer import ImportResult, _duplicate_result, import_document
from workplans.services.matching import AgencyMatcher

ALLOWED_EXTENSIONS = ("txt", "htm", "html", "docx", "pdf", "xlsx", "csv")


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
            message=f"该文件已于{timezone.localtime(open_import.created_at):%Y-%m-%d %H:%M}上传，尚未确认导入，已为您打开该次导入。",
        )
    plan_import = PlanImport.objects.create(
        file=uploaded,
        original_name=uploaded.name[:255],
        sha256=sha256,
        size=uploaded.size or 0,
        created_by=created_by,
        replaces=replaces,
    )
    queue_parse(plan_import)
    return UploadOutcome(plan_import=plan_import, message="文件已上传，正在解析。")


def queue_parse(plan_import: PlanImport) -> None:
    from config.celery import QUEUE_UNAVAILABLE, enqueue
    from workplans.jobs import parse_plan_import

    def start() -> None:
        if not enqueue(parse_plan_import, plan_import.pk):
            # The broker is down: the import page says to upload again later (the same
            # file is accepted again: a failed import does not hold its sha256).
            PlanImport.objects.filter(pk=plan_import.pk, status=ImportStatus.QUEUED).update(
                status=ImportStatus.FAILED, error=QUEUE_UNAVAILABLE, updated_at=timezone.now()
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
    mapping = {}
    for name in owner_names(doc):
        if name in saved and saved[name] not in (None, ""):
            mapping[name] = saved[name]
        else:
            match = matcher.match(name)
            mapping[name] = match.agency.pk if match.agency else None
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
    doc = normalise_document(document)
    with transaction.atomic():
        claimed = PlanImport.objects.filter(pk=plan_import.pk, status=ImportStatus.PARSED).update(
            status=ImportStatus.IMPORTED, edited_document=document, owner_mapping=mapping, updated_at=timezone.now()
        )
        if not claimed:
            raise ImportRefused([Problem("该导入已确认过或当前不可确认，请刷新页面查看状态。")])
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
        from audit.services import record_import  # the 导入 event, in this transaction

        record_import(plan_import, result)
        from dashboards.jobs import rollup_snapshots  # the dashboard history gets the plan's row at once

        day, plan_ids = timezone.localdate().isoformat(), [result.plan.pk]
        from config.celery import enqueue  # not queued (Redis down): the nightly rollup writes the day

        transaction.on_commit(lambda: enqueue(rollup_snapshots, day=day, plan_ids=plan_ids), robust=True)
    plan_import.refresh_from_db()
    return result
