"""The plan import pages of the system admin: upload, progress, preview (with every edit a
clerk makes before confirming), and the confirmation."""

from django.contrib import messages
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.choices import MatchMethod
from core.jobs import progress_payload
from core.net import client_ip
from core.permissions import role_required
from core.roles import Role
from imports import services
from imports.choices import ImportStatus
from imports.forms import (
    IndicatorFormSet,
    MilestoneFormSet,
    OwnerMappingForm,
    PlanMetaForm,
    PlanUploadForm,
    SectionTitlesForm,
    TaskEditForm,
    mapping_field_name,
    rows_from,
)
from imports.models import PlanImport
from imports.preview import reading as parse_reading
from workplans.models import Plan

RECENT_IMPORTS = 20


def _plan_url(plan: Plan) -> str:
    return reverse("admin:workplans_plan_change", args=[plan.pk])


@role_required(Role.ADMIN)
@require_http_methods(["GET", "POST"])
def upload(request):
    form = PlanUploadForm(request.POST, request.FILES) if request.method == "POST" else PlanUploadForm()
    if form.is_bound and form.is_valid():
        outcome = services.start_import(
            form.cleaned_data["file"], created_by=request.user, replaces=form.cleaned_data["replaces"]
        )
        if outcome.existing_plan is not None:
            messages.info(request, outcome.message)
            return redirect(_plan_url(outcome.existing_plan))
        messages.info(request, outcome.message)
        return redirect("imports:status", pk=outcome.plan_import.pk)
    recent = PlanImport.objects.select_related("created_by", "plan").order_by("-created_at")[:RECENT_IMPORTS]
    context = {"form": form, "recent": recent}
    return render(request, "imports/upload.html", context, status=400 if form.errors else 200)


def _next_url(plan_import: PlanImport) -> str | None:
    if plan_import.status == ImportStatus.PARSED:
        return reverse("imports:preview", args=[plan_import.pk])
    if plan_import.status == ImportStatus.IMPORTED and plan_import.plan_id:
        return reverse("admin:workplans_plan_change", args=[plan_import.plan_id])
    return None


@role_required(Role.ADMIN)
@require_GET
def status(request, pk):
    plan_import = get_object_or_404(PlanImport, pk=pk)
    next_url = _next_url(plan_import)
    if next_url:
        return redirect(next_url)
    return render(request, "imports/status.html", {"plan_import": plan_import})


@role_required(Role.ADMIN)
@require_GET
def progress(request, pk):
    """What the status page polls: status, percent, the error, where to go next."""
    plan_import = get_object_or_404(PlanImport.objects.only("pk", "status", "progress", "error", "plan_id"), pk=pk)
    return JsonResponse(
        progress_payload(
            status=plan_import.status,
            status_label=plan_import.get_status_display(),
            percent=plan_import.progress,
            error=plan_import.error,
            next_url=_next_url(plan_import),
        )
    )


def _parsed_import_or_redirect(pk):
    plan_import = get_object_or_404(PlanImport.objects.select_related("replaces", "created_by"), pk=pk)
    if plan_import.status != ImportStatus.PARSED:
        return plan_import, redirect(_next_url(plan_import) or reverse("imports:status", args=[pk]))
    return plan_import, None


def _task_groups(doc, section_form=None):
    """Sections in document order (with depth), each with its tasks as (index, task) and the
    field that edits its title."""
    by_path: dict[tuple, list] = {}
    for index, task in enumerate(doc["tasks"]):
        by_path.setdefault(tuple(task["section"]), []).append((index, task))
    groups = []
    if by_path.get(()):
        groups.append({"path": (), "title": "", "depth": 0, "tasks": by_path[()]})
    for path, title in services.section_rows(doc):
        groups.append(
            {
                "path": path,
                "title": title,
                "depth": len(path) - 1,
                "tasks": by_path.get(path, []),
                "title_field": section_form.field_for(path) if section_form is not None else None,
            }
        )
    return groups


