"""API serializers for tasks (with owners, milestones and 责任人) and progress updates.

Reading needs the task's plan and its prefetched owners, milestones and responsible users
(tasks.api.TaskViewSet loads them), and the view in the context for today's date and the
user's scope: a page of tasks is serialized without a query per task."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.filters import MAX_ID
from indicators.models import Reading
from tasks.choices import OwnerRole, TaskStatus
from tasks.evidence import check_evidence_file
from tasks.forms import NOTE_MAX_LENGTH
from tasks.models import Attachment, Milestone, ProgressUpdate, Task, TaskOwner
from tasks.risk import Risk, task_risk
from tasks.services import EvidenceInput, task_access
from workplans.choices import PlanStatus


def task_etag(task: Task) -> str:
    """The task's entity tag: it changes exactly when its version does (every update)."""
    return f'"task-{task.pk}-v{task.version}"'


class TaskOwnerSerializer(serializers.ModelSerializer):
    agency_name = serializers.CharField(source="agency.name", read_only=True, label=_("单位名称"))

    class Meta:
        model = TaskOwner
        fields = ["agency", "agency_name", "role"]


class MilestoneSerializer(serializers.ModelSerializer):
    class Meta:
        model = Milestone
        fields = ["id", "due_on", "text", "done_on", "done_by_update"]


class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(source="display_name", read_only=True, label=_("姓名"))


class TaskAccessSerializer(serializers.Serializer):
    """What the caller may do on the task (tasks.services.task_access)."""

    can_change_status = serializers.BooleanField(label=_("可修改状态、进度和时间节点"))
    can_report = serializers.BooleanField(label=_("可填报说明、材料和指标"))
    can_assign = serializers.BooleanField(label=_("可指定责任人"))
    owner_role = serializers.ChoiceField(choices=[*OwnerRole.choices, ("", _("无"))], label=_("本单位在此任务中的角色"))


class TaskSerializer(serializers.ModelSerializer):
    plan_year = serializers.IntegerField(source="plan.year", read_only=True, label=_("年度"))
    plan_status = serializers.ChoiceField(
        source="plan.status", choices=PlanStatus.choices, read_only=True, label=_("计划状态")
    )
    owners = TaskOwnerSerializer(source="task_owners", many=True, read_only=True, label=_("责任单位"))
    milestones = MilestoneSerializer(many=True, read_only=True, label=_("时间节点"))
    responsible_users = PersonSerializer(many=True, read_only=True, label=_("责任人"))
    etag = serializers.SerializerMethodField(label=_("ETag"), help_text=_("填报状态或进度时放入 If-Match 请求头"))
    risk = serializers.SerializerMethodField(label=_("风险"))
    risk_reason = serializers.SerializerMethodField(label=_("风险原因"))
    overdue = serializers.SerializerMethodField(label=_("已逾期"))
    access = serializers.SerializerMethodField(label=_("本人权限"))

    class Meta:
        model = Task
        fields = [
            "id",
            "plan",
            "plan_year",
            "plan_status",
            "section",
            "number",
            "heading",
            "text",
            "due_on",
            "status",
            "percent",
            "version",
            "etag",
            "last_progress_at",
            "created_at",
            "updated_at",
            "owners",
            "milestones",
            "responsible_users",
            "risk",
            "risk_reason",
            "overdue",
            "access",
        ]

    def _today(self):
        return self.context["view"].today

    def _risk(self, task) -> tuple[str, str]:
        if not hasattr(task, "_api_risk"):
            task._api_risk = task_risk(task, self._today())
        return task._api_risk

    def get_etag(self, task) -> str:
        return task_etag(task)

    @extend_schema_field(serializers.ChoiceField(choices=Risk.choices))
    def get_risk(self, task) -> str:
        return self._risk(task)[0].value

    def get_risk_reason(self, task) -> str:
        return self._risk(task)[1]

    def get_overdue(self, task) -> bool:
        return task.is_overdue(self._today())

    @extend_schema_field(TaskAccessSerializer)
    def get_access(self, task) -> dict:
        view = self.context["view"]
        access = task_access(view.request.user, task, scope=view.scope)
        return {
            "can_change_status": access.can_change_status,
            "can_report": access.can_report,
            "can_assign": access.can_assign,
            "owner_role": str(access.owner_role),
        }


class AttachmentSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField(label=_("下载地址"))

    class Meta:
        model = Attachment
        fields = ["id", "original_name", "kind", "content_type", "size", "sha256", "created_at", "download_url"]

    def get_download_url(self, attachment) -> str:
        return reverse("tasks:attachment_download", args=[attachment.pk])


