"""The plan import pages of the system admin: upload, progress, preview (with every edit a
clerk makes before confirming), and the confirmation."""

from collections import Counter

from django.contrib import messages
from django.db import transaction
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.choices import MatchMethod
from accounts.pickers import agency_tree
from audit.choices import EventType
from audit.services import record
from core.jobs import progress_payload
from core.net import client_ip
from core.permissions import role_required
from core.roles import Role
from imports import services
from imports.choices import ImportStatus
from imports.forms import (
    BulkOwnersForm,
    CreateUnmatchedForm,
    DecisionsForm,
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
    return reverse("console:plan_detail", args=[plan.pk])


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
        return reverse("console:plan_detail", args=[plan_import.plan_id])
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


def _valid_choice(value, valid_ids: set[str]) -> bool:
    group = services.group_ids(value)
    if group is not None:
        return bool(group) and all(str(pk) in valid_ids for pk in group)
    parent = services.create_parent(value)
    if parent is not None:
        return str(parent) in valid_ids
    return value in (services.CREATE_AGENCY, services.SKIP_AGENCY) or str(value) in valid_ids


def _owner_rows(form: OwnerMappingForm, names, mapping, matcher, generic: set[str], counts: Counter):
    valid_ids = {str(pk) for pk in matcher.by_id}
    rows = []
    for name in names:
        match = matcher.match(name)
        chosen = mapping.get(name)
        if chosen not in (None, "") and not _valid_choice(chosen, valid_ids):
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
                "tasks": counts[name],
                "select": form.select_html(name, chosen, invalid=chosen in (None, "")),
            }
        )
    return rows


class _State:
    """An import as the preview shows it: the document, its normalised copy, the matcher,
    the plan it updates, and the owner mapping in effect (saved choices over suggestions)."""

    def __init__(self, plan_import: PlanImport):
        self.plan_import = plan_import
        self.document = plan_import.current_document
        self.doc = services.normalise_document(self.document)
        self.matcher = services.AgencyMatcher.load()
        self.target = services.target_plan(plan_import, self.doc)
        self.previous = services.previous_mapping(plan_import, self.target)
        self.mapping = services.effective_mapping(plan_import, self.doc, self.matcher, previous=self.previous)
        self.names = services.owner_names(self.doc)
        self.generic = services.generic_owner_names(self.doc)

    def forms(self, data=None, *, tree=None):
        """The preview's own form (plan details, mapping, section titles, decisions), bound
        to `data` when posted."""
        decisions = {
            f"{DecisionsForm.prefix}-{key}": value for key, value in (self.plan_import.decisions or {}).items()
        }
        return {
            "meta_form": PlanMetaForm(
                data, initial=PlanMetaForm.initial_from(self.doc["plan"]) if data is None else None, prefix="plan"
            ),
            "mapping_form": OwnerMappingForm(
                data, names=self.names, agencies=self.matcher.agencies, generic=self.generic, tree=tree
            ),
            "section_form": SectionTitlesForm(data, sections=self.document.get("sections", [])),
            "decisions_form": DecisionsForm(
                data, initial=decisions if data is None else None, updates_plan=self.target is not None
            ),
        }


def _preview_context(state: _State, forms: dict, *, mapping, problems, bulk_form=None, create_form=None):
    plan_import, doc, matcher, target = state.plan_import, state.doc, state.matcher, state.target
    decisions = plan_import.decisions or {}
    keep_hand_set = not decisions.get("overwrite")
    doc_problems = services.check_document(doc)
    diff = None
    if target is not None and not doc_problems:
        usable = {k: v for k, v in mapping.items() if v not in (None, "", [])}
        diff = services.diff_plan(target, doc, usable, matcher, keep_hand_set=keep_hand_set)
    problem_tasks = {p.task for p in problems if p.task is not None}
    counts = Counter(name for task in doc["tasks"] for name in task["owners"])
    owner_rows = _owner_rows(forms["mapping_form"], state.names, mapping, matcher, state.generic, counts)
    gaps = services.find_gaps(doc, mapping)
    decisions_form = forms["decisions_form"]
    return {
        "plan_import": plan_import,
        "doc": doc,
        **forms,
        "owner_rows": owner_rows,
        "unmapped": sum(1 for row in owner_rows if row["unmatched"]),
        "groups": _task_groups(doc, forms["section_form"]),
        "problems": problems,
        "problem_tasks": problem_tasks,
        "target": target,
        "diff": diff,
        "diff_tasks": {i: doc["tasks"][i] for i in diff.added} if diff else {},
        "task_count": len(doc["tasks"]),
        "reading": parse_reading(doc, mapping),
        "gaps": [(gap, decisions_form[gap.key]) for gap in gaps],
        "ownerless": {item.task for gap in gaps if gap.key == "ownerless" for item in gap.items},
        "bulk_form": bulk_form or BulkOwnersForm(task_count=len(doc["tasks"])),
        "create_form": create_form or CreateUnmatchedForm(),
    }


