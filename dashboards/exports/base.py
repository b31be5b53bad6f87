"""What the ledger and the bulletin share: the requester's scope, file names and content
types, and the pieces of a task's row (owners, sections, indicators, the latest note)."""

import dataclasses
import datetime
import re

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils.translation import gettext as _

from accounts.services import scope_agency_ids
from core.roles import OVERSIGHT_ROLES, Role
from dashboards.models import Export, ExportKind
from indicators.models import Indicator
from indicators.services import with_latest_reading
from indicators.units import with_unit
from tasks.choices import OwnerRole
from tasks.models import ProgressUpdate
from workplans.models import Section

# Tasks read (and rows written) per round; done_rows is written after each one.
CHUNK_ROWS = 500
# A row still 生成中 this long after it was requested belongs to a worker that died: a
# redelivered job (acks_late) may take it over. No export takes anywhere near this long.
STALE_CLAIM_AFTER = datetime.timedelta(minutes=30)

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
CONTENT_TYPES = {ExportKind.LEDGER: XLSX_TYPE, ExportKind.BULLETIN: DOCX_TYPE}
EXTENSIONS = {ExportKind.LEDGER: "xlsx", ExportKind.BULLETIN: "docx"}


class ExportRefused(Exception):
    """A request (or a build) that cannot go ahead; the message is Chinese, for the user."""


@dataclasses.dataclass
class Built:
    """A finished file, still in a temporary file, and the name it is downloaded as."""

    file: object  # an open binary file, positioned anywhere
    filename: str
    rows: int
    # The agencies whose tasks it covers (None: all), checked again at every download.
    agencies: set[int] | None


def export_scope(user) -> set[int] | None:
    """The agencies whose tasks `user` may export (None: all), or ExportRefused."""
    if not user.is_authenticated or not user.is_active or user.role not in OVERSIGHT_ROLES:
        raise ExportRefused(_("只有领导和管理员可以导出台账和通报。"))
    if user.role == Role.LEADER and not user.agency_id:
        raise ExportRefused(_("您的账号未关联单位，无法导出。请联系管理员。"))
    return scope_agency_ids(user)


def scope_of(export: Export) -> tuple[set[int] | None, str, str]:
    """The requester's scope as it is now, a short name for the file name, and a description."""
    user = export.requested_by
    try:
        scope = export_scope(user)
    except ExportRefused:
        raise ExportRefused(_("申请人已无导出权限。")) from None
    if scope is None:
        short, described = _("全部单位"), _("全部单位")
    else:
        agency = user.agency
        short = agency.short_name or agency.name
        described = _("%(agency)s及下属单位") % {"agency": agency.name} if len(scope) > 1 else agency.name
    if export.plan_id:
        described = _("%(scope)s；计划：%(plan)s") % {"scope": described, "plan": export.plan.title}
    else:
        described = _("%(scope)s；%(year)d年度全部已发布计划") % {"scope": described, "year": export.year}
    return scope, short, described


_UNSAFE_IN_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


def download_name(stem: str, scope_short: str, day: datetime.date, extension: str) -> str:
    """ "2026年督办台账-医政医管处-20261124.xlsx", without characters a file name cannot hold."""
    name = f"{stem}-{scope_short}-{day:%Y%m%d}"
    name = _UNSAFE_IN_NAME.sub("_", name).strip(" .")[:150]
    return f"{name}.{extension}"


def value_text(indicator: Indicator) -> str:
    """The latest value with its unit, or a dash when nothing is reported."""
    return "—" if indicator.latest_value is None else with_unit(indicator.latest_value, indicator.unit)


def met_label(met: bool | None) -> str:
    return _("未填报") if met is None else (_("达标") if met else _("未达标"))


def indicators_queryset() -> QuerySet[Indicator]:
    return with_latest_reading(Indicator.objects.order_by("order", "id"))


def latest_note() -> Subquery:
    """The latest non-empty progress note of each task, in the task's own query."""
    notes = ProgressUpdate.objects.filter(task=OuterRef("pk")).exclude(note="").order_by("-created_at", "-id")
    return Subquery(notes.values("note")[:1])


def owners_text(rows) -> tuple[str, str]:
    """The lead and the co-owners, "、"-joined, from (role, agency name) pairs."""
    lead, co = [], []
    for role, name in rows:
        (lead if role == OwnerRole.LEAD else co).append(name)
    return "、".join(lead), "、".join(co)


def section_paths(plan_ids) -> dict[int, str]:
    """Every section of the plans as "一 提升服务能力" (nested: "第一部分 … / 一 …"), one query."""
    rows = {s.pk: s for s in Section.objects.filter(plan_id__in=plan_ids).only("id", "parent_id", "label", "title")}
    paths: dict[int, str] = {}

    def path(section_id: int, depth: int = 0) -> str:
        if section_id in paths:
            return paths[section_id]
        section = rows[section_id]
        own = f"{section.label} {section.title}".strip()
        parent = section.parent_id
        text = f"{path(parent, depth + 1)} / {own}" if parent in rows and depth < 20 else own
        paths[section_id] = text
        return text

    for section_id in rows:
        path(section_id)
    return paths
