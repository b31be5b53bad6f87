"""The system admin's plan pages (namespace `console`): a plan with its settings and its
tasks by section (with the bulk step over ticked tasks), the activation check, back to
draft, and one task's add / edit / move / split / merge / delete. Thin: console.plans
decides and writes; a refusal comes back on its page with the reason, changing nothing
(a closed year: 409; a bad form: 400)."""

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from console import plans
from console.plan_forms import (
    ActivateForm,
    BulkAction,
    BulkForm,
    MergeForm,
    MoveForm,
    PlanSettingsForm,
    SplitForm,
    TaskForm,
)
from console.refusals import add_errors
from core.permissions import role_required
from core.roles import Role
from tasks.models import Task
from workplans.choices import PlanStatus
from workplans.models import Plan

CLOSED, BAD = 409, 400


def _plan(pk) -> Plan:
    return get_object_or_404(
        Plan.objects.select_related("issuer", "leader_in_charge", "higher_plan", "closed_by"), pk=pk
    )


def _task(pk) -> Task:
    try:
        return plans.task_for_page(pk)
    except Task.DoesNotExist:
        raise Http404(_("没有这项任务。")) from None


def _refused(request, error: ValidationError, form=None) -> int:
    """Show a service's refusal (on the form when there is one); the status to answer."""
    if isinstance(error, plans.PlanClosed):
        messages.error(request, " ".join(error.messages))
        return CLOSED
    if form is not None:
        add_errors(form, error)
    else:
        messages.error(request, " ".join(error.messages))
    return BAD


def _closed(request, plan: Plan) -> int:
    messages.error(request, plans.closed_message(plan))
    return CLOSED


def _selection(request, plan: Plan) -> set[int]:
    """Tasks ticked when the page opens: ?select=unowned (from the activation check) or
    ?select=1,2,3."""
    wanted = request.GET.get("select", "")
    if wanted == "unowned":
        return set(plans.unowned_tasks(plan).values_list("pk", flat=True))
    return {int(part) for part in wanted.split(",") if part.strip().isdigit() and len(part.strip()) < 12}


def _plan_page(request, plan: Plan, *, settings_form=None, bulk_form=None, selected=None, status=200):
    tasks = list(plans.plan_tasks(plan))
    for task in tasks:
        task.lead, task.co_owner_list = plans.lead_and_co_owners(task)
    if selected is None:
        selected = _selection(request, plan)
    editable = not plan.is_closed
    if editable and settings_form is None:
        settings_form = PlanSettingsForm(instance=plan)
    if editable and bulk_form is None:
        bulk_form = BulkForm(plan=plan, initial={"mode": "replace"})
    unowned = sum(1 for task in tasks if task.lead is None and not task.reporting_exempt)
    context = {
        "plan": plan,
        "supervisors": list(plan.supervisors.order_by("full_name", "username")),
        "groups": plans.task_groups(plan, tasks),
        "task_count": len(tasks),
        "unowned": unowned,
        "selected": selected,
        "editable": editable,
        "settings_form": settings_form,
        "bulk_form": bulk_form,
        "source_name": plan.source_file.name.rsplit("/", 1)[-1] if plan.source_file else "",
        # Back to draft only while nobody has reported (the draft page says why not).
        "has_reports": plan.status == PlanStatus.ACTIVE and plans.plan_has_reports(plan),
    }
    return render(request, "console/plan_detail.html", context, status=status)


@role_required(Role.ADMIN)
@require_safe
def plan_detail(request, pk):
    return _plan_page(request, _plan(pk))


@role_required(Role.ADMIN)
@require_POST
def plan_settings(request, pk):
    plan = _plan(pk)
    if plan.is_closed:
        return _plan_page(request, plan, status=_closed(request, plan))
    # The form validates a copy: the page shows the plan as it is until the save succeeds.
    form = PlanSettingsForm(request.POST, instance=Plan.objects.get(pk=plan.pk))
    if not form.is_valid():
        return _plan_page(request, plan, settings_form=form, status=BAD)
    try:
        changes = plans.update_settings(plan.pk, request.user, form.settings())
    except ValidationError as error:
        return _plan_page(request, plan, settings_form=form, status=_refused(request, error, form))
    messages.success(request, _("已保存计划设置。") if changes else _("计划设置没有变化。"))
    return redirect("console:plan_detail", pk=plan.pk)


