"""The system admin's agency pages: the tree with staff, tasks and the staffing warning;
adding, editing, moving, merging, deactivating and re-enabling an agency. Every change is
an audit event; a refusal is a Chinese message and changes nothing."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.models import Agency
from audit.choices import EventType
from audit.history import give_reason
from audit.services import record
from console import agencies
from console.agency_forms import AgencyForm, DeactivateForm, MergeForm, MoveForm
from core.permissions import role_required
from core.roles import Role


@role_required(Role.ADMIN)
@require_safe
def agency_list(request):
    rows = agencies.tree_rows()
    context = {"rows": rows, "unstaffed": [row for row in rows if row.unstaffed]}
    return render(request, "console/agency_list.html", context)


def _save(request, form, *, action: str):
    agency = form.save(commit=False)
    give_reason(agency, _("新增单位") if action == "agency_add" else _("修改单位"))
    agency.save()
    record(
        EventType.ADMIN_ACTION,
        request=request,
        obj=agency,
        detail={"action": action, "changed": sorted(form.changed_data)},
    )
    return agency


@role_required(Role.ADMIN)
@require_http_methods(["GET", "POST"])
def agency_add(request):
    form = AgencyForm(request.POST or None, initial={"parent": request.GET.get("parent") or None})
    if request.method == "POST":
        if form.is_valid():
            agency = _save(request, form, action="agency_add")
            messages.success(request, _("已新增单位“%(agency)s”。") % {"agency": agency.name})
            return redirect("console:agencies")
        return render(request, "console/agency_form.html", {"form": form, "agency": None}, status=400)
    return render(request, "console/agency_form.html", {"form": form, "agency": None})


@role_required(Role.ADMIN)
@require_http_methods(["GET", "POST"])
def agency_edit(request, pk):
    agency = get_object_or_404(Agency, pk=pk)
    form = AgencyForm(request.POST or None, instance=agency)
    if request.method == "POST":
        if form.is_valid():
            if form.has_changed():
                _save(request, form, action="agency_edit")
                messages.success(request, _("已保存单位“%(agency)s”。") % {"agency": agency.name})
            else:
                messages.info(request, _("没有变化。"))
            return redirect("console:agencies")
        agency.refresh_from_db()
        return render(request, "console/agency_form.html", {"form": form, "agency": agency}, status=400)
    return render(request, "console/agency_form.html", {"form": form, "agency": agency})


@role_required(Role.ADMIN)
@require_http_methods(["GET", "POST"])
def agency_move(request, pk):
    agency = get_object_or_404(Agency, pk=pk)
    form = MoveForm(agency, request.POST or None, initial={"parent": agency.parent_id})
    if request.method == "POST":
        if form.is_valid():
            old_parent = agency.parent
            agency.parent = form.cleaned_data["parent"]
            give_reason(agency, _("移动单位"))
            agency.save(update_fields=["parent"])
            record(
                EventType.ADMIN_ACTION,
                request=request,
                obj=agency,
                detail={
                    "action": "agency_move",
                    "old_parent": old_parent.name if old_parent else None,
                    "new_parent": agency.parent.name if agency.parent else None,
                },
            )
            messages.success(request, _("已移动单位“%(agency)s”。") % {"agency": agency.name})
            return redirect("console:agencies")
        return render(request, "console/agency_move.html", {"form": form, "agency": agency}, status=400)
    return render(request, "console/agency_move.html", {"form": form, "agency": agency})


@role_required(Role.ADMIN)
@require_http_methods(["GET", "POST"])
def agency_merge(request, pk):
    source = get_object_or_404(Agency, pk=pk)
    form = MergeForm(request.POST or None)
    context = {"form": form, "agency": source, "users": source.users.count()}
    context["tasks"] = agencies.active_plan_task_count(source)
    if request.method == "POST":
        if form.is_valid():
            target = form.cleaned_data["target"]
            source_name, source_pk = source.name, source.pk
            try:
                result = agencies.merge(source, target)
            except ValidationError as error:
                form.add_error("target", error)
            else:
                record(
                    EventType.ADMIN_ACTION,
                    request=request,
                    obj=target,
                    detail={
                        "action": "agency_merge",
                        "source": {"id": source_pk, "name": source_name},
                        "moved": result.moved,
                        "dropped": result.dropped,
                        "owners_merged": result.owners_merged,
                        "aliases_added": result.aliases_added,
                        "users": result.users,
                    },
                )
                messages.success(
                    request,
                    _("已将“%(source)s”并入“%(target)s”，原名称已作为别名保留。")
                    % {"source": source_name, "target": target.name},
                )
                return redirect("console:agencies")
        return render(request, "console/agency_merge.html", context, status=400)
    return render(request, "console/agency_merge.html", context)


@role_required(Role.ADMIN)
@require_http_methods(["GET", "POST"])
def agency_deactivate(request, pk):
    agency = get_object_or_404(Agency, pk=pk)
    form = DeactivateForm(request.POST or None)
    context = {"form": form, "agency": agency, "tasks": agencies.active_plan_task_count(agency)}
    if request.method == "POST":
        if form.is_valid():
            target = form.cleaned_data["target"]
            try:
                result = agencies.deactivate(agency, target)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                record(
                    EventType.ADMIN_ACTION,
                    request=request,
                    obj=agency,
                    detail={
                        "action": "agency_deactivate",
                        "target": {"id": target.pk, "name": target.name} if target else None,
                        "owners_moved": result.moved,
                        "owners_merged": result.merged,
                        "responsible_removed": result.responsible_removed,
                    },
                )
                messages.success(request, _("已停用单位“%(agency)s”。") % {"agency": agency.name})
                return redirect("console:agencies")
        return render(request, "console/agency_deactivate.html", context, status=400)
    return render(request, "console/agency_deactivate.html", context)


@role_required(Role.ADMIN)
@require_POST
def agency_activate(request, pk):
    agency = get_object_or_404(Agency, pk=pk)
    if agency.is_active:
        messages.info(request, _("“%(agency)s”已在使用中。") % {"agency": agency.name})
        return redirect("console:agencies")
    agency.is_active = True
    give_reason(agency, _("启用单位"))
    agency.save(update_fields=["is_active"])
    record(EventType.ADMIN_ACTION, request=request, obj=agency, detail={"action": "agency_activate"})
    messages.success(request, _("已启用单位“%(agency)s”。") % {"agency": agency.name})
    return redirect("console:agencies")