def _owner_rows(form: OwnerMappingForm, names, mapping, matcher, generic: set[str]):
    valid_ids = {str(pk) for pk in matcher.by_id}
    rows = []
    for name in names:
        match = matcher.match(name)
        chosen = mapping.get(name)
        if chosen not in (None, "", services.CREATE_AGENCY, services.SKIP_AGENCY) and str(chosen) not in valid_ids:
            chosen = None  # an agency deleted since the choice was saved, or a forged value
        rows.append(
            {
                "name": name,
                "match": match,
                "suggested": match.agency,
                "method": MatchMethod(match.method).label,
                "unmatched": chosen in (None, ""),
                "generic": name in generic,
                "skipped": chosen == services.SKIP_AGENCY,
                "select": form.select_html(name, chosen, invalid=chosen in (None, "")),
            }
        )
    return rows


def _preview_context(plan_import, doc, *, meta_form, section_form, mapping, mapping_form, matcher, problems):
    names = services.owner_names(doc)
    target = services.target_plan(plan_import, doc)
    doc_problems = services.check_document(doc)
    diff = None
    if target is not None and not doc_problems:
        diff = services.diff_plan(target, doc, {k: v for k, v in mapping.items() if v not in (None, "")}, matcher)
    problem_tasks = {p.task for p in problems if p.task is not None}
    owner_rows = _owner_rows(mapping_form, names, mapping, matcher, services.generic_owner_names(doc))
    return {
        "plan_import": plan_import,
        "doc": doc,
        "meta_form": meta_form,
        "owner_rows": owner_rows,
        "unmapped": sum(1 for row in owner_rows if row["unmatched"]),
        "groups": _task_groups(doc, section_form),
        "problems": problems,
        "problem_tasks": problem_tasks,
        "target": target,
        "diff": diff,
        "diff_tasks": {i: doc["tasks"][i] for i in diff.added} if diff else {},
        "task_count": len(doc["tasks"]),
        "reading": parse_reading(doc, mapping),
    }


@role_required(Role.ADMIN)
@require_http_methods(["GET", "POST"])
def preview(request, pk):
    plan_import, away = _parsed_import_or_redirect(pk)
    if away:
        return away
    document = plan_import.current_document
    doc = services.normalise_document(document)
    matcher = services.AgencyMatcher.load()
    names = services.owner_names(doc)
    mapping = services.effective_mapping(plan_import, doc, matcher)

    if request.method == "GET":
        meta_form = PlanMetaForm(initial=PlanMetaForm.initial_from(doc["plan"]), prefix="plan")
        mapping_form = OwnerMappingForm(names=names, agencies=matcher.agencies)
        section_form = SectionTitlesForm(sections=document.get("sections", []))
        problems = services.check_document(doc)
        status = 200
    else:
        meta_form = PlanMetaForm(request.POST, prefix="plan")
        mapping_form = OwnerMappingForm(request.POST, names=names, agencies=matcher.agencies)
        section_form = SectionTitlesForm(request.POST, sections=document.get("sections", []))
        outcome = _save_or_confirm(request, plan_import, doc, names, meta_form, mapping_form, section_form)
        if isinstance(outcome, HttpResponse):
            return outcome
        doc, mapping, problems = outcome
        status = 400
    context = _preview_context(
        plan_import,
        doc,
        meta_form=meta_form,
        section_form=section_form,
        mapping=mapping,
        mapping_form=mapping_form,
        matcher=matcher,
        problems=problems,
    )
    return render(request, "imports/preview.html", context, status=status)


def _form_problems(form, template: str) -> list:
    """A form's errors as the preview's problems, each named after its field."""
    return [
        services.Problem(template % {"field": form.fields[name].label if name in form.fields else "", "error": error})
        for name, errors in form.errors.items()
        for error in errors
    ]