def _render_preview(request, state: _State, *, forms=None, mapping=None, problems=None, status=200, **extra):
    tree = agency_tree()
    forms = forms or state.forms(tree=tree)
    if forms["mapping_form"].is_bound:
        forms["mapping_form"] = OwnerMappingForm(
            forms["mapping_form"].data,
            names=state.names,
            agencies=state.matcher.agencies,
            generic=state.generic,
            tree=tree,
        )
        forms["mapping_form"].is_valid()
    problems = problems if problems is not None else services.check_document(state.doc)
    context = _preview_context(
        state, forms, mapping=mapping if mapping is not None else state.mapping, problems=problems, **extra
    )
    return render(request, "imports/preview.html", context, status=status)


@role_required(Role.ADMIN)
@require_http_methods(["GET", "POST"])
def preview(request, pk):
    plan_import, away = _parsed_import_or_redirect(pk)
    if away:
        return away
    state = _State(plan_import)
    if request.method == "GET":
        return _render_preview(request, state)
    forms = state.forms(request.POST)
    all_valid = _save_posted(plan_import, state, forms)
    confirming = request.POST.get("action") == "confirm"
    if not all_valid:
        # Show the posted choices again (the valid ones are saved already).
        mapping = {**state.mapping, **{n: request.POST.get(mapping_field_name(n)) or None for n in state.names}}
        for name, value in forms["mapping_form"].mapping().items():
            mapping[name] = value
        problems = _form_problems(forms["meta_form"], _("%(field)s：%(error)s"))
        problems += _form_problems(forms["mapping_form"], _("“%(field)s”：%(error)s"))
        problems += _form_problems(forms["section_form"], _("部分“%(field)s”：%(error)s"))
        problems += _form_problems(forms["decisions_form"], _("“%(field)s”：%(error)s"))
        return _render_preview(request, state, forms=forms, mapping=mapping, problems=problems, status=400)
    if not confirming:
        messages.success(request, _("已保存修改。"))
        return redirect("imports:preview", pk=pk)
    try:
        result = services.confirm_import(
            plan_import,
            user=request.user,
            # What the page posted is what is confirmed (a name left at “— 请选择 —” too).
            mapping={**state.mapping, **forms["mapping_form"].mapping()},
            document=plan_import.edited_document,
            activate=forms["meta_form"].cleaned_data["activate"],
            ip_address=client_ip(request),
            decisions=plan_import.decisions,
        )
    except services.ImportRefused as refused:
        # Everything typed is saved: the page shows it again, from the import.
        return _render_preview(request, _State(plan_import), problems=refused.problems, status=400)
    (messages.info if result.duplicate else messages.success)(request, result.message)
    return redirect(_plan_url(result.plan))


def _save_posted(plan_import: PlanImport, state: _State, forms: dict) -> bool:
    """Save every valid part of a posted preview (plan details, section titles, each owner
    choice, the decisions) on the import; True when every part was valid."""
    valid = {name: form.is_valid() for name, form in forms.items()}
    edited = dict(state.document)
    if valid["meta_form"]:
        edited["plan"] = forms["meta_form"].plan_meta()
    if valid["section_form"]:
        edited["sections"] = forms["section_form"].edited_sections()
    services.save_edits(
        plan_import,
        document=edited,
        mapping=forms["mapping_form"].mapping(),
        decisions=forms["decisions_form"].decisions() if valid["decisions_form"] else None,
    )
    return all(valid.values())