@role_required(Role.ADMIN)
@require_POST
def plan_bulk(request, pk):
    plan = _plan(pk)
    selected = {int(v) for v in request.POST.getlist("tasks") if v.isdigit() and len(v) < 12}
    if plan.is_closed:
        return _plan_page(request, plan, selected=selected, status=_closed(request, plan))
    form = BulkForm(request.POST, plan=plan)
    if not form.is_valid():
        return _plan_page(request, plan, bulk_form=form, selected=selected, status=BAD)
    data = form.cleaned_data
    ids = [task.pk for task in data["tasks"]]
    action = data["action"]
    try:
        if action == BulkAction.OWNERS:
            result = plans.bulk_set_owners(
                plan.pk,
                request.user,
                ids,
                lead=data["lead"],
                co_owners=list(data["co_owners"]),
                replace=data["replace"],
            )
        elif action == BulkAction.DUE:
            result = plans.bulk_set_due(plan.pk, request.user, ids, due_on=data["due_on"])
        elif action == BulkAction.RESPONSIBLE:
            result = plans.bulk_set_responsible(
                plan.pk, request.user, ids, users=list(data["responsible_users"]), replace=data["replace"]
            )
        else:
            result = plans.bulk_set_exempt(plan.pk, request.user, ids, exempt=action == BulkAction.EXEMPT)
    except ValidationError as error:
        status = _refused(request, error, form)
        return _plan_page(request, plan, bulk_form=form, selected=selected, status=status)
    done = _("已处理 %(n)d 项任务，其中 %(changed)d 项有变化。") % {
        "n": len(result.task_ids),
        "changed": result.changed,
    }
    messages.success(request, f"{done}{result.note}")
    return redirect(reverse("console:plan_detail", args=[plan.pk]) + "#tasks")


@role_required(Role.ADMIN)
@require_http_methods(["GET", "HEAD", "POST"])
def plan_activate(request, pk):
    plan = _plan(pk)
    form = ActivateForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if plan.is_closed:
            status = _closed(request, plan)
        elif form.is_valid():
            try:
                plans.activate(plan.pk, request.user, past_year_confirmed=form.cleaned_data["past_year_confirmed"])
            except ValidationError as error:
                status = _refused(request, error)
            else:
                messages.success(request, _("计划已启用：各责任单位现在可以看到并报送任务。"))
                return redirect("console:plan_detail", pk=plan.pk)
        else:
            status = BAD
    check = plans.activation_check(plan, timezone.localdate())
    context = {
        "plan": plan,
        "check": check,
        "form": form,
        "is_draft": plan.status == PlanStatus.DRAFT,
    }
    return render(request, "console/plan_activate.html", context, status=status)


@role_required(Role.ADMIN)
@require_http_methods(["GET", "HEAD", "POST"])
def plan_back_to_draft(request, pk):
    plan = _plan(pk)
    status = 200
    if request.method == "POST":
        try:
            plans.back_to_draft(plan.pk, request.user)
        except ValidationError as error:
            status = _refused(request, error)
        else:
            messages.success(request, _("计划已退回草稿：责任单位暂时看不到它，修改后可再次启用。"))
            return redirect("console:plan_detail", pk=plan.pk)
    context = {"plan": plan, "has_reports": plans.plan_has_reports(plan)}
    return render(request, "console/plan_draft.html", context, status=status)


# --- One task ------------------------------------------------------------------------------


def _task_page(request, template: str, context: dict, status: int = 200):
    task = context.get("task")
    plan = context["plan"]
    context.setdefault("editable", not plan.is_closed)
    context.setdefault(
        "back", reverse("console:plan_detail", args=[plan.pk]) + (f"#task-{task.pk}" if task else "#tasks")
    )
    return render(request, template, context, status=status)


def _after_write(plan: Plan, task_id: int | None = None):
    return redirect(reverse("console:plan_detail", args=[plan.pk]) + (f"#task-{task_id}" if task_id else "#tasks"))


@role_required(Role.ADMIN)
@require_http_methods(["GET", "HEAD", "POST"])
def task_add(request, pk):
    plan = _plan(pk)
    status = 200
    if request.method == "POST":
        form = TaskForm(request.POST, plan=plan)
        if plan.is_closed:
            status = _closed(request, plan)
        elif form.is_valid():
            try:
                task = plans.add_task(plan.pk, request.user, form.task_data())
            except ValidationError as error:
                status = _refused(request, error, form)
            else:
                messages.success(request, _("已新增任务“%(task)s”。") % {"task": task.label})
                return _after_write(plan, task.pk)
        else:
            status = BAD
    else:
        section = request.GET.get("section", "")
        form = TaskForm(
            plan=plan, initial={"section": int(section) if section.isdigit() and len(section) < 12 else None}
        )
    context = {
        "plan": plan,
        "form": form,
        "title": _("新增任务"),
        "action": reverse("console:plan_task_add", args=[plan.pk]),
    }
    return _task_page(request, "console/plan_task_form.html", context, status)


