"""Escalation's pages, under /escalation/ (namespace `escalation`): the 督办 page (open
notices by level and age, unanswered past their deadline first), a notice's page (facts,
requirements, the thread, and the steps the user may take), the printable notice, and the
forms to issue a notice, urge (催办), instruct (批示) and hold the ladder; plus the task
page's panel (`task_panel`). Thin: escalation's services decide and check; a refused step
comes back on its form with the reason, changing nothing."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.models import Agency
from core.lists import listing
from core.permissions import role_required
from core.roles import WORK_ROLES, Role
from core.scope import get_visible_or_404
from escalation import holds, notices, printing, urges
from escalation import permissions as can
from escalation.by_hand import issue_by_hand
from escalation.choices import RANK, Action, InstructionState, Level, UrgeState
from escalation.forms import (
    AnswerForm,
    DecisionForm,
    HoldForm,
    InstructionForm,
    NoticeFilter,
    NoticeForm,
    ReplyForm,
    RespondForm,
    UrgeForm,
    VersionForm,
)
from escalation.machine import INSTRUCTIONS, NOTICES, URGES
from escalation.models import Instruction, Notice, Step, Urge, overdue_q
from supervision.closeout_views import form_errors_from, load_task
from supervision.machine import StaleDecision
from workplans.models import Plan

PER_PAGE = 50
ON_TASK = 20


# --- The 督办 page ------------------------------------------------------------------------


def _board_rows(queryset, today):
    """Unanswered past the deadline first, then the most severe, then the oldest."""
    return queryset.annotate(
        overdue=Case(
            When(overdue_q(today), then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        ),
        rank=Case(*[When(level=level, then=Value(rank)) for level, rank in RANK.items()], output_field=IntegerField()),
    ).order_by("-overdue", "-rank", "issued_at", "pk")


@role_required(*WORK_ROLES)
@require_safe
def board(request):
    if not request.GET:
        # The page opens on the open notices, and says so in its address (its filter form
        # and page links keep it).
        return redirect(f"{request.path}?state=open")
    today = timezone.localdate()
    visible = Notice.objects.visible_to(request.user)
    agencies = Agency.objects.filter(pk__in=visible.values("agency_id")).order_by("name")
    plans = Plan.objects.filter(pk__in=visible.values("task__plan_id")).order_by("-year", "title")
    rows = _board_rows(visible.select_related("task__plan", "agency"), today)
    found = listing(request, NoticeFilter, rows, per_page=PER_PAGE, agencies=agencies, plans=plans)
    counts = visible.open().aggregate(
        **{level: Count("pk", filter=Q(level=level)) for level in Level.values},
        overdue=Count("pk", filter=overdue_q(today)),
    )
    context = {
        "listing": found,
        "filters": found.filters,
        "page": found.page,
        "counts": counts,
        "levels": Level,
        "today": today,
        "urges": list(
            Urge.objects.visible_to(request.user)
            .filter(state=UrgeState.OPEN)
            .select_related("task__plan", "issued_by")
            .order_by("issued_at")[:PER_PAGE]
        ),
        "instructions": list(
            Instruction.objects.visible_to(request.user)
            .filter(state__in=(InstructionState.OPEN, InstructionState.RESPONDED))
            .select_related("task__plan", "issued_by")
            .order_by("respond_by", "pk")[:PER_PAGE]
        ),
    }
    return render(request, "escalation/board.html", context, status=400 if found.invalid else 200)


# --- A notice ---------------------------------------------------------------------------------


def _refused(obj, machine, action: str, user) -> str:
    """Why `user` may not take `action` on `obj` now because of its state (the machine's
    own check, before the form is read); PermissionDenied (403) when it is not theirs to
    take; "" when they may."""
    try:
        machine.check(obj, user, action, version=None)
    except ValidationError as error:
        return " ".join(error.messages)
    return ""


def _load_notice(request, pk) -> Notice:
    visible = (
        Notice.objects.visible_to(request.user)
        .select_related("task__plan", "task__section", "agency", "issued_by", "answer_update", "superseded_by")
        .prefetch_related("task__task_owners", "copied_to")
    )
    return get_visible_or_404(request, visible, pk=pk)


def _notice_page(request, notice, *, answer_form=None, decision_form=None, alert="", status=200):
    user = request.user
    allowed = NOTICES.allowed(notice, user)
    if answer_form is None and Action.ANSWER in allowed:
        answer_form = AnswerForm(initial={"version": notice.version})
    deciding = {Action.CLOSE, Action.RETURN, Action.CANCEL} & set(allowed)
    if decision_form is None and deciding:
        decision_form = DecisionForm(initial={"version": notice.version})
    attachments = list(notice.answer_update.attachments.all()) if notice.answer_update_id else []
    context = {
        "notice": notice,
        "task": notice.task,
        "thread": list(Step.objects.filter(notice=notice).select_related("actor")),
        "can_acknowledge": Action.ACKNOWLEDGE in allowed,
        "answer_form": answer_form if Action.ANSWER in allowed else None,
        "decision_form": decision_form if deciding else None,
        "deciding": deciding,
        "attachments": attachments,
        "instructions": list(notice.instructions.select_related("issued_by")),
        "can_instruct": can.may_instruct(user, notice.task),
        "pdf_available": printing.pdf_available(),
        "alert": alert,
        "today": timezone.localdate(),
    }
    return render(request, "escalation/notice_detail.html", context, status=status)


@role_required(*WORK_ROLES)
@require_safe
def notice_detail(request, pk):
    return _notice_page(request, _load_notice(request, pk))


@role_required(Role.STAFF, Role.LEADER)
@require_POST
def notice_acknowledge(request, pk):
    notice = _load_notice(request, pk)
    form = VersionForm(request.POST)
    if not form.is_valid():
        return _notice_page(request, notice, alert=_("请刷新页面后重试。"), status=400)
    try:
        notices.acknowledge(notice.pk, request.user, version=form.cleaned_data["version"])
    except StaleDecision as stale:
        return _notice_page(request, _load_notice(request, pk), alert=str(stale), status=409)
    except ValidationError as error:
        return _notice_page(request, _load_notice(request, pk), alert=" ".join(error.messages), status=400)
    messages.success(request, _("已签收。请在反馈时限前反馈办理情况。"))
    return redirect("escalation:notice_detail", pk=notice.pk)


@role_required(Role.STAFF)
@require_POST
def notice_answer(request, pk):
    notice = _load_notice(request, pk)
    refused = _refused(notice, NOTICES, Action.ANSWER, request.user)
    if refused:
        return _notice_page(request, notice, alert=refused, status=400)
    form = AnswerForm(request.POST, request.FILES)
    if not form.is_valid():
        return _notice_page(request, notice, answer_form=form, status=400)
    try:
        notices.answer(
            notice.pk,
            request.user,
            version=form.cleaned_data["version"],
            text=form.cleaned_data["text"],
            plan=form.cleaned_data["plan"],
            evidence=form.cleaned_data["files"],
        )
    except StaleDecision as stale:
        return _notice_page(request, _load_notice(request, pk), alert=str(stale), status=409)
    except ValidationError as error:
        form.add_service_errors(error)
        return _notice_page(request, _load_notice(request, pk), answer_form=form, status=400)
    messages.success(request, _("反馈已提交，等待督查室审核办结。"))
    return redirect("escalation:notice_detail", pk=notice.pk)


DECISIONS = {"close": Action.CLOSE, "return": Action.RETURN, "cancel": Action.CANCEL}
DECIDED = {
    Action.CLOSE: _("督办单已办结。"),
    Action.RETURN: _("反馈已退回，主送单位须重新反馈。"),
    Action.CANCEL: _("督办单已撤销。"),
}


@role_required(Role.SUPERVISOR)
@require_POST
def notice_decide(request, pk):
    notice = _load_notice(request, pk)
    action = DECISIONS.get(request.POST.get("decision", ""))
    form = DecisionForm(request.POST)
    refused = _("请选择处理方式。") if action is None else _refused(notice, NOTICES, action, request.user)
    if refused:
        return _notice_page(request, notice, alert=refused, status=400)
    if not form.is_valid():
        return _notice_page(request, notice, decision_form=form, status=400)
    try:
        notices.decide(
            notice.pk, request.user, action, version=form.cleaned_data["version"], comment=form.cleaned_data["comment"]
        )
    except StaleDecision as stale:
        return _notice_page(request, _load_notice(request, pk), alert=str(stale), status=409)
    except ValidationError as error:
        form_errors_from(form, error)
        return _notice_page(request, _load_notice(request, pk), decision_form=form, status=400)
    messages.success(request, DECIDED[action])
    return redirect("escalation:notice_detail", pk=notice.pk)


def _download(content: bytes, name: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, name)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@role_required(*WORK_ROLES)
@require_safe
def notice_docx(request, pk):
    notice = _load_notice(request, pk)
    try:
        content = printing.render_docx(notice)
    except printing.NoticeTemplateError as refused:
        return _notice_page(request, notice, alert=str(refused), status=503)
    return _download(content, printing.filename(notice, "docx"), printing.CONTENT_TYPES["docx"])


@role_required(*WORK_ROLES)
@require_safe
def notice_pdf(request, pk):
    notice = _load_notice(request, pk)
    try:
        content = printing.render_pdf(notice)
    except (printing.PdfUnavailable, printing.NoticeTemplateError) as refused:
        return _notice_page(request, notice, alert=str(refused), status=503)
    if content is None:
        return _notice_page(
            request, notice, alert=_("本系统未安装 LibreOffice，暂不能生成 PDF，请下载 Word 版。"), status=503
        )
    return _download(content, printing.filename(notice, "pdf"), printing.CONTENT_TYPES["pdf"])


# --- Issuing, urging, instructing, holding on a task -----------------------------------------


@role_required(Role.SUPERVISOR)
@require_http_methods(["GET", "HEAD", "POST"])
def notice_new(request, pk):
    task = load_task(request, pk)
    if not can.may_issue_notice(request.user, task):
        raise PermissionDenied(_("您无权对该任务下发督办单。"))
    status = 200
    if request.method == "POST":
        form = NoticeForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                notice = issue_by_hand(task.pk, request.user, **form.cleaned_data)
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                messages.success(request, _("督办单%(number)s已下发。") % {"number": notice.number})
                return redirect("escalation:notice_detail", pk=notice.pk)
    else:
        level = request.GET.get("level") if request.GET.get("level") in Level.values else Level.YELLOW
        form = NoticeForm(initial=NoticeForm.initial_for(level, notices.suggested_facts(task)))
    context = {"task": task, "form": form, "open_notices": list(notices.open_notices(task.pk))}
    return render(request, "escalation/notice_new.html", context, status=status)


def _task_form_page(request, task, form, template, *, status=200, **extra):
    return render(request, template, {"task": task, "form": form, **extra}, status=status)


@role_required(Role.SUPERVISOR, Role.LEADER)
@require_http_methods(["GET", "HEAD", "POST"])
def urge_new(request, pk):
    task = load_task(request, pk)
    if not can.may_urge(request.user, task):
        raise PermissionDenied(_("您无权催办该任务。"))
    if request.method != "POST":
        return _task_form_page(request, task, UrgeForm(), "escalation/urge_new.html")
    form = UrgeForm(request.POST)
    if form.is_valid():
        try:
            urges.urge(task.pk, request.user, **form.cleaned_data)
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            messages.success(request, _("已催办，牵头单位将在任务页和待办中看到。"))
            return redirect("tasks:task_detail", pk=task.pk)
    return _task_form_page(request, task, form, "escalation/urge_new.html", status=400)


@role_required(Role.LEADER)
@require_http_methods(["GET", "HEAD", "POST"])
def instruction_new(request, pk):
    task = load_task(request, pk)
    if not can.may_instruct(request.user, task):
        raise PermissionDenied(_("您无权对该任务作出批示。"))
    task_notices = list(Notice.objects.filter(task=task).order_by("-issued_at")[:ON_TASK])
    if request.method != "POST":
        initial = {"notice": request.GET.get("notice")} if (request.GET.get("notice") or "").isdigit() else {}
        form = InstructionForm(initial=initial)
        return _task_form_page(request, task, form, "escalation/instruction_new.html", notices=task_notices)
    form = InstructionForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            urges.instruct(
                task.pk, request.user, text=data["text"], respond_by=data["respond_by"], notice_id=data["notice"]
            )
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            messages.success(request, _("批示已发出。"))
            return redirect("tasks:task_detail", pk=task.pk)
    return _task_form_page(request, task, form, "escalation/instruction_new.html", status=400, notices=task_notices)


@role_required(Role.SUPERVISOR)
@require_http_methods(["GET", "HEAD", "POST"])
def hold_task(request, pk):
    task = load_task(request, pk)
    if not can.may_hold(request.user, task):
        raise PermissionDenied(_("您无权暂停该任务的自动督办。"))
    current = holds.active_hold(task.pk)
    if request.method != "POST":
        return _task_form_page(request, task, HoldForm(), "escalation/hold.html", current=current)
    form = HoldForm(request.POST)
    if form.is_valid():
        try:
            holds.hold(task.pk, request.user, **form.cleaned_data)
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            messages.success(request, _("已暂停该任务的自动督办。"))
            return redirect("tasks:task_detail", pk=task.pk)
    return _task_form_page(request, task, form, "escalation/hold.html", status=400, current=current)


@role_required(Role.SUPERVISOR)
@require_POST
def release_task(request, pk):
    task = load_task(request, pk)
    try:
        holds.release(task.pk, request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("已恢复该任务的自动督办。"))
    return redirect("tasks:task_detail", pk=task.pk)


# --- Answers on the task page -----------------------------------------------------------------


def _back(task_id):
    return redirect(reverse("tasks:task_detail", kwargs={"pk": task_id}) + "#escalation")


def _answer(request, obj, machine, action, form, run, done: str):
    """A one-step answer from the task page: refused with its reason (and nothing
    changed), or done; back to the task either way."""
    refused = _refused(obj, machine, action, request.user)
    if refused:
        messages.error(request, refused)
        return _back(obj.task_id)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return _back(obj.task_id)
    try:
        run(form.cleaned_data)
    except StaleDecision as stale:
        messages.error(request, str(stale))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done)
    return _back(obj.task_id)


def _load_urge(request, pk) -> Urge:
    visible = Urge.objects.visible_to(request.user).select_related("task__plan").prefetch_related("task__task_owners")
    return get_visible_or_404(request, visible, pk=pk)


def _load_instruction(request, pk) -> Instruction:
    visible = (
        Instruction.objects.visible_to(request.user).select_related("task__plan").prefetch_related("task__task_owners")
    )
    return get_visible_or_404(request, visible, pk=pk)


@role_required(*WORK_ROLES)
@require_safe
def urge_detail(request, pk):
    return _back(_load_urge(request, pk).task_id)


@role_required(*WORK_ROLES)
@require_safe
def instruction_detail(request, pk):
    return _back(_load_instruction(request, pk).task_id)


@role_required(Role.STAFF)
@require_POST
def urge_reply(request, pk):
    urge = _load_urge(request, pk)
    form = ReplyForm(request.POST)

    def run(data):
        urges.reply(urge.pk, request.user, version=data["version"], answer=data["answer"])

    return _answer(request, urge, URGES, Action.REPLY, form, run, _("已答复催办。"))


@role_required(Role.STAFF)
@require_POST
def instruction_respond(request, pk):
    instruction = _load_instruction(request, pk)
    form = RespondForm(request.POST)

    def run(data):
        urges.respond(instruction.pk, request.user, version=data["version"], response=data["response"])

    return _answer(request, instruction, INSTRUCTIONS, Action.RESPOND, form, run, _("已反馈批示落实情况。"))


@role_required(Role.LEADER)
@require_POST
def instruction_conclude(request, pk):
    instruction = _load_instruction(request, pk)
    action = Action.SETTLE if request.POST.get("decision") == "settle" else Action.RETURN
    form = DecisionForm(request.POST)

    def run(data):
        urges.conclude(instruction.pk, request.user, action, version=data["version"], comment=data["comment"])

    done = _("批示已办结。") if action == Action.SETTLE else _("已退回，请牵头单位补充落实情况。")
    return _answer(request, instruction, INSTRUCTIONS, action, form, run, done)


# --- The task page's panel ----------------------------------------------------------------------


def task_panel(request, task) -> dict:
    """What templates/escalation/_task_panel.html needs for a task (plan and owners loaded):
    the open urges and instructions (with the answer forms for who answers them), the
    notices (history), the hold, and the buttons the user may use. Five queries."""
    user = request.user
    today = timezone.localdate()
    notice_rows = list(
        Notice.objects.filter(task=task).select_related("issued_by").order_by("-issued_at", "-id")[:ON_TASK]
    )
    urge_rows = list(
        Urge.objects.filter(task=task)
        .select_related("issued_by", "answered_by")
        .order_by("-issued_at", "-id")[:ON_TASK]
    )
    instruction_rows = list(
        Instruction.objects.filter(task=task)
        .select_related("issued_by", "responded_by", "notice")
        .order_by("-issued_at", "-id")[:ON_TASK]
    )
    for urge in urge_rows:
        urge.task = task
        urge.can_reply = URGES.may(urge, user, Action.REPLY)
    for instruction in instruction_rows:
        instruction.task = task
        instruction.can_respond = INSTRUCTIONS.may(instruction, user, Action.RESPOND)
        instruction.can_conclude = INSTRUCTIONS.may(instruction, user, Action.SETTLE)
    for notice in notice_rows:
        notice.task = task
        notice.overdue = notice.is_overdue(today)
        notice.owed = bool({Action.ACKNOWLEDGE, Action.ANSWER} & set(NOTICES.allowed(notice, user)))
    hold = holds.active_hold(task.pk, today)
    open_notices = [n for n in notice_rows if n.is_open]
    return {
        "escalation_panel": {
            "notices": notice_rows,
            "open_notices": open_notices,
            "owed_notices": [n for n in open_notices if n.owed],
            "urges": urge_rows,
            "open_urges": [u for u in urge_rows if u.state == UrgeState.OPEN],
            "instructions": instruction_rows,
            "open_instructions": [i for i in instruction_rows if i.state != InstructionState.SETTLED],
            "hold": hold,
            "can_issue": can.may_issue_notice(user, task),
            "can_urge": can.may_urge(user, task),
            "can_instruct": can.may_instruct(user, task),
            "can_hold": can.may_hold(user, task),
            "today": today,
        }
    }


urlpatterns = [
    path("", board, name="board"),
    path("notices/<int:pk>/", notice_detail, name="notice_detail"),
    path("notices/<int:pk>/acknowledge/", notice_acknowledge, name="notice_acknowledge"),
    path("notices/<int:pk>/answer/", notice_answer, name="notice_answer"),
    path("notices/<int:pk>/decide/", notice_decide, name="notice_decide"),
    path("notices/<int:pk>/docx/", notice_docx, name="notice_docx"),
    path("notices/<int:pk>/pdf/", notice_pdf, name="notice_pdf"),
    path("tasks/<int:pk>/notices/new/", notice_new, name="notice_new"),
    path("tasks/<int:pk>/urge/", urge_new, name="urge_new"),
    path("tasks/<int:pk>/instruct/", instruction_new, name="instruction_new"),
    path("tasks/<int:pk>/hold/", hold_task, name="hold"),
    path("tasks/<int:pk>/release/", release_task, name="release"),
    path("urges/<int:pk>/", urge_detail, name="urge_detail"),
    path("urges/<int:pk>/reply/", urge_reply, name="urge_reply"),
    path("instructions/<int:pk>/", instruction_detail, name="instruction_detail"),
    path("instructions/<int:pk>/respond/", instruction_respond, name="instruction_respond"),
    path("instructions/<int:pk>/conclude/", instruction_conclude, name="instruction_conclude"),
]
