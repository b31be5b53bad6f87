"""/api/v1/reports/, /co-inputs/, /close-outs/, /change-requests/ and /transitions/: the
supervision loop (督办闭环) through the API — list, create, decide.

Every write calls the same service as the pages (supervision.reports, .closeout,
.requests), so the same rules apply: who may act is supervision.permissions' (through the
state machine), what a caller sees is `visible_to` (another agency's object answers 404).

A decision carries the version of the object it was taken on: `If-Match` with the object's
ETag (`"report-12-v3"`), or a `version` field in the body. When someone decided first the
answer is 409 with the object as it is now; a report or close-out that changes the task
also checks the task's version (`task_version`; 412 with the task as it is now)."""

from django.db.models import Prefetch
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from api.etag import check_if_match
from api.exceptions import Conflict, PreconditionFailed, PreconditionRequired
from api.parsers import MultiPartParser
from api.viewsets import ScopedViewSet
from indicators.models import Indicator
from supervision import closeout, reports, requests
from supervision.filters import (
    ChangeRequestFilterSet,
    CloseOutFilterSet,
    CoOwnerInputFilterSet,
    PeriodReportFilterSet,
    TransitionFilterSet,
)
from supervision.machine import StaleDecision
from supervision.models import ChangeRequest, CloseOut, CoOwnerInput, PeriodReport, ReportRevision, Transition
from supervision.progress import ReadingEntry, StaleVersion, check_readings
from supervision.serializers import (
    CLOSE_OUT_TAG,
    INPUT_TAG,
    REPORT_TAG,
    REQUEST_TAG,
    ChangeRequestDecideSerializer,
    ChangeRequestFileSerializer,
    ChangeRequestSerializer,
    CloseOutDecideSerializer,
    CloseOutRequestSerializer,
    CloseOutSerializer,
    CoOwnerInputSerializer,
    InputDraftSerializer,
    InputSubmitSerializer,
    PeriodReportDetailSerializer,
    PeriodReportSerializer,
    ReopenSerializer,
    ReportDraftSerializer,
    ReportSubmitSerializer,
    ReviewSerializer,
    SignOffSerializer,
    StaleSerializer,
    TransitionSerializer,
    WithdrawSerializer,
    etag_of,
)
from tasks.api import load_task
from tasks.models import Task, TaskOwner
from tasks.quotas import QuotaExceeded
from tasks.serializers import TaskSerializer, task_etag

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=gettext_lazy("该事项的 ETag（读取时的 ETag 响应头或 etag 字段）；不带时请在请求中写明 version。"),
)
STALE = OpenApiResponse(StaleSerializer, description=gettext_lazy("该事项已被他人处理：响应中有它的当前状态"))
NO_VERSION = OpenApiResponse(description=gettext_lazy("缺少 If-Match 或 version"))
TASK_STALE = OpenApiResponse(description=gettext_lazy("任务已被他人更新（task_version 已过期）：响应中有任务当前状态"))
WITH_FILES = ("application/json", "multipart/form-data")


def _with_files(serializer):
    return dict.fromkeys(WITH_FILES, serializer)


# Each object with its task, the task's plan and owners (what the rules and `actions` read)
# and the people named, loaded in a fixed number of queries whatever the page holds.
_OWNERS = Prefetch("task__task_owners", queryset=TaskOwner.objects.order_by("order", "id"))
_THREAD = Prefetch("transitions", queryset=Transition.objects.select_related("actor").order_by("created_at", "id"))


def _loaded(model):
    return model.objects.select_related("task__plan").prefetch_related(_OWNERS)


