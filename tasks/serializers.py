"""API serializers for tasks (with owners, milestones and 责任人).

Reading needs the task's plan and its prefetched owners, milestones and responsible users
(tasks.api.TASKS loads them), and the view in the context for today's date: a page of
tasks is serialized without a query per task."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.etag import entity_tag
from tasks.choices import OwnerRole
from tasks.models import Milestone, Task, TaskOwner
from tasks.risk import Risk, task_risk
from tasks.services import task_access
from workplans.choices import PlanStatus

TASK_TAG = "task"


def task_etag(task: Task) -> str:
    """The task's entity tag: it changes exactly when its version does (every update)."""
    return entity_tag(TASK_TAG, task.pk, task.version)


class TaskOwnerSerializer(serializers.ModelSerializer):
    agency_name = serializers.CharField(source="agency.name", read_only=True, label=_("单位名称"))

    class Meta:
        model = TaskOwner
        fields = ["agency", "agency_name", "role"]


class MilestoneSerializer(serializers.ModelSerializer):
    class Meta:
        model = Milestone
        # baseline_due_on is the date as imported (the year-end assessment reads it); due_on
        # the current approved one (a granted delay moves it).
        fields = ["id", "due_on", "baseline_due_on", "text", "done_on", "done_by_update"]


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
            "baseline_due_on",
            "completed_on",
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
        access = task_access(self.context["request"].user, task)
        return {
            "can_change_status": access.can_change_status,
            "can_report": access.can_report,
            "can_assign": access.can_assign,
            "owner_role": str(access.owner_role),
        }