@role_required(Role.ADMIN)
@require_http_methods(["GET", "HEAD", "POST"])
def task_edit(request, pk):
    task = _task(pk)
    plan = task.plan
    status = 200
    if request.method == "POST":
        form = TaskForm(request.POST, plan=plan, task=task)
        if plan.is_closed:
            status = _closed(request, plan)
        elif form.is_valid():
            try:
                changed = plans.edit_task(task.pk, request.user, form.task_data())
            except ValidationError as error:
                status = _refused(request, error, form)
            else:
                messages.success(request, _("已保存任务。") if changed else _("任务没有变化。"))
                return _after_write(plan, task.pk)
        else:
            status = BAD
    else:
        form = TaskForm(plan=plan, task=task, initial=TaskForm.initial_for(task))
    context = {
        "plan": plan,
        "task": task,
        "form": form,
        "title": _("修改任务"),
        "action": reverse("console:plan_task_edit", args=[task.pk]),
        "task_links": True,
    }
    return _task_page(request, "console/plan_task_form.html", context, status)


def _task_form_view(request, pk, *, form_class, template, title, write, done):
    """A task page with one form whose valid post calls `write(task, form)`."""
    task = _task(pk)
    plan = task.plan
    status = 200
    if request.method == "POST":
        form = form_class(request.POST, task=task)
        if plan.is_closed:
            status = _closed(request, plan)
        elif form.is_valid():
            try:
                written = write(task, form)
            except ObjectDoesNotExist:
                raise Http404 from None
            except ValidationError as error:
                status = _refused(request, error, form)
            else:
                messages.success(request, done(written))
                return _after_write(plan, written.pk if isinstance(written, Task) else None)
        else:
            status = BAD
    else:
        form = form_class(task=task, initial=form_class.initial_for(task))
    context = {"plan": plan, "task": task, "form": form, "title": title, "action": request.path}
    return _task_page(request, template, context, status)


@role_required(Role.ADMIN)
@require_http_methods(["GET", "HEAD", "POST"])
def task_move(request, pk):
    def write(task, form):
        data = form.cleaned_data
        return plans.move_task(
            task.pk, request.user, section=data["section"], after=data["after"], number=data["number"]
        )

    return _task_form_view(
        request,
        pk,
        form_class=MoveForm,
        template="console/plan_task_move.html",
        title=_("移动任务"),
        write=write,
        done=lambda task: _("已移动任务“%(task)s”。") % {"task": task.label},
    )


@role_required(Role.ADMIN)
@require_http_methods(["GET", "HEAD", "POST"])
def task_split(request, pk):
    def write(task, form):
        return plans.split_task(task.pk, request.user, **form.cleaned_data)

    return _task_form_view(
        request,
        pk,
        form_class=SplitForm,
        template="console/plan_task_split.html",
        title=_("拆分任务"),
        write=write,
        done=lambda task: _("已拆分出新任务“%(task)s”，责任单位与原任务相同。") % {"task": task.label},
    )


@role_required(Role.ADMIN)
@require_http_methods(["GET", "HEAD", "POST"])
def task_merge(request, pk):
    def write(task, form):
        return plans.merge_tasks(task.pk, form.cleaned_data["other"].pk, request.user)

    return _task_form_view(
        request,
        pk,
        form_class=MergeForm,
        template="console/plan_task_merge.html",
        title=_("合并任务"),
        write=write,
        done=lambda task: _("已把所选任务并入“%(task)s”。") % {"task": task.label},
    )


@role_required(Role.ADMIN)
@require_http_methods(["GET", "HEAD", "POST"])
def task_delete(request, pk):
    task = _task(pk)
    plan = task.plan
    status = 200
    if request.method == "POST":
        if plan.is_closed:
            status = _closed(request, plan)
        else:
            try:
                plans.delete_task(task.pk, request.user)
            except ObjectDoesNotExist:
                raise Http404 from None
            except ValidationError as error:
                status = _refused(request, error)
            else:
                messages.success(request, _("已删除任务“%(task)s”。") % {"task": task.label})
                return _after_write(plan)
    context = {"plan": plan, "task": task, "history": plans.history_of(task), "title": _("删除任务")}
    return _task_page(request, "console/plan_task_delete.html", context, status)
