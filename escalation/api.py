"""/api/v1/notices/, /urges/ and /instructions/: escalation (督办单, 催办, 批示) through the
API — list, issue, and the steps taken on them.

Built on the supervision loop's API (supervision.api.LoopViewSet) and so answering as it
does: every write calls the same service as the pages (escalation.by_hand, .notices,
.urges), so the same rules apply; who may act is escalation.permissions' (through the state
machines), what a caller sees is `visible_to` (another agency's object, or a task they may
not open, answers 404).

A step carries the version of the object it was taken on: `If-Match` with the object's ETag
(`"notice-12-v3"`), or a `version` field in the body (neither: 428). When someone acted
first the answer is 409 with the object as it is now."""

from django.db.models import Prefetch
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser

from api.parsers import MultiPartParser
from escalation import notices, urges
from escalation.by_hand import issue_by_hand
from escalation.filters import InstructionFilterSet, NoticeFilterSet, UrgeFilterSet
from escalation.machine import INSTRUCTIONS, NOTICES, URGES
from escalation.models import Instruction, Notice, Step, Urge
from escalation.serializers import (
    INSTRUCTION_DECISIONS,
    INSTRUCTION_TAG,
    NOTICE_DECISIONS,
    NOTICE_TAG,
    URGE_TAG,
    InstructionConcludeSerializer,
    InstructionCreateSerializer,
    InstructionRespondSerializer,
    InstructionSerializer,
    NoticeAnswerSerializer,
    NoticeDecisionSerializer,
    NoticeIssueSerializer,
    NoticeSerializer,
    UrgeCreateSerializer,
    UrgeReplySerializer,
    UrgeSerializer,
    VersionSerializer,
)
from supervision.api import IF_MATCH, NO_VERSION, STALE, TASK_STALE, WITH_FILES, LoopViewSet
from tasks.api import load_task
from tasks.models import TaskOwner

WRONG_VERSION = OpenApiResponse(description=gettext_lazy("If-Match 不是该事项的 ETag：响应中有它的当前状态"))

# Each object with its task, the task's plan and owners (what the rules and `actions` read),
# the people named and the thread, in a fixed number of queries whatever the page holds.
_OWNERS = Prefetch("task__task_owners", queryset=TaskOwner.objects.order_by("order", "id"))
_STEPS = Prefetch("steps", queryset=Step.objects.select_related("actor").order_by("created_at", "id"))


def _loaded(model):
    return model.objects.select_related("task__plan", "issued_by").prefetch_related(_OWNERS, _STEPS)


class EscalationViewSet(LoopViewSet):
    """The loop's viewset with escalation's machine: a step the caller may not take on an
    object in a state that allows it is refused (403) before its input is looked at, as
    the pages refuse it."""

    machine = None

    def refuse_unless_allowed(self, obj, step: str, message: str) -> None:
        edge = self.machine.edge(step)
        self.check_write(obj.state not in edge.sources or edge.who(self.request.user, obj), message)