class QuotaRefused(exceptions.APIException):
    """429 for a used-up reporting quota (tasks.quotas), with Retry-After."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "quota_exceeded"

    def __init__(self, refused: QuotaExceeded):
        super().__init__(refused.message, "quota_exceeded")
        self.headers = {"Retry-After": str(refused.retry_after)}


class LoopViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """A list of one kind of object of the loop, and the decisions taken on one of them."""

    tag_kind = ""

    def retrieve(self, request, *args, **kwargs):
        obj = self.get_object()
        return Response(self.get_serializer(obj).data, headers={"ETag": etag_of(self.tag_kind, obj)})

    # --- versions -------------------------------------------------------------------

    def decision_version(self, obj, body_version) -> int:
        """The version the decision was taken on: If-Match, else the body's `version`."""
        header = self.request.headers.get("If-Match")
        if header is not None and header.strip():
            if_match = check_if_match(
                self.request, kind=self.tag_kind, pk=obj.pk, version=obj.version, required=False, missing_message=""
            )
            if if_match.current:
                return obj.version
            if if_match.client_version is not None:
                return if_match.client_version  # an older version: the service answers StaleDecision
            raise PreconditionFailed(
                _("If-Match 不是该事项的 ETag：请带上读取该事项时得到的 ETag。"),
                code="precondition_failed",
                extra={"current": self.get_serializer(obj).data},
                headers={"ETag": etag_of(self.tag_kind, obj)},
            )
        if body_version is not None:
            return body_version
        raise PreconditionRequired(_("请在 If-Match 请求头中带上该事项的 ETag，或在请求中写明 version。"))

    def answer(self, pk: int, status_code=status.HTTP_200_OK) -> Response:
        """The object as it is now, with its ETag."""
        obj = self.get_queryset().get(pk=pk)
        headers = {"ETag": etag_of(self.tag_kind, obj)}
        if status_code == status.HTTP_201_CREATED:
            headers["Location"] = f"{self.base_path()}{obj.pk}/"
        return Response(self.get_serializer(obj).data, status=status_code, headers=headers)

    def base_path(self) -> str:
        return f"/api/v1/{self.basename}s/"

    def run(self, call, *args, **kwargs):
        """A service call, with the loop's refusals answered as the API answers them."""
        try:
            return call(*args, **kwargs)
        except StaleDecision as stale:
            current = self.get_queryset().get(pk=stale.obj.pk)
            conflict = Conflict(str(stale), code="stale_decision")
            conflict.extra = {"current": self.get_serializer(current).data}
            conflict.headers = {"ETag": etag_of(self.tag_kind, current)}
            raise conflict from None
        except StaleVersion as stale:
            task = load_task(self.request, stale.task.pk)
            raise PreconditionFailed(
                _("任务已被他人更新：请按当前状态重新填写。"),
                code="stale_version",
                extra={"task": TaskSerializer(task, context=self.get_serializer_context()).data},
                headers={"ETag": task_etag(task)},
            ) from None
        except QuotaExceeded as refused:
            raise QuotaRefused(refused) from None

    def readings(self, task: Task, entries: list[dict]):
        wanted = [entry["indicator"] for entry in entries]
        indicators = {i.pk: i for i in Indicator.objects.filter(task=task, pk__in=wanted).select_related("plan")}
        readings, errors = check_readings(
            indicators,
            (ReadingEntry(e["indicator"], e["value"], e.get("as_of"), e.get("note", "")) for e in entries),
            today=self.today,
        )
        if any(errors):
            raise serializers.ValidationError({"readings": errors})
        return readings

    @staticmethod
    def valid(serializer_class, data) -> dict:
        serializer = serializer_class(data=data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


# --- Reports ------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(description=gettext_lazy("周期报送：调用者可见任务的各期报送，含本人可执行的操作。")),
    retrieve=extend_schema(description=gettext_lazy("一期报送的详情，含历次提交和流程记录；ETag 响应头为其当前版本。")),
)
class PeriodReportViewSet(LoopViewSet):
    queryset = _loaded(PeriodReport).select_related("author")
    serializer_class = PeriodReportSerializer
    filterset_class = PeriodReportFilterSet
    ordering_fields = ["period_start", "due_on", "submitted_at", "decision_due_on", "updated_at", "id"]
    ordering = ["-period_start", "task_id", "id"]
    tag_kind = REPORT_TAG

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action != "list":
            queryset = queryset.prefetch_related(
                Prefetch("revisions", queryset=ReportRevision.objects.order_by("number")), _THREAD
            )
        return queryset

    def get_serializer_class(self):
        return PeriodReportSerializer if self.action == "list" else PeriodReportDetailSerializer

    def base_path(self) -> str:
        return "/api/v1/reports/"

    @extend_schema(
        request=ReportDraftSerializer,
        responses={200: PeriodReportDetailSerializer, 201: PeriodReportDetailSerializer, 409: STALE},
        description=gettext_lazy(
            "保存任务本期报送的草稿（牵头单位经办人）：首次保存时创建（201），之后带上 version 修改（200）。"
        ),
    )
    def create(self, request, *args, **kwargs):
        data = self.valid(ReportDraftSerializer, request.data)
        task = load_task(request, data["task"])
        existed = reports.current_report(task, self.today)
        report = self.run(
            reports.save_draft,
            task.pk,
            request.user,
            version=data.get("version"),
            progress=data["progress"],
            problems=data["problems"],
            next_steps=data["next_steps"],
            status=data["status"],
            percent=data.get("percent"),
            today=self.today,
        )
        return self.answer(report.pk, status.HTTP_200_OK if existed else status.HTTP_201_CREATED)

    @extend_schema(
        request=_with_files(ReportSubmitSerializer),
        responses={200: PeriodReportDetailSerializer, 409: STALE, 412: TASK_STALE},
        description=gettext_lazy(
            "提交任务本期报送（牵头单位经办人）：写入一条进展，交单位审核或督查审核；退回后再次提交为新的一版。"
            "首次提交可省略 version。"
        ),
    )
    @action(detail=False, methods=["post"], parser_classes=[JSONParser, MultiPartParser])
    def submit(self, request):
        data = self.valid(ReportSubmitSerializer, request.data)
        task = load_task(request, data["task"])
        readings = self.readings(task, data["readings"])
        report = self.run(
            reports.submit_report,
            task.pk,
            request.user,
            version=data.get("version"),
            task_version=data["task_version"],
            progress=data["progress"],
            problems=data["problems"],
            next_steps=data["next_steps"],
            status=data.get("status"),
            percent=data.get("percent"),
            evidence=data["files"],
            milestone_ids=data["milestones"],
            readings=readings,
            explanation=data["explanation"],
            today=self.today,
        )
        return self.answer(report.pk)

    @extend_schema(
        request=SignOffSerializer,
        parameters=[IF_MATCH],
        responses={200: PeriodReportDetailSerializer, 409: STALE, 412: OpenApiResponse(), 428: NO_VERSION},
        description=gettext_lazy("单位审核（牵头单位领导或审核人）：通过后交督查审核，退回时须写明意见。"),
    )
    @action(detail=True, methods=["post"], url_path="sign-off", url_name="signoff")
    def sign_off(self, request, pk=None):
        report = self.get_object()
        data = self.valid(SignOffSerializer, request.data)
        version = self.decision_version(report, data.get("version"))
        self.run(
            reports.sign_off,
            report.pk,
            request.user,
            version=version,
            approve=data["approve"],
            comment=data["comment"],
            today=self.today,
        )
        return self.answer(report.pk)

    @extend_schema(
        request=ReviewSerializer,
        parameters=[IF_MATCH],
        responses={200: PeriodReportDetailSerializer, 409: STALE, 412: OpenApiResponse(), 428: NO_VERSION},
        description=gettext_lazy("督查审核（督查专员）：审核通过，或退回并提出要求。"),
    )
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        report = self.get_object()
        data = self.valid(ReviewSerializer, request.data)
        version = self.decision_version(report, data.get("version"))
        self.run(
            reports.review,
            report.pk,
            request.user,
            version=version,
            accept=data["accept"],
            requirements=data["requirements"],
            today=self.today,
        )
        return self.answer(report.pk)


