"""The system admin's bulk user import: the template, the upload, the preview of every
row with its errors, and the confirmation that creates the good rows' accounts and shows
their initial passwords once (with a file of them to hand out). The passwords are never
stored: the confirmation's page carries them, signed, for its file download."""

from django.contrib import messages
from django.core import signing
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from audit.choices import EventType
from audit.services import record
from console import users
from console.models import UserImport
from console.user_forms import LoginsForm, UploadForm
from core.permissions import role_required
from core.roles import Role

LOGINS_SALT = "console.user_import.logins"
LOGINS_MAX_AGE = 60 * 60  # the page's file stays downloadable for an hour
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _attachment(data: bytes, kind: str, name: str) -> HttpResponse:
    content_type = XLSX if kind == "xlsx" else "text/csv; charset=utf-8"
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename={name}.{kind}"
    return response


@role_required(Role.ADMIN, Role.SECURITY)
@require_safe
def user_import_template(request):
    return _attachment(users.template_file(), "xlsx", "user-import-template")


@role_required(Role.ADMIN, Role.SECURITY)
@require_http_methods(["GET", "POST"])
def user_import(request):
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                user_import = users.receive(form.cleaned_data["file"], request.user)
            except users.SheetRefused as refused:
                form.add_error("file", str(refused))
            else:
                return redirect("console:user_import_preview", pk=user_import.pk)
        return render(request, "console/user_import.html", {"form": form}, status=400)
    return render(request, "console/user_import.html", {"form": form})


@role_required(Role.ADMIN, Role.SECURITY)
@require_safe
def user_import_preview(request, pk):
    user_import = get_object_or_404(UserImport, pk=pk)
    rows = user_import.rows
    good = [row for row in rows if not row["errors"]]
    context = {"user_import": user_import, "rows": rows, "good": len(good), "bad": len(rows) - len(good)}
    return render(request, "console/user_import_preview.html", context)


@never_cache
@role_required(Role.ADMIN, Role.SECURITY)
@require_POST
def user_import_confirm(request, pk):
    user_import = get_object_or_404(UserImport, pk=pk)
    try:
        result = users.confirm(user_import, request.user)
    except users.AlreadyConfirmed:
        messages.error(request, _("这份用户表已经确认导入过，不会重复创建账户；初始密码只在确认时显示一次。"))
        return redirect("console:user_import_preview", pk=user_import.pk)
    record(
        EventType.IMPORT,
        request=request,
        obj=user_import,
        detail={
            "action": "user_import",
            "created": [row["username"] for row in result.created],
            "skipped": [row["line"] for row in result.skipped],
        },
    )
    token = signing.dumps({"i": user_import.pk, "c": result.created}, salt=LOGINS_SALT, compress=True)
    context = {"user_import": user_import, "created": result.created, "skipped": result.skipped, "token": token}
    return render(request, "console/user_import_done.html", context)


@never_cache
@role_required(Role.ADMIN, Role.SECURITY)
@require_POST
def user_import_logins(request, pk):
    """The file of the confirmed accounts' initial passwords, from the confirmation page."""
    form = LoginsForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(_("请求无效：请在确认导入后的页面下载。"))
    try:
        payload = signing.loads(form.cleaned_data["logins"], salt=LOGINS_SALT, max_age=LOGINS_MAX_AGE)
    except signing.BadSignature:
        return HttpResponseBadRequest(_("下载已过期或无效：初始密码只在确认导入后的一小时内可下载。"))
    if payload.get("i") != pk:
        return HttpResponseBadRequest(_("请求无效：请在确认导入后的页面下载。"))
    kind = form.cleaned_data["kind"]
    record(
        EventType.EXPORT,
        request=request,
        obj=get_object_or_404(UserImport, pk=pk),
        detail={"action": "user_import_logins", "kind": kind},
    )
    return _attachment(users.logins_file(payload["c"], kind), kind, f"initial-passwords-{pk}")
