"""API serializers for the progress log: updates with their files, readings and milestones,
and the report a caller sends (the same fields as the task page's form)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.filters import MAX_ID
from indicators.models import Reading
from supervision.evidence import check_evidence_files
from supervision.progress import EvidenceInput
from tasks.choices import TaskStatus
from tasks.models import Attachment, ProgressUpdate
from tasks.serializers import task_etag
from workbench.forms import NOTE_MAX_LENGTH


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
        help_text=_("不修改进度时省略；状态为已完成时记为 100"),
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
    explanation = serializers.CharField(
        max_length=NOTE_MAX_LENGTH,
        required=False,
        allow_blank=True,
        default="",
        label=_("指标未达标说明"),
        help_text=_("标记为已完成（申请销号）而量化指标未达到目标值时必填"),
    )
    files = EvidenceFilesField(required=False, default=list, label=_("佐证材料"), help_text=_("仅 multipart/form-data"))

    def validate_files(self, files):
        try:
            return [EvidenceInput(uploaded, kind) for uploaded, kind in check_evidence_files(files)]
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None

    @property
    def changes_state(self) -> bool:
        data = self.validated_data
        return data.get("status") is not None or data.get("percent") is not None or bool(data["milestones"])