# --- 督办单 ------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        description=gettext_lazy(
            "督办单：调用者可见任务的督办单（蓝色、黄色、红色），含流程记录和本人可执行的操作；"
            "state=open 为未办结的，overdue=true 为逾期未反馈的。"
        )
    ),
    retrieve=extend_schema(description=gettext_lazy("一份督办单；ETag 响应头为其当前版本。")),
)
class NoticeViewSet(EscalationViewSet):
    queryset = _loaded(Notice).select_related("agency").prefetch_related("copied_to")
    serializer_class = NoticeSerializer
    filterset_class = NoticeFilterSet
    ordering_fields = ["issued_at", "reply_due_on", "answered_at", "closed_at", "id"]
    ordering = ["-issued_at", "-id"]
    tag_kind = NOTICE_TAG
    machine = NOTICES

    def base_path(self) -> str:
        return "/api/v1/notices/"

    @extend_schema(
        request=NoticeIssueSerializer,
        responses={201: NoticeSerializer},
        description=gettext_lazy(
            "人工下发督办单（督查专员）：任意等级，编号按年度连续；同一任务已有同级或更高等级未办结的督办单时不能下发，"
            "更高等级的督办单使较低等级的未办结督办单升级。"
        ),
    )
    def create(self, request, *args, **kwargs):
        data = self.valid(NoticeIssueSerializer, request.data)
        task = load_task(request, data["task"])
        notice = self.run(
            issue_by_hand,
            task.pk,
            request.user,
            level=data["level"],
            requirements=data["requirements"],
            reply_due_on=data.get("reply_due_on"),
            facts=data["facts"],
            wants_evidence=data.get("wants_evidence"),
            wants_plan=data.get("wants_plan"),
            today=self.today,
        )
        return self.answer(notice.pk, status.HTTP_201_CREATED)

    @extend_schema(
        request=VersionSerializer,
        parameters=[IF_MATCH],
        responses={200: NoticeSerializer, 409: STALE, 412: WRONG_VERSION, 428: NO_VERSION},
        description=gettext_lazy("签收督办单（主送单位经办人，或其单位领导、审核人）。"),
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        notice = self.get_object()
        self.refuse_unless_allowed(notice, "acknowledge", _("您无权签收该督办单。"))
        data = self.valid(VersionSerializer, request.data)
        version = self.decision_version(notice, data.get("version"))
        self.run(notices.acknowledge, notice.pk, request.user, version=version)
        return self.answer(notice.pk)

    @extend_schema(
        request=dict.fromkeys(WITH_FILES, NoticeAnswerSerializer),
        parameters=[IF_MATCH],
        responses={200: NoticeSerializer, 409: STALE, 412: TASK_STALE, 428: NO_VERSION},
        description=gettext_lazy(
            "反馈督办单（主送单位经办人）：办理情况，督办单要求时附整改计划和佐证材料"
            "（文件随一条进展记入任务）；未签收的一并签收。"
        ),
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="answer",
        url_name="answer",
        parser_classes=[JSONParser, MultiPartParser],
    )
    def answer_notice(self, request, pk=None):
        # Not `answer`: that is LoopViewSet's "the object as it is now".
        notice = self.get_object()
        self.refuse_unless_allowed(notice, "answer", _("只有主送单位的经办人可以反馈督办单。"))
        data = self.valid(NoticeAnswerSerializer, request.data)
        version = self.decision_version(notice, data.get("version"))
        self.run(
            notices.answer,
            notice.pk,
            request.user,
            version=version,
            text=data["text"],
            plan=data["plan"],
            evidence=data["files"],
            today=self.today,
        )
        return self.answer(notice.pk)

    @extend_schema(
        request=NoticeDecisionSerializer,
        parameters=[IF_MATCH],
        responses={200: NoticeSerializer, 409: STALE, 412: WRONG_VERSION, 428: NO_VERSION},
        description=gettext_lazy(
            "处理督办单（督查专员）：办结（close），退回反馈（return，须写明意见），或撤销（cancel，须写明原因）。"
        ),
    )
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        notice = self.get_object()
        data = self.valid(NoticeDecisionSerializer, request.data)
        step = NOTICE_DECISIONS[data["decision"]]
        self.refuse_unless_allowed(notice, step, _("您无权处理该督办单。"))
        version = self.decision_version(notice, data.get("version"))
        self.run(notices.decide, notice.pk, request.user, step, version=version, comment=data["comment"])
        return self.answer(notice.pk)


# --- 催办 --------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(description=gettext_lazy("催办：调用者可见任务的催办及其答复。")),
    retrieve=extend_schema(description=gettext_lazy("一条催办；ETag 响应头为其当前版本。")),
)
class UrgeViewSet(EscalationViewSet):
    queryset = _loaded(Urge).select_related("answered_by")
    serializer_class = UrgeSerializer
    filterset_class = UrgeFilterSet
    ordering_fields = ["issued_at", "reply_by", "answered_at", "id"]
    ordering = ["-issued_at", "-id"]
    tag_kind = URGE_TAG
    machine = URGES

    def base_path(self) -> str:
        return "/api/v1/urges/"

    @extend_schema(
        request=UrgeCreateSerializer,
        responses={201: UrgeSerializer},
        description=gettext_lazy(
            "催办任务（督查专员，或可查看该任务的领导）：催办牵头单位，可同时催办配合单位，可定答复时限。"
        ),
    )
    def create(self, request, *args, **kwargs):
        data = self.valid(UrgeCreateSerializer, request.data)
        task = load_task(request, data["task"])
        urge = self.run(
            urges.urge,
            task.pk,
            request.user,
            message=data["message"],
            reply_by=data.get("reply_by"),
            to_co_owners=data["to_co_owners"],
            today=self.today,
        )
        return self.answer(urge.pk, status.HTTP_201_CREATED)

    @extend_schema(
        request=UrgeReplySerializer,
        parameters=[IF_MATCH],
        responses={200: UrgeSerializer, 409: STALE, 412: WRONG_VERSION, 428: NO_VERSION},
        description=gettext_lazy("答复催办（牵头单位经办人；同时催办配合单位时，配合单位经办人亦可）。"),
    )
    @action(detail=True, methods=["post"])
    def reply(self, request, pk=None):
        urge = self.get_object()
        self.refuse_unless_allowed(urge, "reply", _("您无权答复该催办。"))
        data = self.valid(UrgeReplySerializer, request.data)
        version = self.decision_version(urge, data.get("version"))
        self.run(urges.reply, urge.pk, request.user, version=version, answer=data["answer"])
        return self.answer(urge.pk)