class UpdateReadingSerializer(serializers.ModelSerializer):
    class Meta:
        model = Reading
        fields = ["id", "indicator", "value", "as_of", "note"]


class ProgressUpdateSerializer(serializers.ModelSerializer):
    author_name = serializers.CharField(source="author.display_name", read_only=True, label=_("填报人姓名"))
    author_agency = serializers.IntegerField(
        source="author.agency_id", read_only=True, allow_null=True, label=_("填报人单位")
    )
    attachments = AttachmentSerializer(many=True, read_only=True, label=_("佐证材料"))
    readings = UpdateReadingSerializer(many=True, read_only=True, label=_("指标值"))
    milestones_done = serializers.PrimaryKeyRelatedField(many=True, read_only=True, label=_("完成的时间节点"))

    class Meta:
        model = ProgressUpdate
        fields = [
            "id",
            "task",
            "author",
            "author_name",
            "author_agency",
            "created_at",
            "status",
            "percent",
            "note",
            "status_before",
            "percent_before",
            "based_on_version",
            "attachments",
            "readings",
            "milestones_done",
        ]


class CreatedProgressUpdateSerializer(ProgressUpdateSerializer):
    """The update just saved, with the task's new version: the next If-Match."""

    task_version = serializers.IntegerField(source="task.version", read_only=True, label=_("任务当前版本"))
    task_etag = serializers.SerializerMethodField(label=_("任务当前 ETag"))

    class Meta(ProgressUpdateSerializer.Meta):
        fields = [*ProgressUpdateSerializer.Meta.fields, "task_version", "task_etag"]

    def get_task_etag(self, update) -> str:
        return task_etag(update.task)


class ReadingEntrySerializer(serializers.Serializer):
    indicator = serializers.IntegerField(min_value=1, max_value=MAX_ID, label=_("指标"))
    value = serializers.CharField(max_length=40, label=_("数值"), help_text=_("如 3.09；百分比指标可写 65 或 65%"))
    as_of = serializers.DateField(required=False, allow_null=True, label=_("统计日期"))
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="", label=_("备注"))


@extend_schema_field({"type": "array", "items": {"type": "string", "format": "binary"}})
class EvidenceFilesField(serializers.ListField):
    child = serializers.FileField(max_length=255, allow_empty_file=False)


class ProgressUpdateCreateSerializer(serializers.Serializer):
    """One progress report, as on the task page. Without status and percent it is a note
    (files, readings) on the task as it is; with them, only the lead agency may send it."""

    task = serializers.IntegerField(min_value=1, max_value=MAX_ID, label=_("任务"))
    status = serializers.ChoiceField(
        choices=TaskStatus.choices,
        required=False,
        allow_null=True,
        label=_("状态"),
        help_text=_("不修改状态时省略；修改时须带 If-Match"),
    )
    percent = serializers.IntegerField(
        min_value=0,
        max_value=100,
        required=False,
        allow_null=True,
        label=_("完成百分比"),
        help_text=_("不修改进度时省略；状态为已完成时默认为 100"),
    )
    note = serializers.CharField(
        max_length=NOTE_MAX_LENGTH, required=False, allow_blank=True, default="", label=_("进展说明")
    )
    milestones = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        default=list,
        max_length=100,
        label=_("完成的时间节点"),
    )
    readings = ReadingEntrySerializer(many=True, required=False, default=list, max_length=100, label=_("指标值"))
    files = EvidenceFilesField(required=False, default=list, label=_("佐证材料"), help_text=_("仅 multipart/form-data"))

    def validate_files(self, files):
        limit = settings.EVIDENCE_MAX_FILES
        if len(files) > limit:
            raise serializers.ValidationError(
                ngettext("一次最多上传 %(n)d 个文件。", "一次最多上传 %(n)d 个文件。", limit) % {"n": limit}
            )
        evidence, errors = [], []
        for uploaded in files:
            try:
                evidence.append(EvidenceInput(uploaded, check_evidence_file(uploaded)))
            except ValidationError as error:
                errors.extend(error.messages)
        if errors:
            raise serializers.ValidationError(errors)
        return evidence

    def validate(self, data):
        if data.get("status") == TaskStatus.DONE and data.get("percent") is None:
            data["percent"] = 100  # finishing means 100 %, as the page's form fills it in
        return data

    @property
    def changes_state(self) -> bool:
        data = self.validated_data
        return data.get("status") is not None or data.get("percent") is not None or bool(data["milestones"])
