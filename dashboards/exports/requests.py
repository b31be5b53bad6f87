"""Asking for an export: the request checked (nothing is written when it is refused), the
Export row made, and its build started once the row is committed: in the request when it
is small (EXPORT_INLINE_MAX_ROWS), else by the `build_export` job."""

import re

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.jobs import QUEUE_UNAVAILABLE, enqueue
from dashboards.exports.base import STALE_CLAIM_AFTER, ExportRefused, export_scope
from dashboards.exports.jobs import build_export
from dashboards.models import Export, ExportKind, ExportStatus
from dashboards.services import scoped_tasks
from workplans.models import MAX_YEAR, MIN_YEAR, Plan


def _parse_year(raw) -> int | None:
    text = str(raw if raw is not None else "").strip()
    if not text:
        return None
    if not re.fullmatch(r"\d{4}", text) or not MIN_YEAR <= int(text) <= MAX_YEAR:
        raise ExportRefused(_("年度应为 %(min)d–%(max)d 之间的四位数字。") % {"min": MIN_YEAR, "max": MAX_YEAR})
    return int(text)


def check_request(user, *, plan=None, year=None) -> tuple[set[int] | None, Plan | None, int]:
    """The scope, plan and year of an export request, or ExportRefused with a Chinese message.

    `plan` is a plan id (optional): it must be published and, for a leader, have tasks in
    the leader's scope. `year` defaults to the plan's year, else the current year; given
    with a plan, it must be the plan's year."""
    scope = export_scope(user)
    year = _parse_year(year)
    chosen = None
    plan_text = str(plan if plan is not None else "").strip()
    if plan_text:
        if not plan_text.isdigit():
            raise ExportRefused(_("所选计划不存在或不在您的权限范围内。"))
        chosen = Plan.objects.published().filter(pk=int(plan_text)).first()
        if chosen is None or (scope is not None and not scoped_tasks(scope, chosen.year, chosen.pk).exists()):
            raise ExportRefused(_("所选计划不存在或不在您的权限范围内。"))
        if year is not None and year != chosen.year:
            message = _("所选计划属于%(plan_year)d年度，与所选年度（%(year)d年）不一致。")
            raise ExportRefused(message % {"plan_year": chosen.year, "year": year})
        year = chosen.year
    if year is None:
        year = timezone.localdate().year
    return scope, chosen, year


def request_export(user, kind: str, *, plan=None, year=None, options: dict | None = None) -> Export:
    """Check and record one export request, and have it built once the row is committed:
    right away in this process when it is small, else by the `build_export` job. An
    identical request (options included) still queued or running is returned instead of a
    second one. `options`: the kind's own, already checked (Export.options).
    Raises ExportRefused (and writes nothing) when the request is not allowed."""
    if kind not in ExportKind.values:
        raise ExportRefused(_("不支持的导出类型。"))
    scope, chosen, year = check_request(user, plan=plan, year=year)
    # The same request posted twice (a double click) while the first is still on its way: one export.
    options = options or {}
    pending = Export.objects.filter(
        requested_by=user,
        kind=kind,
        plan=chosen,
        year=year,
        status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING],
        created_at__gte=timezone.now() - STALE_CLAIM_AFTER,
    )
    # Options compared here, not in SQL: JSON equality differs between SQLite and PostgreSQL.
    pending = next((export for export in pending if export.options == options), None)
    if pending is not None:
        return pending
    rows = scoped_tasks(scope, year, chosen.pk if chosen else None).count()
    export = Export.objects.create(
        kind=kind, requested_by=user, plan=chosen, year=year, total_rows=rows, options=options
    )
    transaction.on_commit(lambda: _start(export.pk, inline=rows <= settings.EXPORT_INLINE_MAX_ROWS))
    return export


def _start(export_id: int, *, inline: bool) -> None:
    if inline:
        # Small: built before the redirect, so the status page already has the link.
        build_export.apply(args=[export_id])
    elif not enqueue(build_export, export_id):
        # The broker is down: the status page says to try again instead of 排队中 for ever.
        Export.objects.filter(pk=export_id, status=ExportStatus.QUEUED).update(
            status=ExportStatus.FAILED,
            error=_("导出失败：%(reason)s") % {"reason": QUEUE_UNAVAILABLE},
            finished_at=timezone.now(),
        )
