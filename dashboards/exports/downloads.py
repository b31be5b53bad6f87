"""Handing out a built export: only while it is kept (expiry) and only while the person
asking may still see everything in it — their role still exports, their scope still covers
every agency the file covers, and the plan it is of is still visible to them."""

from django.conf import settings
from django.utils.translation import gettext as _

from dashboards.exports.base import ExportRefused, export_scope
from dashboards.exports.expiry import is_expired
from dashboards.models import Export
from workplans.models import Plan


class ExportExpired(ExportRefused):
    """The file is past its retention: deleted, or about to be."""


class ExportOutOfScope(ExportRefused):
    """The person asking may no longer see everything the file holds."""


def out_of_scope_message() -> str:
    return _("您的数据权限范围已变化，此文件包含您当前无权查看的内容，不能下载。如仍需要，请重新导出。")


def check_kept(export: Export) -> None:
    """ExportExpired, with a Chinese message, when the file is past its retention."""
    if is_expired(export):
        raise ExportExpired(
            _("此导出文件已过期（导出文件保留%(days)d天），文件已删除，请重新导出。")
            % {"days": settings.EXPORT_RETENTION_DAYS}
        )


def check_scope(user, export: Export) -> None:
    """Return when `user` may still see everything the file of `export` holds; else
    ExportOutOfScope with a Chinese message."""
    try:
        scope = export_scope(user)
    except ExportRefused:
        raise ExportOutOfScope(_("您已无导出权限，不能下载此文件。")) from None
    if scope is None:
        return
    covered = export.scope_agencies
    # None: the file covers every agency (an admin's, or one built before scopes were kept).
    if covered is None or not set(covered) <= scope:
        raise ExportOutOfScope(out_of_scope_message())
    if export.plan_id and not Plan.objects.visible_to(user).filter(pk=export.plan_id).exists():
        raise ExportOutOfScope(out_of_scope_message())
