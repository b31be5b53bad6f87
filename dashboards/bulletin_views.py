"""The bulletin pages (通报), under /dashboards/bulletins/: the list (drafts and issued for the
supervision office, issued for leaders, everything for the system admin), a new draft, a
draft's page (its drafted sections and the editable text), re-drafting, issuing, and the
.docx and PDF. Thin: dashboards.bulletins drafts, checks and writes; a refused step comes
back on its page with the reason, changing nothing (409 for a stale page)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from audit.choices import EventType
from audit.services import record
from core.lists import listing
from core.permissions import role_required
from core.roles import OVERSIGHT_ROLES, Role
from core.scope import get_visible_or_404
from dashboards import bulletins
from dashboards.bulletin_forms import BulletinEditForm, BulletinFilter, NewBulletinForm, VersionForm
from dashboards.models import Bulletin, BulletinState
from workplans.models import Plan

PER_PAGE = 30


def _load(request, pk) -> Bulletin:
    visible = Bulletin.objects.visible_to(request.user).select_related("plan", "drafted_by", "issued_by")
    return get_visible_or_404(request, visible, pk=pk)


@role_required(*OVERSIGHT_ROLES)
@require_safe
def bulletin_list(request):
    visible = Bulletin.objects.visible_to(request.user)
    plans = Plan.objects.filter(pk__in=visible.values("plan_id")).order_by("-year", "title")
    rows = visible.select_related("plan", "drafted_by", "issued_by").order_by(
        F("issued_at").desc(nulls_first=True), "-created_at", "-pk"
    )
    found = listing(request, BulletinFilter, rows, per_page=PER_PAGE, plans=plans)
    context = {
        "listing": found,
        "filters": found.filters,
        "page": found.page,
        "can_draft": request.user.role == Role.SUPERVISOR,
    }
    return render(request, "dashboards/bulletin_list.html", context, status=400 if found.invalid else 200)


@role_required(Role.SUPERVISOR)
@require_http_methods(["GET", "HEAD", "POST"])
def bulletin_new(request):
    today = timezone.localdate()
    plans = list(bulletins.plans_to_draft(request.user))
    form = NewBulletinForm(request.POST or None, plans=plans, today=today)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            plan, period = form.cleaned_data["period"]
            try:
                bulletin = bulletins.create_draft(plan, period, request.user, today=today)
            except PermissionDenied as refused:
                form.add_error(None, str(refused))
                status = 403
            else:
                messages.success(request, _("通报草稿已按最新数据生成，请核对并填写下步要求。"))
                return redirect("dashboards:bulletin_detail", pk=bulletin.pk)
    return render(request, "dashboards/bulletin_new.html", {"form": form, "has_plans": bool(plans)}, status=status)


def _page(request, bulletin, *, form=None, alert="", status=200):
    editable = bulletins.may_edit(request.user, bulletin)
    if form is None and editable:
        form = BulletinEditForm(
            initial={
                "version": bulletin.version,
                "title": bulletin.title,
                "summary": bulletin.summary,
                "next_steps": bulletin.next_steps,
            }
        )
    context = {
        "bulletin": bulletin,
        "data": bulletin.data,
        "form": form if editable else None,
        "editable": editable,
        "pdf_available": bulletins.pdf_available(),
        "alert": alert,
    }
    return render(request, "dashboards/bulletin_detail.html", context, status=status)


@role_required(*OVERSIGHT_ROLES)
@require_safe
def bulletin_detail(request, pk):
    return _page(request, _load(request, pk))


def _refusal(request, pk, error: Exception):
    """A service's refusal shown on the bulletin's page, as it is now."""
    if isinstance(error, bulletins.StaleBulletin):
        return _page(request, _load(request, pk), alert=str(error), status=409)
    if isinstance(error, PermissionDenied):
        raise error
    return _page(request, _load(request, pk), alert=" ".join(error.messages), status=400)


@role_required(Role.SUPERVISOR)
@require_POST
def bulletin_edit(request, pk):
    bulletin = _load(request, pk)
    form = BulletinEditForm(request.POST)
    if not form.is_valid():
        return _page(request, bulletin, form=form, status=400)
    try:
        bulletins.edit(bulletin.pk, request.user, **form.cleaned_data)
    except (bulletins.StaleBulletin, PermissionDenied, ValidationError) as error:
        if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
            return _page(request, _load(request, pk), form=form, status=400)
        return _refusal(request, pk, error)
    messages.success(request, _("已保存。"))
    return redirect("dashboards:bulletin_detail", pk=bulletin.pk)


@role_required(Role.SUPERVISOR)
@require_POST
def bulletin_redraft(request, pk):
    bulletin = _load(request, pk)
    form = VersionForm(request.POST)
    if not form.is_valid():
        return _page(request, bulletin, alert=_("请刷新页面后重试。"), status=400)
    try:
        _bulletin, rewritten = bulletins.redraft(bulletin.pk, request.user, version=form.cleaned_data["version"])
    except (bulletins.StaleBulletin, PermissionDenied, ValidationError) as error:
        return _refusal(request, pk, error)
    if rewritten:
        messages.success(request, _("已按最新数据重新生成，总体情况概述已随之更新。"))
    else:
        messages.success(request, _("已按最新数据重新生成；总体情况概述曾手工修改，未覆盖，请对照新数据核对。"))
    return redirect("dashboards:bulletin_detail", pk=bulletin.pk)


@role_required(Role.SUPERVISOR)
@require_http_methods(["GET", "HEAD", "POST"])
def bulletin_issue(request, pk):
    """GET: the confirmation (what will be numbered and frozen); POST: issue."""
    bulletin = _load(request, pk)
    if not bulletins.may_edit(request.user, bulletin):
        if bulletin.state == BulletinState.ISSUED:
            return redirect("dashboards:bulletin_detail", pk=bulletin.pk)
        raise PermissionDenied(_("只有督查专员可以印发通报。"))
    if request.method != "POST":
        return render(request, "dashboards/bulletin_issue.html", {"bulletin": bulletin})
    form = VersionForm(request.POST)
    if not form.is_valid():
        return _page(request, bulletin, alert=_("请刷新页面后重试。"), status=400)
    try:
        issued = bulletins.issue(bulletin.pk, request.user, version=form.cleaned_data["version"])
    except (bulletins.StaleBulletin, PermissionDenied, ValidationError) as error:
        return _refusal(request, pk, error)
    messages.success(request, _("通报%(number)s已印发。") % {"number": issued.number})
    return redirect("dashboards:bulletin_detail", pk=bulletin.pk)


def _download(bulletin: Bulletin, content: bytes, ext: str) -> HttpResponse:
    name = bulletins.filename(bulletin, ext)
    record(EventType.EXPORT, obj=bulletin, object_repr=str(bulletin)[:200], detail={"kind": "bulletin", "file": name})
    response = HttpResponse(content, content_type=bulletins.CONTENT_TYPES[ext])
    response["Content-Disposition"] = content_disposition_header(True, name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@role_required(*OVERSIGHT_ROLES)
@require_safe
def bulletin_docx(request, pk):
    bulletin = _load(request, pk)
    try:
        content = bulletins.docx_content(bulletin)
    except bulletins.BulletinTemplateError as refused:
        return _page(request, bulletin, alert=str(refused), status=503)
    except OSError:
        return _page(request, bulletin, alert=_("通报文件已不存在，请联系系统管理员。"), status=503)
    return _download(bulletin, content, "docx")


@role_required(*OVERSIGHT_ROLES)
@require_safe
def bulletin_pdf(request, pk):
    bulletin = _load(request, pk)
    try:
        content = bulletins.render_pdf(bulletin)
    except (bulletins.PdfUnavailable, bulletins.BulletinTemplateError) as refused:
        return _page(request, bulletin, alert=str(refused), status=503)
    except OSError:
        return _page(request, bulletin, alert=_("通报文件已不存在，请联系系统管理员。"), status=503)
    if content is None:
        return _page(
            request,
            bulletin,
            alert=_("本系统未安装 LibreOffice，暂不能生成 PDF，请下载 Word 版（.docx）。"),
            status=503,
        )
    return _download(bulletin, content, "pdf")
