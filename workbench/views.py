"""The task pages: 我的任务 (the task list), the task page with its progress report, 责任人,
evidence downloads and the task's audit trail."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import OuterRef, Prefetch, Q, Subquery
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template import loader
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from accounts.models import Agency
from accounts.services import scope_agency_ids
from audit.choices import EventType
from audit.services import record
from core.lists import listing
from core.permissions import role_required
from core.roles import WORK_ROLES, Role
from escalation.views import task_panel as escalation_panel
from indicators.models import Indicator, Reading
from indicators.services import attained, correct_reading, with_latest_reading
from supervision.closeout_views import task_panel as closeout_panel
from supervision.progress import StaleVersion, report_progress
from supervision.report_views import panels as supervision_panels
from tasks.choices import OwnerRole
from tasks.filters import TaskFilterSet
from tasks.models import Attachment, Milestone, MilestoneEvent, Task, TaskOwner
from tasks.quotas import QuotaExceeded
from tasks.risk import task_risk
from tasks.services import assignable_users, may_view_audit_trail, owed_this_cycle_q, reopen_milestone, task_access
from workbench.forms import ProgressForm, ResponsibleForm
from workbench.trail import task_audit_trail
from workplans.cycles import current_cycle, is_reported
from workplans.models import Plan

TASKS_PER_PAGE = 30
# Plans offered at a time by the plan filter's search box.
PLAN_OPTIONS = 20
HISTORY_ON_PAGE = 20
AUDIT_ON_PAGE = 30
AUDIT_PER_PAGE = 50


def milestone_overdue(due_on, done_on, today) -> bool:
    """A time node is overdue (已逾期) when its date has passed and it is not done."""
    return due_on is not None and done_on is None and due_on < today


def _mark(task, today):
    """Risk mark, its reason and this cycle's report, for a task with its plan loaded."""
    task.risk, task.risk_reason = task_risk(task, today)
    task.cycle = current_cycle(task.plan, today)
    task.reported = is_reported(task.last_progress_at, task.cycle)
    task.overdue = task.is_overdue(today)
    # The next open milestone (my_tasks' annotation) is the earliest: overdue when any is.
    task.milestone_overdue = milestone_overdue(getattr(task, "next_milestone_on", None), None, today)


@role_required(*WORK_ROLES)
@require_safe
def my_tasks(request):
    """我的任务: the tasks the user's agency owns (leaders: their agencies'; admins: all).

    What it costs follows the user's scope, not the city: the filters, the count and the sort
    run on the tasks' ids and sort keys only, starting from the owner rows of the user's
    agencies (Task.objects.visible_to, index taskowner_agency_task_idx; on PostgreSQL the
    keys come from task_list_cover_idx); the page's 30 tasks are then read whole, by id, in
    the same query. Plans are offered through a search box (plan_options), not a select."""
    today = timezone.localdate()
    scope = scope_agency_ids(request.user)
    visible = Task.objects.visible_to(request.user)
    # Active plans by default; a past year's (archived) plan when one is asked for, as the
    # dashboards' drill-down does.
    asks_for_plan = bool(request.GET.get("plan") or request.GET.get("year"))
    base = visible if asks_for_plan else visible.active()
    plans = Plan.objects.visible_to(request.user).order_by("-year", "title")
    agencies = Agency.objects.all() if scope is None else Agency.objects.filter(pk__in=scope)
    found = listing(
        request,
        TaskFilterSet,
        base.order_by("due_on", "plan_id", "order", "id").values_list("pk", flat=True),
        per_page=TASKS_PER_PAGE,
        plans=plans,
        agencies=agencies,
        today=today,
        plan_search_url=reverse("tasks:plan_options"),
    )
    filters, page = found.filters, found.page
    scope_is_own = request.user.role == Role.STAFF
    page.object_list = _page_tasks(visible, page.object_list, with_owners=not scope_is_own)
    for task in page:
        _mark(task, today)
        if not scope_is_own:
            _mark_owners(task, request.user.agency_id)
    owed = visible.filter(owed_this_cycle_q(today)).count()
    return render(
        request,
        "tasks/my_tasks.html",
        {
            "page": page,
            "filters": filters,
            "owed": owed,
            "today": today,
            "scope_is_own": scope_is_own,
            # The viewer's own agency's role on each task; an admin's has none to show.
            "shows_own_role": scope_is_own or bool(request.user.agency_id),
            # The full filter panel opens when a filter other than the search is in use.
            "filters_open": bool(set(request.GET) - {"q", "page"}) or found.invalid,
        },
        status=400 if found.invalid else 200,
    )


