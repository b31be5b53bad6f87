"""API serializers for agencies."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts.models import Agency


class AgencySerializer(serializers.ModelSerializer):
    aliases = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True, label=_("别名"))

    class Meta:
        model = Agency
        fields = ["id", "name", "short_name", "level", "parent", "order", "is_active", "aliases"]