# --- Co-owners' input ---------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(description=gettext_lazy("配合单位反馈：调用者可见任务的各期反馈。")),
    retrieve=extend_schema(description=gettext_lazy("一条配合单位反馈；ETag 响应头为其当前版本。")),
)
class CoOwnerInputViewSet(LoopViewSet):
    queryset = _loaded(CoOwnerInput).select_related("agency")
    serializer_class = CoOwnerInputSerializer
    filterset_class = CoOwnerInputFilterSet
    ordering_fields = ["period_start", "due_on", "submitted_at", "updated_at", "id"]
    ordering = ["-period_start", "task_id", "agency_id", "id"]
    tag_kind = INPUT_TAG

    def base_path(self) -> str:
        return "/api/v1/co-inputs/"

    @extend_schema(
        request=InputDraftSerializer,
        responses={200: CoOwnerInputSerializer, 201: CoOwnerInputSerializer, 409: STALE},
        description=gettext_lazy("保存本单位本期配合反馈的草稿（配合单位经办人）。"),
    )
    def create(self, request, *args, **kwargs):
        data = self.valid(InputDraftSerializer, request.data)
        task = load_task(request, data["task"])
        existed = CoOwnerInput.objects.filter(
            task=task, agency_id=request.user.agency_id, period_start=reports.cycle_of(task, self.today).start
        ).exists()
        co_input = self.run(
            reports.save_input_draft,
            task.pk,
            request.user,
            version=data.get("version"),
            text=data["text"],
            today=self.today,
        )
        return self.answer(co_input.pk, status.HTTP_200_OK if existed else status.HTTP_201_CREATED)

    @extend_schema(
        request=_with_files(InputSubmitSerializer),
        responses={200: CoOwnerInputSerializer, 409: STALE},
        description=gettext_lazy("提交本单位本期配合反馈（配合单位经办人）；再次提交为补充。"),
    )
    @action(detail=False, methods=["post"], parser_classes=[JSONParser, MultiPartParser])
    def submit(self, request):
        data = self.valid(InputSubmitSerializer, request.data)
        task = load_task(request, data["task"])
        readings = self.readings(task, data["readings"])
        co_input = self.run(
            reports.submit_input,
            task.pk,
            request.user,
            version=data.get("version"),
            text=data["text"],
            evidence=data["files"],
            readings=readings,
            today=self.today,
        )
        return self.answer(co_input.pk)