def _page_tasks(visible, keys, *, with_owners: bool):
    """The tasks of one page, whole: `keys` is the page's slice of the ordered ids, read as a
    subquery of the same statement (`pk IN (… LIMIT 30)`), so the rows come in one query."""
    next_milestone = Milestone.objects.filter(task=OuterRef("pk"), done_on__isnull=True).order_by("due_on", "order")
    # text and search_text are wide and the list shows neither.
    rows = (
        visible.filter(pk__in=keys)
        .select_related("plan", "section")
        .defer("text", "search_text")
        .annotate(
            next_milestone_on=Subquery(next_milestone.values("due_on")[:1]),
            next_milestone_text=Subquery(next_milestone.values("text")[:1]),
        )
        .order_by(*keys.query.order_by)
    )
    if with_owners:
        # 任务清单 names each task's lead and co-owners (one query for the page).
        owners = TaskOwner.objects.select_related("agency").order_by("role", "order", "id")
        rows = rows.prefetch_related(Prefetch("task_owners", queryset=owners))
    return rows


@role_required(*WORK_ROLES)
@require_safe
def plan_options(request):
    """The plan filter's search box (static/js/search_select.js): up to PLAN_OPTIONS plans the
    user may see (Plan.objects.visible_to) whose title holds every word typed, newest year
    first, as JSON {"results": [{"id", "text"}], "more"}."""
    plans = Plan.objects.visible_to(request.user)
    for word in request.GET.get("q", "")[:100].split():
        plans = plans.filter(Q(title__icontains=word) | Q(doc_number__icontains=word))
    found = list(plans.order_by("-year", "title", "id").only("id", "title")[: PLAN_OPTIONS + 1])
    return JsonResponse(
        {
            "results": [{"id": plan.pk, "text": str(plan)} for plan in found[:PLAN_OPTIONS]],
            "more": len(found) > PLAN_OPTIONS,
        }
    )


def _mark_owners(task, agency_id):
    """The task's lead and co-owner agencies, and the role of the viewer's own agency on this
    task (牵头, 配合, or none): not whether some agency of the viewer's tree leads it."""
    owners = list(task.task_owners.all())
    task.lead_agencies = [o.agency for o in owners if o.role == OwnerRole.LEAD]
    task.co_agencies = [o.agency for o in owners if o.role == OwnerRole.CO_OWNER]
    task.own_role = next((o.role for o in owners if agency_id and o.agency_id == agency_id), "")


def _load_task(request, pk):
    task = get_object_or_404(
        Task.objects.select_related(
            "plan", "plan__issuer", "section", "carried_from", "carried_from__plan", "serves", "serves__plan"
        ).prefetch_related(
            Prefetch("task_owners", queryset=TaskOwner.objects.select_related("agency").order_by("role", "order")),
            # The rollover's links (templates/tasks/_task_links.html).
            Prefetch("carried_into", queryset=Task.objects.select_related("plan")),
        ),
        pk=pk,
    )
    return task, task_access(request.user, task)