# --- 批示 --------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(description=gettext_lazy("领导批示：调用者可见任务的批示及其落实情况。")),
    retrieve=extend_schema(description=gettext_lazy("一条批示；ETag 响应头为其当前版本。")),
)
class InstructionViewSet(EscalationViewSet):
    queryset = _loaded(Instruction).select_related("responded_by")
    serializer_class = InstructionSerializer
    filterset_class = InstructionFilterSet
    ordering_fields = ["issued_at", "respond_by", "responded_at", "settled_at", "id"]
    ordering = ["-issued_at", "-id"]
    tag_kind = INSTRUCTION_TAG
    machine = INSTRUCTIONS

    def base_path(self) -> str:
        return "/api/v1/instructions/"

    @extend_schema(
        request=InstructionCreateSerializer,
        responses={201: InstructionSerializer},
        description=gettext_lazy(
            "作出批示（可查看该任务的领导）：写明批示内容和反馈时限，可就该任务的某一督办单作出。"
        ),
    )
    def create(self, request, *args, **kwargs):
        data = self.valid(InstructionCreateSerializer, request.data)
        task = load_task(request, data["task"])
        instruction = self.run(
            urges.instruct,
            task.pk,
            request.user,
            text=data["text"],
            respond_by=data["respond_by"],
            notice_id=data.get("notice"),
            today=self.today,
        )
        return self.answer(instruction.pk, status.HTTP_201_CREATED)

    @extend_schema(
        request=InstructionRespondSerializer,
        parameters=[IF_MATCH],
        responses={200: InstructionSerializer, 409: STALE, 412: WRONG_VERSION, 428: NO_VERSION},
        description=gettext_lazy("反馈批示落实情况（牵头单位经办人）。"),
    )
    @action(detail=True, methods=["post"])
    def respond(self, request, pk=None):
        instruction = self.get_object()
        self.refuse_unless_allowed(instruction, "respond", _("您无权反馈该批示的落实情况。"))
        data = self.valid(InstructionRespondSerializer, request.data)
        version = self.decision_version(instruction, data.get("version"))
        self.run(urges.respond, instruction.pk, request.user, version=version, response=data["response"])
        return self.answer(instruction.pk)

    @extend_schema(
        request=InstructionConcludeSerializer,
        parameters=[IF_MATCH],
        responses={200: InstructionSerializer, 409: STALE, 412: WRONG_VERSION, 428: NO_VERSION},
        description=gettext_lazy(
            "办结或退回批示（作出批示的领导）：确认办结（settle），或退回补充落实情况（return，须写明意见）。"
        ),
    )
    @action(detail=True, methods=["post"])
    def conclude(self, request, pk=None):
        instruction = self.get_object()
        data = self.valid(InstructionConcludeSerializer, request.data)
        step = INSTRUCTION_DECISIONS[data["decision"]]
        self.refuse_unless_allowed(instruction, step, _("只有作出批示的领导可以办结或退回批示。"))
        version = self.decision_version(instruction, data.get("version"))
        self.run(urges.conclude, instruction.pk, request.user, step, version=version, comment=data["comment"])
        return self.answer(instruction.pk)
