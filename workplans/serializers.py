"""API serializers for plans and their sections."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from workplans.models import Plan, Section


class PlanSerializer(serializers.ModelSerializer):
    issuer_name = serializers.CharField(source="issuer.name", read_only=True, default=None, label=_("印发单位名称"))

    class Meta:
        model = Plan
        fields = [
            "id",
            "title",
            "year",
            "issuer",
            "issuer_name",
            "doc_number",
            "issued_on",
            "status",
            "reporting_cycle",
            "report_due_day",
            "created_at",
            "updated_at",
        ]


class SectionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Section
        fields = ["id", "plan", "parent", "label", "title", "order"]