# --- Close-outs ---------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(description=gettext_lazy("销号申请：调用者可见任务的销号申请及其流程记录。")),
    retrieve=extend_schema(description=gettext_lazy("一条销号申请；ETag 响应头为其当前版本。")),
)
class CloseOutViewSet(LoopViewSet):
    queryset = _loaded(CloseOut).prefetch_related(_THREAD)
    serializer_class = CloseOutSerializer
    filterset_class = CloseOutFilterSet
    # The completion report may carry evidence files.
    parser_classes = [JSONParser, MultiPartParser]
    ordering_fields = ["submitted_at", "decision_due_on", "decided_at", "id"]
    ordering = ["-submitted_at", "-id"]
    tag_kind = CLOSE_OUT_TAG

    def base_path(self) -> str:
        return "/api/v1/close-outs/"

    @extend_schema(
        request=_with_files(CloseOutRequestSerializer),
        responses={201: CloseOutSerializer, 412: TASK_STALE},
        description=gettext_lazy("申请销号（牵头单位经办人）：任务记为已完成，附完成情况、佐证材料和最终指标值。"),
    )
    def create(self, request, *args, **kwargs):
        data = self.valid(CloseOutRequestSerializer, request.data)
        task = load_task(request, data["task"])
        readings = self.readings(task, data["readings"])
        close_out = self.run(
            closeout.request_close_out,
            task.pk,
            request.user,
            task_version=data["task_version"],
            summary=data["summary"],
            explanation=data["explanation"],
            evidence=data["files"],
            milestone_ids=data["milestones"],
            readings=readings,
        )
        return self.answer(close_out.pk, status.HTTP_201_CREATED)

    @extend_schema(
        request=CloseOutDecideSerializer,
        parameters=[IF_MATCH],
        responses={200: CloseOutSerializer, 409: STALE, 412: OpenApiResponse(), 428: NO_VERSION},
        description=gettext_lazy(
            "销号审核（督查专员）：逐项核对后批准（任务变为已销号），或退回并提出要求（任务回到进行中）。"
        ),
    )
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        close_out = self.get_object()
        data = self.valid(CloseOutDecideSerializer, request.data)
        version = self.decision_version(close_out, data.get("version"))
        self.run(
            closeout.decide_close_out,
            close_out.pk,
            request.user,
            version=version,
            approve=data["approve"],
            evidence_checked=data["evidence_checked"],
            milestones_checked=data["milestones_checked"],
            indicators_checked=data["indicators_checked"],
            requirements=data["requirements"],
        )
        return self.answer(close_out.pk)

    @extend_schema(
        request=WithdrawSerializer,
        parameters=[IF_MATCH],
        responses={200: CloseOutSerializer, 409: STALE, 412: OpenApiResponse(), 428: NO_VERSION},
        description=gettext_lazy("撤回待审核的销号申请（牵头单位经办人）：任务回到进行中。"),
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        close_out = self.get_object()
        data = self.valid(WithdrawSerializer, request.data)
        version = self.decision_version(close_out, data.get("version"))
        self.run(closeout.withdraw_close_out, close_out.pk, request.user, version=version, reason=data["reason"])
        return self.answer(close_out.pk)

    @extend_schema(
        request=ReopenSerializer,
        responses={200: CloseOutSerializer},
        description=gettext_lazy("重新打开已销号的任务（领导），须写明原因：任务回到进行中。"),
    )
    @action(detail=False, methods=["post"])
    def reopen(self, request):
        data = self.valid(ReopenSerializer, request.data)
        task = load_task(request, data["task"])
        close_out = self.run(closeout.reopen_task, task.pk, request.user, reason=data["reason"])
        return self.answer(close_out.pk)


# --- Delay and change requests --------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(description=gettext_lazy("延期/调整申请：调用者可见任务的申请及其流程记录。")),
    retrieve=extend_schema(description=gettext_lazy("一条延期/调整申请；ETag 响应头为其当前版本。")),
)
class ChangeRequestViewSet(LoopViewSet):
    queryset = _loaded(ChangeRequest).prefetch_related(_THREAD)
    serializer_class = ChangeRequestSerializer
    filterset_class = ChangeRequestFilterSet
    ordering_fields = ["filed_at", "decision_due_on", "decided_at", "id"]
    ordering = ["-filed_at", "-id"]
    tag_kind = REQUEST_TAG

    def base_path(self) -> str:
        return "/api/v1/change-requests/"

    @extend_schema(
        request=ChangeRequestFileSerializer,
        responses={201: ChangeRequestSerializer},
        description=gettext_lazy(
            "提出延期或调整申请（牵头单位经办人）：延期写明申请的日期（可指定时间节点），"
            "调整任务内容写明调整后的内容，调整指标目标写明指标和目标值。"
        ),
    )
    def create(self, request, *args, **kwargs):
        data = self.valid(ChangeRequestFileSerializer, request.data)
        task = load_task(request, data["task"])
        change = self.run(
            requests.file_request,
            task.pk,
            request.user,
            kind=data["kind"],
            reason=data["reason"],
            progress_so_far=data["progress_so_far"],
            milestone_id=data.get("milestone"),
            indicator_id=data.get("indicator"),
            proposed_due_on=data.get("proposed_due_on"),
            proposed_text=data["proposed_text"],
            proposed_target=data.get("proposed_target"),
            today=self.today,
        )
        return self.answer(change.pk, status.HTTP_201_CREATED)

    @extend_schema(
        request=ChangeRequestDecideSerializer,
        parameters=[IF_MATCH],
        responses={200: ChangeRequestSerializer, 409: STALE, 412: OpenApiResponse(), 428: NO_VERSION},
        description=gettext_lazy(
            "审批当前环节（单位审核、督查室或分管领导）：批准时可写明确切的日期、内容或目标值（省略为申请的），"
            "最后一个环节批准后写入任务；不予批准须写明意见。"
        ),
    )
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        change = self.get_object()
        data = self.valid(ChangeRequestDecideSerializer, request.data)
        version = self.decision_version(change, data.get("version"))
        self.run(
            requests.decide_request,
            change.pk,
            request.user,
            version=version,
            approve=data["approve"],
            comment=data["comment"],
            approved_due_on=data.get("approved_due_on"),
            approved_text=data["approved_text"],
            approved_target=data.get("approved_target"),
            today=self.today,
        )
        return self.answer(change.pk)

    @extend_schema(
        request=WithdrawSerializer,
        parameters=[IF_MATCH],
        responses={200: ChangeRequestSerializer, 409: STALE, 412: OpenApiResponse(), 428: NO_VERSION},
        description=gettext_lazy("撤回审批中的申请（牵头单位经办人）。"),
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        change = self.get_object()
        data = self.valid(WithdrawSerializer, request.data)
        version = self.decision_version(change, data.get("version"))
        self.run(requests.withdraw_request, change.pk, request.user, version=version, reason=data["reason"])
        return self.answer(change.pk)


# --- The thread -----------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        description=gettext_lazy("流程记录：报送、反馈、销号和申请的每一步（谁、何时、从何状态到何状态、意见）。")
    ),
    retrieve=extend_schema(description=gettext_lazy("一条流程记录。")),
)
class TransitionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    queryset = Transition.objects.select_related("actor")
    serializer_class = TransitionSerializer
    filterset_class = TransitionFilterSet
    ordering_fields = ["created_at", "id"]
    ordering = ["created_at", "id"]