def _save_or_confirm(request, plan_import, doc, names, meta_form, mapping_form, section_form):
    """A posted preview: saved, or confirmed into a plan (a redirect); else the document,
    mapping and problems to show the preview again with."""
    pk, document = plan_import.pk, plan_import.current_document
    confirming = request.POST.get("action") == "confirm"
    problems = []
    if meta_form.is_valid() and mapping_form.is_valid() and section_form.is_valid():
        edited = dict(document)
        edited["plan"] = meta_form.plan_meta()
        edited["sections"] = section_form.edited_sections()
        mapping = mapping_form.mapping()
        doc = services.normalise_document(edited)
        if not confirming:
            services.save_edits(plan_import, document=edited, mapping=mapping)
            messages.success(request, _("已保存修改。"))
            return redirect("imports:preview", pk=pk)
        try:
            result = services.confirm_import(
                plan_import,
                user=request.user,
                mapping=mapping,
                document=edited,
                activate=meta_form.cleaned_data["activate"],
                ip_address=client_ip(request),
            )
        except services.ImportRefused as refused:
            problems = refused.problems
        else:
            (messages.info if result.duplicate else messages.success)(request, result.message)
            return redirect(_plan_url(result.plan))
    else:
        # Show the posted choices again, not the saved ones.
        mapping = {n: mapping_form.data.get(mapping_field_name(n)) or None for n in names}
        problems = _form_problems(meta_form, _("%(field)s：%(error)s"))
        problems += _form_problems(mapping_form, _("“%(field)s”：%(error)s"))
        problems += _form_problems(section_form, _("部分“%(field)s”：%(error)s"))
    return doc, mapping, problems


@role_required(Role.ADMIN)
@require_http_methods(["GET", "POST"])
def task_edit(request, pk, index):
    plan_import, away = _parsed_import_or_redirect(pk)
    if away:
        return away
    doc = services.normalise_document(plan_import.current_document)
    if not 0 <= index < len(doc["tasks"]):
        raise Http404(_("没有这项任务"))
    task = doc["tasks"][index]
    section_paths = [((), ""), *services.section_rows(doc)]
    paths = [p for p, _t in section_paths]
    initial = {
        "section": paths.index(tuple(task["section"])),
        "number": task["number"] or "",
        "heading": task["heading"],
        "text": task["text"],
        "owners": "、".join(task["owners"]),
    }
    if request.method == "POST":
        form = TaskEditForm(request.POST, section_paths=section_paths)
        milestones = MilestoneFormSet(request.POST, prefix="ms")
        indicators = IndicatorFormSet(request.POST, prefix="ind")
        if form.is_valid() and milestones.is_valid() and indicators.is_valid():
            data = form.cleaned_data
            if data["delete"]:
                del doc["tasks"][index]
                messages.success(request, _("已删除第%(index)d项任务（不会导入）。") % {"index": index + 1})
            else:
                doc["tasks"][index] = {
                    "section": list(paths[data["section"]]),
                    "number": data["number"].strip() or None,
                    "heading": data["heading"].strip(),
                    "text": data["text"].strip(),
                    "owners": data["owners"],
                    "milestones": rows_from(milestones, "milestones"),
                    "indicators": rows_from(indicators, "indicators"),
                }
                messages.success(request, _("已保存第%(index)d项任务。") % {"index": index + 1})
            services.save_edits(plan_import, document=doc)
            return redirect(reverse("imports:preview", args=[pk]) + f"#task-{index}")
        status = 400
    else:
        form = TaskEditForm(initial=initial, section_paths=section_paths)
        milestones = MilestoneFormSet(
            prefix="ms", initial=[{"due": m["due"], "text": m["text"]} for m in task["milestones"]]
        )
        indicators = IndicatorFormSet(
            prefix="ind",
            initial=[
                {key: i[key] for key in ("name", "comparator", "target", "unit", "due")} for i in task["indicators"]
            ],
        )
        status = 200
    return render(
        request,
        "imports/task_edit.html",
        {
            "plan_import": plan_import,
            "index": index,
            "task": task,
            "form": form,
            "milestones": milestones,
            "indicators": indicators,
        },
        status=status,
    )
