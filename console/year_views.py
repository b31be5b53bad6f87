"""The console's year pages (system admin): closing a plan's year, the rollover of its
unfinished tasks into the next year, and the alignment with a higher plan. Thin:
console.year and console.alignment decide and check; a refused step comes back on its
page with the reason (400 for bad input, 409 when the plan's state refuses it), changing
nothing."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from console import alignment, year
from console.refusals import add_errors
from console.year_forms import CloseForm, HigherPlanForm, LinksForm, RolloverForm, choice_field, serves_field
from core.permissions import role_required
from core.roles import Role
from core.scope import get_visible_or_404
from tasks.models import Task, TaskOwner
from workplans.choices import PlanStatus
from workplans.models import Plan

# A refusal because of the plan's or the scheme's state, not the input: 409.
CONFLICT_CODES = ("not_active", "stale", "frozen", "closed", "no_higher_plan")


def _plan(request, pk) -> Plan:
    plans = Plan.objects.visible_to(request.user).select_related("higher_plan", "closed_by", "issuer")
    return get_visible_or_404(request, plans, pk=pk)


def _status_of(error: ValidationError) -> int:
    codes = {getattr(e, "code", None) for e in getattr(error, "error_list", [error])}
    return 409 if codes & set(CONFLICT_CODES) else 400


# --- Closing the year ------------------------------------------------------------------


@role_required(Role.ADMIN)
@require_http_methods(["GET", "HEAD", "POST"])
def year_close(request, pk):
    plan = _plan(request, pk)
    figures = year.close_figures(plan)
    scheme = figures.scheme
    form = CloseForm(request.POST or None, initial={"scheme_version": scheme.version if scheme else None})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                year.close_year(plan.pk, request.user, scheme_version=form.cleaned_data["scheme_version"])
            except ValidationError as error:
                form.add_error(None, error.messages)
                status = _status_of(error)
            else:
                messages.success(request, _("本年度已关闭：计划已归档，数据只读（长期推进的任务除外）。"))
                return redirect("console:year_close", plan.pk)
        else:
            status = 400
    context = {
        "plan": plan,
        "figures": figures,
        "form": form,
        "can_close": plan.status == PlanStatus.ACTIVE,
    }
    return render(request, "console/year_close.html", context, status=status)


# --- The rollover ----------------------------------------------------------------------


@role_required(Role.ADMIN)
@require_http_methods(["GET", "HEAD", "POST"])
def rollover(request, pk):
    plan = _plan(request, pk)
    tasks = year.preview_tasks(plan)
    targets = list(year.target_plans(plan))
    # The plan tasks were carried into already, if it can still take more; else the first.
    carried_into = {new.plan_id for task in tasks for new in task.carried_into.all()}
    default = next((target.pk for target in targets if target.pk in carried_into), targets[0].pk if targets else None)
    initial = {
        "target": year.NEW_PLAN if default is None else str(default),
        "new_title": year.next_title(plan),
        **{choice_field(task.pk): year.default_choice(task) for task in tasks},
    }
    bound = request.method == "POST"
    form = RolloverForm(request.POST if bound else None, initial=initial, targets=targets, tasks=tasks)
    status = 200
    if bound:
        if not form.is_valid():
            status = 400
        elif request.POST.get("action") == "confirm":
            try:
                result = year.rollover(
                    plan.pk,
                    request.user,
                    choices=form.choices(),
                    target_plan_id=form.target_plan_id(),
                    new_title=form.cleaned_data["new_title"],
                )
            except ValidationError as error:
                add_errors(form, error)
                status = _status_of(error)
            else:
                counts = {
                    "carried": len(result.carried),
                    "long_term": len(result.long_term),
                    "left": len(result.left),
                    "already": len(result.already_carried),
                }
                if result.target is not None:
                    text = _(
                        "已结转 %(carried)d 项任务至《%(target)s》；长期推进 %(long_term)d 项；"
                        "不结转 %(left)d 项；此前已结转的 %(already)d 项未重复结转。"
                    ) % {**counts, "target": result.target.title}
                else:
                    text = (
                        _(
                            "未结转任务，未新建计划；长期推进 %(long_term)d 项；不结转 %(left)d 项；"
                            "此前已结转 %(already)d 项。"
                        )
                        % counts
                    )
                messages.success(request, text)
                return redirect("console:rollover", plan.pk)
    chosen = form.submitted_choices() if bound else {}
    totals, per_agency = year.counts_by_agency(tasks, chosen)
    choices = year.Choice.choices()
    rows = [(task, chosen.get(task.pk, year.default_choice(task))) for task in tasks]
    context = {
        "plan": plan,
        "form": form,
        "rows": rows,
        "choices": choices,
        "totals": [(value, label, totals.get(value, 0)) for value, label in choices],
        "per_agency": [(row.agency, [row.counts.get(value, 0) for value, _label in choices]) for row in per_agency],
        "already": sum(1 for task in tasks if task.carried_into.all()),
        "targets": targets,
        "new_plan": year.NEW_PLAN,
        "selected_target": form["target"].value(),
    }
    return render(request, "console/year_rollover.html", context, status=status)


# --- Alignment with the higher plan ------------------------------------------------------


@role_required(Role.ADMIN)
@require_http_methods(["GET", "HEAD", "POST"])
def alignment_page(request, pk):
    plan = _plan(request, pk)
    local_tasks = list(
        plan.tasks.select_related("section")
        .prefetch_related(
            Prefetch("task_owners", queryset=TaskOwner.objects.select_related("agency").order_by("role", "order"))
        )
        .order_by("order", "pk")
    )
    higher_tasks = (
        list(Task.objects.filter(plan_id=plan.higher_plan_id).select_related("section").order_by("order", "pk"))
        if plan.higher_plan_id
        else []
    )
    action = request.POST.get("action") if request.method == "POST" else None
    higher_form = HigherPlanForm(
        request.POST if action == "higher" else None, plan=plan, initial={"higher_plan": plan.higher_plan_id}
    )
    links_form = LinksForm(
        request.POST if action in ("links", "bulk") else None, tasks=local_tasks, higher_tasks=higher_tasks
    )
    status = 200
    if action == "higher":
        if higher_form.is_valid():
            chosen = higher_form.cleaned_data["higher_plan"]
            try:
                _plan_after, cleared = alignment.set_higher_plan(plan.pk, request.user, chosen.pk if chosen else None)
            except ValidationError as error:
                add_errors(higher_form, error)
                status = _status_of(error)
            else:
                text = _("上级计划已保存。")
                if cleared:
                    text += _("原对应的 %(n)d 项上级任务已清除。") % {"n": cleared}
                messages.success(request, text)
                return redirect("console:alignment", plan.pk)
        else:
            status = 400
    elif action in ("links", "bulk"):
        if links_form.is_valid():
            try:
                changed = alignment.link_tasks(plan.pk, request.user, links_form.links())
            except ValidationError as error:
                add_errors(links_form, error)
                status = _status_of(error)
            else:
                messages.success(request, _("已保存 %(n)d 项任务的对应关系。") % {"n": changed})
                return redirect("console:alignment", plan.pk)
        else:
            status = 400
    elif action is not None:
        messages.error(request, _("无法识别的操作。"))
        status = 400
    posted = links_form.data if links_form.is_bound and links_form.data.get("action") == "links" else {}
    rows = []
    for task in local_tasks:
        value = posted.get(serves_field(task.pk)) if posted else task.serves_id
        rows.append((task, str(value or "")))
    context = {
        "plan": plan,
        "higher_form": higher_form,
        "links_form": links_form,
        "rows": rows,
        "higher_tasks": higher_tasks,
        "coverage": alignment.coverage(plan, higher_tasks, local_tasks),
        "selected": {str(pk) for pk in links_form.data.getlist("selected")} if links_form.is_bound else set(),
        "read_only": plan.is_closed,
    }
    return render(request, "console/alignment.html", context, status=status)
