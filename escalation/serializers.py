"""API serializers of escalation: what a 督办单, a 催办 and a 批示 look like (with the
caller's possible actions, the ETag of their version and their thread), and the bodies the
actions take. Shaped like the supervision loop's (supervision.serializers), whose ETag,
409 body and evidence files field they reuse.

Reading needs each object's task with its plan and prefetched owners (escalation.api loads
them), so the actions a caller may take are worked out without a query per row.

One serializer per object for both its list and its detail, and the body that creates it
named after it (`NoticeRequest`): every choice set (level, state, actions) then belongs to
one schema component and gets one name."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from api.filters import MAX_ID
from escalation.choices import Action, Cause, Level
from escalation.machine import INSTRUCTIONS, NOTICES, URGES
from escalation.models import Instruction, Notice, Step, Urge
from escalation.urges import MESSAGE_MAX_CHARS
from supervision.evidence import check_evidence_files
from supervision.progress import EvidenceInput
from supervision.serializers import TEXT_MAX, EvidenceFilesField, etag_of, in_date_range, version_field

# The entity tags' kinds (api.etag): `"notice-12-v3"`.
NOTICE_TAG, URGE_TAG, INSTRUCTION_TAG = "notice", "urge", "instruction"

# What the API offers on each object (a supervisor may also supersede a notice, by issuing
# a higher level; urges close with their task, by the ladder).
NOTICE_ACTIONS = (Action.ACKNOWLEDGE, Action.ANSWER, Action.CLOSE, Action.RETURN, Action.CANCEL)
URGE_ACTIONS = (Action.REPLY,)
INSTRUCTION_ACTIONS = (Action.RESPOND, Action.SETTLE, Action.RETURN)

# The decisions' words in a request body → the thread's actions.
NOTICE_DECISIONS = {"close": Action.CLOSE, "return": Action.RETURN, "cancel": Action.CANCEL}
INSTRUCTION_DECISIONS = {"settle": Action.SETTLE, "return": Action.RETURN}


def _choices(actions) -> list[tuple[str, str]]:
    return [(str(action), Action(action).label) for action in actions]


# One step of the thread: who (nobody: the ladder), when, from which state to which.
class EscalationStepSerializer(serializers.ModelSerializer):
    action_label = serializers.CharField(source="get_action_display", read_only=True, label=_("操作"))
    actor_name = serializers.CharField(read_only=True, label=_("操作人姓名"))

    class Meta:
        model = Step
        fields = [
            "id",
            "action",
            "action_label",
            "state_before",
            "state_after",
            "actor",
            "actor_name",
            "comment",
            "created_at",
        ]
        read_only_fields = fields


class _Versioned(serializers.ModelSerializer):
    """An object of escalation: its ETag, the actions the caller may take on it now (of
    those the API offers: `offered`) and its thread."""

    tag_kind = ""
    machine = None
    offered: tuple[str, ...] = ()

    etag = serializers.SerializerMethodField(label=_("ETag"), help_text=_("处理时放入 If-Match 请求头"))
    state_label = serializers.CharField(source="get_state_display", read_only=True, label=_("状态"))
    issued_by_name = serializers.CharField(
        source="issued_by.display_name", read_only=True, allow_null=True, label=_("发出人姓名")
    )
    steps = EscalationStepSerializer(many=True, read_only=True, label=_("督办记录"))

    def get_etag(self, obj) -> str:
        return etag_of(self.tag_kind, obj)

    def actions_of(self, obj) -> list[str]:
        allowed = self.machine.allowed(obj, self.context["request"].user)
        return [str(action) for action in self.offered if action in allowed]


class NoticeSerializer(_Versioned):
    tag_kind, machine, offered = NOTICE_TAG, NOTICES, NOTICE_ACTIONS

    level_label = serializers.CharField(source="get_level_display", read_only=True, label=_("督办等级"))
    agency_name = serializers.CharField(source="agency.name", read_only=True, label=_("主送单位名称"))
    origin_label = serializers.CharField(source="get_origin_display", read_only=True, label=_("来源"))
    causes = serializers.ListField(
        child=serializers.ChoiceField(choices=Cause.choices), read_only=True, label=_("督办事由")
    )
    cause_labels = serializers.ListField(child=serializers.CharField(), read_only=True, label=_("督办事由"))
    overdue = serializers.SerializerMethodField(label=_("逾期未反馈"))
    actions = serializers.SerializerMethodField(label=_("本人可执行的操作"))

    class Meta:
        model = Notice
        fields = [
            "id",
            "number",
            "level",
            "level_label",
            "task",
            "agency",
            "agency_name",
            "copied_to",
            "origin",
            "origin_label",
            "causes",
            "cause_labels",
            "facts",
            "requirements",
            "wants_evidence",
            "wants_plan",
            "reply_due_on",
            "overdue",
            "state",
            "state_label",
            "version",
            "etag",
            "issued_by",
            "issued_by_name",
            "issued_on",
            "issued_at",
            "acknowledged_at",
            "answer",
            "answer_plan",
            "answer_update",
            "answered_at",
            "answered_late",
            "closed_at",
            "cancel_reason",
            "superseded_by",
            "actions",
            "steps",
        ]
        read_only_fields = fields
        extra_kwargs = {"answer_update": {"help_text": _("反馈所附佐证材料所在的进展记录")}}

    def get_overdue(self, obj) -> bool:
        return obj.is_overdue(timezone.localdate())

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=_choices(NOTICE_ACTIONS))))
    def get_actions(self, obj) -> list[str]:
        return self.actions_of(obj)


class UrgeSerializer(_Versioned):
    tag_kind, machine, offered = URGE_TAG, URGES, URGE_ACTIONS

    actions = serializers.SerializerMethodField(label=_("本人可执行的操作"))

    class Meta:
        model = Urge
        fields = [
            "id",
            "task",
            "message",
            "reply_by",
            "to_co_owners",
            "state",
            "state_label",
            "version",
            "etag",
            "issued_by",
            "issued_by_name",
            "issued_at",
            "answer",
            "answered_by",
            "answered_at",
            "actions",
            "steps",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=_choices(URGE_ACTIONS))))
    def get_actions(self, obj) -> list[str]:
        return self.actions_of(obj)


class InstructionSerializer(_Versioned):
    tag_kind, machine, offered = INSTRUCTION_TAG, INSTRUCTIONS, INSTRUCTION_ACTIONS

    actions = serializers.SerializerMethodField(label=_("本人可执行的操作"))

    class Meta:
        model = Instruction
        fields = [
            "id",
            "task",
            "notice",
            "text",
            "respond_by",
            "state",
            "state_label",
            "version",
            "etag",
            "issued_by",
            "issued_by_name",
            "issued_at",
            "response",
            "responded_by",
            "responded_at",
            "settled_at",
            "actions",
            "steps",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=_choices(INSTRUCTION_ACTIONS))))
    def get_actions(self, obj) -> list[str]:
        return self.actions_of(obj)


# --- What the actions take ---------------------------------------------------------------


def _id(label, **kwargs):
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, label=label, **kwargs)


def _text(label, *, required=False, missing=None, max_length=TEXT_MAX, help_text=None):
    """A text field; `missing` is the message when a required one is absent or blank."""
    kwargs = {"required": required, "allow_blank": not required, "max_length": max_length, "label": label}
    if not required:
        kwargs["default"] = ""
    if missing:
        kwargs["error_messages"] = {"required": missing, "blank": missing}
    if help_text:
        kwargs["help_text"] = help_text
    return serializers.CharField(**kwargs)


def _date(label, *, required=False, missing=None, help_text=None):
    kwargs = {"required": required, "label": label, "validators": [in_date_range]}
    if not required:
        kwargs["allow_null"] = True
    if missing:
        kwargs["error_messages"] = {"required": missing, "null": missing}
    if help_text:
        kwargs["help_text"] = help_text
    return serializers.DateField(**kwargs)


def _wants(label, help_text):
    return serializers.BooleanField(required=False, allow_null=True, label=label, help_text=help_text)


# POST /notices/, a notice issued by hand: its schema component is NoticeRequest.
@extend_schema_serializer(component_name="Notice")
class NoticeIssueSerializer(serializers.Serializer):
    task = _id(_("任务"))
    level = serializers.ChoiceField(
        choices=Level.choices,
        label=_("督办等级"),
        error_messages={"required": _("请选择督办等级。"), "invalid_choice": _("请选择督办等级。")},
    )
    requirements = _text(_("督办要求"), required=True, missing=_("请填写督办要求。"))
    reply_due_on = _date(_("反馈时限"), help_text=_("须晚于今天；省略时按等级计算工作日"))
    facts = _text(_("基本情况"), help_text=_("省略时按任务数据生成"))
    wants_evidence = _wants(_("须附佐证材料"), _("省略时按等级：黄色、红色须附"))
    wants_plan = _wants(_("须报整改计划"), _("省略时按等级：红色须报"))


class VersionSerializer(serializers.Serializer):
    version = version_field()


class NoticeAnswerSerializer(serializers.Serializer):
    version = version_field()
    text = _text(_("办理情况"), required=True, missing=_("请填写办理情况。"))
    plan = _text(_("整改计划"), help_text=_("督办单要求报送整改计划时必填"))
    files = EvidenceFilesField(
        required=False,
        default=list,
        label=_("佐证材料"),
        help_text=_("仅 multipart/form-data；督办单要求附佐证材料时必填"),
    )

    def validate_files(self, files):
        try:
            return [EvidenceInput(uploaded, kind) for uploaded, kind in check_evidence_files(files)]
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None


class NoticeDecisionSerializer(serializers.Serializer):
    version = version_field()
    decision = serializers.ChoiceField(
        choices=[("close", _("办结")), ("return", _("退回反馈")), ("cancel", _("撤销"))],
        label=_("处理"),
        help_text=_("close 办结；return 退回反馈、cancel 撤销时须写明意见"),
    )
    comment = _text(_("意见"))


# POST /urges/: its schema component is UrgeRequest.
@extend_schema_serializer(component_name="Urge")
class UrgeCreateSerializer(serializers.Serializer):
    task = _id(_("任务"))
    message = _text(_("催办内容"), required=True, missing=_("请填写催办内容。"), max_length=MESSAGE_MAX_CHARS)
    reply_by = _date(_("答复时限"), help_text=_("可省略；不能早于今天"))
    to_co_owners = serializers.BooleanField(required=False, default=False, label=_("同时催办配合单位"))


class UrgeReplySerializer(serializers.Serializer):
    version = version_field()
    answer = _text(_("答复"), required=True, missing=_("请填写答复内容。"), max_length=MESSAGE_MAX_CHARS)


# POST /instructions/: its schema component is InstructionRequest.
@extend_schema_serializer(component_name="Instruction")
class InstructionCreateSerializer(serializers.Serializer):
    task = _id(_("任务"))
    text = _text(_("批示内容"), required=True, missing=_("请填写批示内容。"), max_length=MESSAGE_MAX_CHARS)
    respond_by = _date(_("反馈时限"), required=True, missing=_("请填写反馈时限。"), help_text=_("不能早于今天"))
    notice = _id(_("督办单"), required=False, allow_null=True, help_text=_("就该任务的某一督办单作出批示时"))


class InstructionRespondSerializer(serializers.Serializer):
    version = version_field()
    response = _text(_("落实情况"), required=True, missing=_("请填写落实情况。"), max_length=MESSAGE_MAX_CHARS)


class InstructionConcludeSerializer(serializers.Serializer):
    version = version_field()
    decision = serializers.ChoiceField(
        choices=[("settle", _("确认办结")), ("return", _("退回"))],
        label=_("处理"),
        help_text=_("settle 确认办结；return 退回补充落实情况，须写明意见"),
    )
    comment = _text(_("意见"))