def _task_context(request, task, access, *, form=None, conflict=None, responsible_form=None, refused=None):
    """The task page. `refused`: a correction or a reopening that was not saved, as
    {"reading": id} or {"milestone": id}, with "errors" and what was typed ("data")."""
    today = timezone.localdate()
    _mark(task, today)
    milestones = list(
        task.milestones.order_by("due_on", "order", "id").prefetch_related(
            Prefetch(
                "events", queryset=MilestoneEvent.objects.select_related("recorded_by").order_by("recorded_at", "id")
            )
        )
    )
    task._prefetched_objects_cache["milestones"] = milestones
    for milestone in milestones:
        milestone.overdue = milestone_overdue(milestone.due_on, milestone.done_on, today)
    indicators = list(with_latest_reading(Indicator.objects.filter(task=task)).order_by("order", "id"))
    # A latest value that is a correction shows what it replaced, and why.
    corrections = Reading.objects.filter(
        pk__in=[i.latest_id for i in indicators if i.latest_id], supersedes__isnull=False
    ).select_related("supersedes", "reporter")
    corrections_by_id = {reading.pk: reading for reading in corrections}
    for indicator in indicators:
        indicator.met = attained(indicator.comparator, indicator.target, indicator.latest_value)
        indicator.correction = corrections_by_id.get(indicator.latest_id)
    updates = list(_updates_with_details(task.progress_updates.order_by("-created_at", "-id"))[: HISTORY_ON_PAGE + 1])
    responsible = list(task.responsible_users.order_by("full_name", "username"))
    # The lead's period report and a co-owner's input (supervision.report_views) take the
    # place of the free-form progress form for the staff who write them.
    supervision = supervision_panels(request, task, indicators=indicators, today=today)
    if form is not None:
        # The free-form report came back refused (task_report): show it alone, as sent.
        supervision.pop("report_panel", None)
        supervision.pop("coinput_panel", None)
    has_panel = "report_panel" in supervision or "coinput_panel" in supervision
    can_write = access.can_report or access.can_change_status
    if form is None and can_write and not has_panel:
        form = ProgressForm(task=task, access=access, indicators=indicators)
    if responsible_form is None and access.can_assign:
        responsible_form = ResponsibleForm(candidates=assignable_users(task), initial={"users": responsible})
    audit, more_audit = task_audit_trail(task, limit=AUDIT_ON_PAGE)
    return {
        "task": task,
        "access": access,
        "owners": list(task.task_owners.all()),
        "milestones": milestones,
        "indicators": indicators,
        "updates": updates[:HISTORY_ON_PAGE],
        "more_updates": len(updates) > HISTORY_ON_PAGE,
        "attachments": list(task.attachments.select_related("uploaded_by").order_by("-created_at", "-id")[:50]),
        "responsible": responsible,
        "form": form,
        "responsible_form": responsible_form,
        "conflict": conflict,
        "audit": audit,
        "more_audit": more_audit,
        "today": today,
        "refused": refused or {},
        **supervision,
        **closeout_panel(request, task),
        **escalation_panel(request, task),
    }


@login_required
@require_safe
def task_detail(request, pk):
    task, access = _load_task(request, pk)
    if not access.can_view:
        raise PermissionDenied
    return render(request, "tasks/task_detail.html", _task_context(request, task, access))


@login_required
@require_POST
def task_report(request, pk):
    """Save a progress report. With HTMX the page's main panel is swapped in place; without
    it the browser is redirected back to the task page."""
    task, access = _load_task(request, pk)
    if not (access.can_report or access.can_change_status):
        raise PermissionDenied
    indicators = list(with_latest_reading(Indicator.objects.filter(task=task)).order_by("order", "id"))
    form = ProgressForm(request.POST, request.FILES, task=task, access=access, indicators=indicators)
    if not access.can_change_status and ({"status", "percent", "milestones"} & set(request.POST)):
        # A co-owner's form has no such fields; a request that sends them is refused
        # outright rather than silently ignored.
        raise PermissionDenied
    status = 200
    conflict = None
    if form.is_valid():
        try:
            report_progress(task.pk, request.user, **form.report_kwargs())
        except StaleVersion as stale:
            conflict = stale
            task, access = _load_task(request, pk)
            # Keep what the user typed, on top of the current version, ready to re-apply.
            data = request.POST.copy()
            data["version"] = stale.task.version
            form = ProgressForm(data, task=task, access=access, indicators=indicators)
            form.is_valid()
            status = 409
        except QuotaExceeded as refused:
            return quota_refused(refused)
        except ValidationError as error:
            for field, field_errors in error.message_dict.items():
                form.add_error(None if field not in form.fields else field, field_errors)
            status = 400
        else:
            messages.success(request, _("进展已保存。"))
            # To the message (the page's JS focuses it too): the user's eyes are on the form.
            return redirect(reverse("tasks:task_detail", args=[task.pk]) + "#task-message")
    else:
        status = 400
    task, access = _load_task(request, pk)
    context = _task_context(request, task, access, form=form, conflict=conflict)
    return render(request, "tasks/task_detail.html", context, status=status)


@login_required
@require_POST
def reading_correct(request, pk, reading_pk):
    """Correct one of the task's readings (indicators.services.correct_reading): a new
    reading that supersedes it, with the reason; the old one stays, struck through."""
    task, access = _load_task(request, pk)
    reading = get_object_or_404(Reading.objects.filter(indicator__task=task), pk=reading_pk)
    if not access.can_report:
        raise PermissionDenied
    data = {key: request.POST.get(key, "").strip()[:500] for key in ("value", "as_of", "reason")}
    try:
        correct_reading(
            reading.pk,
            request.user,
            value=data["value"],
            as_of=data["as_of"],
            reason=data["reason"],
            today=timezone.localdate(),
        )
    except ValidationError as error:
        refused = {"reading": reading.pk, "errors": [m for ms in error.message_dict.values() for m in ms], "data": data}
        context = _task_context(request, task, access, refused=refused)
        return render(request, "tasks/task_detail.html", context, status=400)
    messages.success(request, _("指标值已更正，原值已保留。"))
    return redirect(reverse("tasks:task_detail", args=[task.pk]) + "#indicators")


