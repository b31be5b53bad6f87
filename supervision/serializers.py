"""API serializers of the supervision loop: what a report, a co-owner's input, a close-out
and a request look like (with the caller's possible actions and the ETag of their version),
their thread, and the bodies the actions take.

Reading needs each object's task with its plan and prefetched owners (supervision.api loads
them), so the actions a caller may take are worked out without a query per row."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.etag import entity_tag
from api.filters import EARLIEST, LATEST, MAX_ID
from supervision.choices import Action, RequestKind
from supervision.evidence import check_evidence_files
from supervision.machine import CLOSE_OUTS, INPUTS, REPORTS, REQUESTS
from supervision.models import ChangeRequest, CloseOut, CoOwnerInput, PeriodReport, ReportRevision, Transition
from supervision.progress import EvidenceInput
from tasks.choices import TaskStatus

# The entity tags' kinds (api.etag): `"report-12-v3"`.
REPORT_TAG, INPUT_TAG, CLOSE_OUT_TAG, REQUEST_TAG = "report", "co_input", "close_out", "change_request"
TEXT_MAX = 5000


def etag_of(kind: str, obj) -> str:
    return entity_tag(kind, obj.pk, obj.version)


class _Versioned(serializers.ModelSerializer):
    """An object of the loop: its ETag and the actions the caller may take on it now."""

    tag_kind = ""
    machine = None

    etag = serializers.SerializerMethodField(label=_("ETag"), help_text=_("审核、撤回时放入 If-Match 请求头"))
    actions = serializers.SerializerMethodField(label=_("本人可执行的操作"))

    def get_etag(self, obj) -> str:
        return etag_of(self.tag_kind, obj)

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=Action.choices)))
    def get_actions(self, obj) -> list[str]:
        return [str(action) for action in self.machine.allowed(obj, self.context["request"].user)]


class TransitionSerializer(serializers.ModelSerializer):
    actor_name = serializers.CharField(source="actor.display_name", read_only=True, label=_("操作人姓名"))

    class Meta:
        model = Transition
        fields = [
            "id",
            "task",
            "report",
            "co_input",
            "close_out",
            "request",
            "action",
            "state_before",
            "state_after",
            "actor",
            "actor_name",
            "comment",
            "created_at",
        ]


class ReportRevisionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReportRevision
        fields = [
            "id",
            "number",
            "progress",
            "problems",
            "next_steps",
            "status",
            "percent",
            "progress_update",
            "submitted_by",
            "submitted_at",
            "late",
        ]


class PeriodReportSerializer(_Versioned):
    tag_kind, machine = REPORT_TAG, REPORTS
    author_name = serializers.CharField(source="author.display_name", read_only=True, label=_("填报人姓名"))

    class Meta:
        model = PeriodReport
        fields = [
            "id",
            "task",
            "period_start",
            "period_end",
            "period_label",
            "due_on",
            "state",
            "version",
            "etag",
            "revision",
            "author",
            "author_name",
            "progress",
            "problems",
            "next_steps",
            "status",
            "percent",
            "submitted_at",
            "late",
            "decision_due_on",
            "requirements",
            "accepted_at",
            "created_at",
            "updated_at",
            "actions",
        ]


class PeriodReportDetailSerializer(PeriodReportSerializer):
    revisions = ReportRevisionSerializer(many=True, read_only=True, label=_("历次提交"))
    transitions = TransitionSerializer(many=True, read_only=True, label=_("流程记录"))

    class Meta(PeriodReportSerializer.Meta):
        fields = [*PeriodReportSerializer.Meta.fields, "revisions", "transitions"]


class CoOwnerInputSerializer(_Versioned):
    tag_kind, machine = INPUT_TAG, INPUTS
    agency_name = serializers.CharField(source="agency.name", read_only=True, label=_("配合单位名称"))

    class Meta:
        model = CoOwnerInput
        fields = [
            "id",
            "task",
            "agency",
            "agency_name",
            "period_start",
            "period_label",
            "due_on",
            "state",
            "version",
            "etag",
            "text",
            "author",
            "progress_update",
            "submitted_at",
            "late",
            "created_at",
            "updated_at",
            "actions",
        ]


class CloseOutSerializer(_Versioned):
    tag_kind, machine = CLOSE_OUT_TAG, CLOSE_OUTS
    transitions = TransitionSerializer(many=True, read_only=True, label=_("流程记录"))

    class Meta:
        model = CloseOut
        fields = [
            "id",
            "task",
            "state",
            "version",
            "etag",
            "summary",
            "explanation",
            "progress_update",
            "submitted_by",
            "submitted_at",
            "decision_due_on",
            "evidence_checked",
            "milestones_checked",
            "indicators_checked",
            "decided_by",
            "decided_at",
            "requirements",
            "reopen_reason",
            "actions",
            "transitions",
        ]


class ChangeRequestSerializer(_Versioned):
    tag_kind, machine = REQUEST_TAG, REQUESTS
    step = serializers.CharField(read_only=True, allow_null=True, label=_("当前审批环节"))
    transitions = TransitionSerializer(many=True, read_only=True, label=_("流程记录"))

    class Meta:
        model = ChangeRequest
        fields = [
            "id",
            "task",
            "milestone",
            "indicator",
            "kind",
            "state",
            "version",
            "etag",
            "steps",
            "step",
            "reason",
            "progress_so_far",
            "current_due_on",
            "proposed_due_on",
            "approved_due_on",
            "current_text",
            "proposed_text",
            "approved_text",
            "current_target",
            "proposed_target",
            "approved_target",
            "filed_by",
            "filed_at",
            "filed_late",
            "decision_due_on",
            "decided_at",
            "actions",
            "transitions",
        ]
        extra_kwargs = {"steps": {"help_text": _("审批环节：unit 单位审核、supervisor 督查室、leader 分管领导")}}


class StaleSerializer(serializers.Serializer):
    """409: someone acted on the object first; `current` is the object as it is now."""

    detail = serializers.CharField()
    code = serializers.CharField()
    current = serializers.DictField(label=_("该事项的当前状态"))


# --- What the actions take ---------------------------------------------------------------


def _id(label):
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, label=label)


def _text(label, *, required=False, help_text=None):
    kwargs = {"required": required, "allow_blank": not required, "max_length": TEXT_MAX, "label": label}
    if not required:
        kwargs["default"] = ""
    if help_text:
        kwargs["help_text"] = help_text
    return serializers.CharField(**kwargs)


def version_field():
    return serializers.IntegerField(
        min_value=1,
        max_value=2**31 - 1,
        required=False,
        allow_null=True,
        label=_("版本"),
        help_text=_("所依据的版本；也可用 If-Match 请求头带上 ETag"),
    )


def in_date_range(day):
    if day is not None and not EARLIEST <= day <= LATEST:
        raise serializers.ValidationError(
            _("日期应在 %(start)s 至 %(end)s 之间。") % {"start": EARLIEST, "end": LATEST}
        )


def _date(label, *, help_text=None):
    kwargs = {"help_text": help_text} if help_text else {}
    return serializers.DateField(required=False, allow_null=True, label=label, validators=[in_date_range], **kwargs)


@extend_schema_field({"type": "array", "items": {"type": "string", "format": "binary"}})
class EvidenceFilesField(serializers.ListField):
    child = serializers.FileField(max_length=255, allow_empty_file=False)


class LoopReadingEntrySerializer(serializers.Serializer):
    indicator = _id(_("指标"))
    value = serializers.CharField(max_length=40, label=_("数值"), help_text=_("如 3.09；百分比指标可写 65 或 65%"))
    as_of = serializers.DateField(required=False, allow_null=True, label=_("统计日期"))
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="", label=_("备注"))


class _WithFiles(serializers.Serializer):
    readings = LoopReadingEntrySerializer(many=True, required=False, default=list, max_length=100, label=_("指标值"))
    files = EvidenceFilesField(required=False, default=list, label=_("佐证材料"), help_text=_("仅 multipart/form-data"))

    def validate_files(self, files):
        try:
            return [EvidenceInput(uploaded, kind) for uploaded, kind in check_evidence_files(files)]
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None


class ReportDraftSerializer(serializers.Serializer):
    task = _id(_("任务"))
    version = version_field()
    progress = _text(_("本期进展"))
    problems = _text(_("存在问题"))
    next_steps = _text(_("下步计划"))
    status = serializers.ChoiceField(
        choices=TaskStatus.choices, required=False, allow_blank=True, default="", label=_("任务状态")
    )
    percent = serializers.IntegerField(
        min_value=0, max_value=100, required=False, allow_null=True, label=_("完成百分比")
    )


class ReportSubmitSerializer(_WithFiles):
    task = _id(_("任务"))
    version = version_field()
    task_version = serializers.IntegerField(
        min_value=1,
        max_value=2**31 - 1,
        label=_("任务版本"),
        help_text=_("读取任务时的 version（任务已被他人更新时答 412）"),
    )
    progress = _text(_("本期进展"), required=True)
    problems = _text(_("存在问题"), help_text=_("任务滞后、临近时限或逾期报送时必填"))
    next_steps = _text(_("下步计划"), help_text=_("任务滞后、临近时限或逾期报送时必填"))
    status = serializers.ChoiceField(choices=TaskStatus.choices, required=False, allow_null=True, label=_("任务状态"))
    percent = serializers.IntegerField(
        min_value=0, max_value=100, required=False, allow_null=True, label=_("完成百分比")
    )
    milestones = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        default=list,
        max_length=100,
        label=_("完成的时间节点"),
    )
    explanation = _text(_("指标未达标说明"))


class SignOffSerializer(serializers.Serializer):
    version = version_field()
    approve = serializers.BooleanField(label=_("通过"), help_text=_("false 为退回，须写明意见"))
    comment = _text(_("意见"))


class ReviewSerializer(serializers.Serializer):
    version = version_field()
    accept = serializers.BooleanField(label=_("审核通过"), help_text=_("false 为退回，须写明要求"))
    requirements = _text(_("意见或退回要求"))


class InputDraftSerializer(serializers.Serializer):
    task = _id(_("任务"))
    version = version_field()
    text = _text(_("配合工作情况"))


class InputSubmitSerializer(_WithFiles):
    task = _id(_("任务"))
    version = version_field()
    text = _text(_("配合工作情况"), required=True)


class CloseOutRequestSerializer(_WithFiles):
    task = _id(_("任务"))
    task_version = serializers.IntegerField(min_value=1, max_value=2**31 - 1, label=_("任务版本"))
    summary = _text(_("完成情况"), required=True)
    explanation = _text(_("指标未达标说明"), help_text=_("有指标未达标时必填"))
    milestones = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        default=list,
        max_length=100,
        label=_("完成的时间节点"),
    )


class CloseOutDecideSerializer(serializers.Serializer):
    version = version_field()
    approve = serializers.BooleanField(label=_("批准销号"), help_text=_("false 为退回，须写明要求"))
    evidence_checked = serializers.BooleanField(required=False, default=False, label=_("佐证材料齐全"))
    milestones_checked = serializers.BooleanField(required=False, default=False, label=_("时间节点已完成"))
    indicators_checked = serializers.BooleanField(required=False, default=False, label=_("指标已达标或已说明"))
    requirements = _text(_("意见或退回要求"))


class WithdrawSerializer(serializers.Serializer):
    version = version_field()
    reason = _text(_("撤回原因"))


class ReopenSerializer(serializers.Serializer):
    task = _id(_("任务"))
    reason = _text(_("重新打开原因"), required=True)


class ChangeRequestFileSerializer(serializers.Serializer):
    task = _id(_("任务"))
    kind = serializers.ChoiceField(choices=RequestKind.choices, label=_("申请类型"))
    reason = _text(_("申请理由"), required=True)
    progress_so_far = _text(_("目前进展"))
    milestone = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        allow_null=True,
        label=_("时间节点"),
        help_text=_("延期某一时间节点时"),
    )
    indicator = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        allow_null=True,
        label=_("量化指标"),
        help_text=_("调整指标目标时"),
    )
    proposed_due_on = _date(_("申请延期至"))
    proposed_text = _text(_("申请调整为"))
    proposed_target = serializers.DecimalField(
        max_digits=14, decimal_places=4, required=False, allow_null=True, label=_("申请目标值")
    )


class ChangeRequestDecideSerializer(serializers.Serializer):
    version = version_field()
    approve = serializers.BooleanField(label=_("批准"), help_text=_("false 为不予批准，须写明意见"))
    comment = _text(_("意见"))
    approved_due_on = serializers.DateField(
        required=False,
        allow_null=True,
        label=_("批准时限"),
        help_text=_("延期申请：批准的确切日期；省略时为申请的日期"),
    )
    approved_text = _text(_("批准内容"))
    approved_target = serializers.DecimalField(
        max_digits=14, decimal_places=4, required=False, allow_null=True, label=_("批准目标值")
    )