@role_required(Role.ADMIN)
@require_POST
def autosave(request, pk):
    """What static/js/import_preview.js posts on every change of the preview form: the valid
    parts are saved at once; the answer is a short status for the page to show."""
    plan_import = get_object_or_404(PlanImport, pk=pk)
    if plan_import.status != ImportStatus.PARSED:
        return JsonResponse(
            {"status": "closed", "message": _("该导入已确认或不可修改，请刷新页面查看状态。")}, status=409
        )
    state = _State(plan_import)
    forms = state.forms(request.POST)
    all_valid = _save_posted(plan_import, state, forms)
    saved_at = f"{timezone.localtime():%H:%M:%S}"
    if all_valid:
        return JsonResponse({"status": "saved", "message": _("已自动保存（%(time)s）") % {"time": saved_at}})
    errors = [
        f"{form.fields[name].label if name in form.fields else ''}：{error}"
        for form in forms.values()
        for name, errs in form.errors.items()
        for error in errs
    ]
    return JsonResponse(
        {
            "status": "partial",
            "message": _("已保存其余修改（%(time)s）；有错误的项未保存：%(errors)s")
            % {"time": saved_at, "errors": _("；").join(errors)},
            "errors": errors,
        },
        status=400,
    )


@role_required(Role.ADMIN)
@require_POST
def bulk_owners(request, pk):
    """“Set lead / co-owners of the selected tasks”: the ticked task rows get the agencies
    picked from the tree, in one step."""
    plan_import, away = _parsed_import_or_redirect(pk)
    if away:
        return away
    state = _State(plan_import)
    form = BulkOwnersForm(request.POST, task_count=len(state.doc["tasks"]))
    if not form.is_valid():
        problems = _form_problems(form, _("%(field)s：%(error)s"))
        return _render_preview(request, state, problems=problems, bulk_form=form, status=400)
    agencies = form.agencies()
    indexes = form.cleaned_data["tasks"]
    with transaction.atomic():
        count = services.set_task_owners(plan_import, indexes, agencies)
        record(
            EventType.ADMIN_ACTION,
            request=request,
            obj=plan_import,
            detail={"action": "import_set_owners", "tasks": sorted(indexes), "agencies": [a.pk for a in agencies]},
        )
    messages.success(
        request,
        _("已为%(n)d项任务设置责任单位：%(names)s（第一个为牵头单位）。")
        % {"n": count, "names": _("、").join(a.name for a in agencies)},
    )
    return redirect(reverse("imports:preview", args=[pk]) + "#tasks")


@role_required(Role.ADMIN)
@require_POST
def create_unmatched(request, pk):
    """“Create all unmatched names under …”: every name mapped to nothing yet becomes a new
    agency (named as written) under the chosen parent when the import is confirmed."""
    plan_import, away = _parsed_import_or_redirect(pk)
    if away:
        return away
    state = _State(plan_import)
    form = CreateUnmatchedForm(request.POST)
    if not form.is_valid():
        problems = _form_problems(form, _("%(field)s：%(error)s"))
        return _render_preview(request, state, problems=problems, create_form=form, status=400)
    parent = form.cleaned_data["parent"]
    with transaction.atomic():
        names = services.create_unmatched(plan_import, state.doc, state.mapping, parent)
        if names:
            record(
                EventType.ADMIN_ACTION,
                request=request,
                obj=plan_import,
                detail={"action": "import_create_unmatched", "names": names, "parent": parent.pk if parent else None},
            )
    if names:
        messages.success(
            request,
            _("%(n)d个未对应的名称将在确认导入时新建为单位（%(where)s）：%(names)s。")
            % {
                "n": len(names),
                "where": _("上级：%(parent)s") % {"parent": parent.name} if parent else _("顶层单位"),
                "names": _("、").join(names),
            },
        )
    else:
        messages.info(request, _("没有未对应的名称。"))
    return redirect(reverse("imports:preview", args=[pk]) + "#owner-map")


def _form_problems(form, template: str) -> list:
    """A form's errors as the preview's problems, each named after its field."""
    return [
        services.Problem(template % {"field": form.fields[name].label if name in form.fields else "", "error": error})
        for name, errors in form.errors.items()
        for error in errors
    ]


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
            picked = form.picked()
            if picked:
                data["owners"] = [agency.name for agency in picked]
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
            # Owners picked from the tree go in as their exact names, each mapped to its agency.
            services.save_edits(
                plan_import, document=doc, mapping={agency.name: agency.pk for agency in picked or []} or None
            )
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