@login_required
@require_POST
def milestone_reopen(request, pk, milestone_pk):
    """Take back a milestone's completion, with a reason (tasks.services.reopen_milestone)."""
    task, access = _load_task(request, pk)
    milestone = get_object_or_404(Milestone.objects.filter(task=task), pk=milestone_pk)
    if not access.can_change_status:
        raise PermissionDenied
    reason = request.POST.get("reason", "").strip()[:500]
    try:
        reopen_milestone(milestone.pk, request.user, reason)
    except ValidationError as error:
        refused = {
            "milestone": milestone.pk,
            "errors": [m for ms in error.message_dict.values() for m in ms],
            "data": {"reason": reason},
        }
        context = _task_context(request, task, access, refused=refused)
        return render(request, "tasks/task_detail.html", context, status=400)
    messages.success(request, _("已撤销该时间节点的完成，原完成记录已保留。"))
    return redirect(reverse("tasks:task_detail", args=[task.pk]) + "#milestones")


@login_required
@require_POST
def task_responsible(request, pk):
    task, access = _load_task(request, pk)
    if not access.can_assign:
        raise PermissionDenied
    form = ResponsibleForm(request.POST, candidates=assignable_users(task))
    if form.is_valid():
        task.responsible_users.set(form.cleaned_data["users"])
        messages.success(request, _("责任人已更新。"))
        return redirect(reverse("tasks:task_detail", args=[task.pk]) + "#responsible")
    context = _task_context(request, task, access, responsible_form=form)
    return render(request, "tasks/task_detail.html", context, status=400)


@login_required
@require_safe
def attachment_download(request, pk):
    attachment = get_object_or_404(Attachment.objects.select_related("task"), pk=pk)
    _task, access = _load_task(request, attachment.task_id)
    if not access.can_view:
        raise PermissionDenied
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404(_("文件不存在或已被移除。")) from None
    # 导出: who took which evidence file, recorded before it leaves; no record, no file.
    record_evidence_download(attachment)
    response = FileResponse(
        handle, as_attachment=True, filename=attachment.original_name, content_type=attachment.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_safe
def task_history(request, pk):
    """The task's whole audit trail, page by page. Auditors may read it (and only it)."""
    task, access = _load_task(request, pk)
    if not may_view_audit_trail(request.user, task, access):
        raise PermissionDenied
    try:
        page_number = max(int(request.GET.get("page", 1)), 1)
    except ValueError:
        page_number = 1
    entries, more = task_audit_trail(task, limit=AUDIT_PER_PAGE, offset=(page_number - 1) * AUDIT_PER_PAGE)
    return render(
        request,
        "tasks/task_history.html",
        {
            "task": task,
            "access": access,
            "entries": entries,
            "page_number": page_number,
            "has_next": more,
            "has_previous": page_number > 1,
        },
    )


@login_required
@require_safe
def task_updates(request, pk):
    """Every progress update of the task, page by page."""
    task, access = _load_task(request, pk)
    if not access.can_view:
        raise PermissionDenied
    updates = _updates_with_details(task.progress_updates.order_by("-created_at", "-id"))
    page = Paginator(updates, AUDIT_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "tasks/task_updates.html", {"task": task, "access": access, "page": page})


def _updates_with_details(updates):
    return updates.select_related("author", "author__agency").prefetch_related(
        Prefetch("attachments", queryset=Attachment.objects.order_by("id")),
        Prefetch(
            "readings",
            queryset=Reading.objects.select_related("indicator", "superseded_by", "superseded_by__reporter").order_by(
                "id"
            ),
        ),
        Prefetch("milestones_done", queryset=Milestone.objects.order_by("due_on")),
    )


def quota_refused(refused: QuotaExceeded) -> HttpResponse:
    """429 with the quota's own message (the site's 429 page) and when to try again."""
    body = loader.get_template("429.html").render({"message": refused.message})
    response = HttpResponse(body, status=429)
    response["Retry-After"] = str(refused.retry_after)
    return response


def record_evidence_download(attachment: Attachment):
    """The 导出 event of an evidence file handed out from a task page."""
    return record(
        EventType.EXPORT,
        obj=attachment,
        detail={
            "kind": "evidence",
            "task": attachment.task_id,
            "file": attachment.original_name,
            "size": attachment.size,
            "sha256": attachment.sha256,
        },
    )
