"""Serializers of the api app's own objects: API tokens."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from api.choices import RevokeReason
from api.models import ApiToken


class ApiTokenSerializer(serializers.ModelSerializer):
    user_name = serializers.CharField(source="user.display_name", read_only=True, label=_("用户姓名"))
    active = serializers.BooleanField(source="is_active", read_only=True, label=_("有效"))
    # Empty while the token is live: the schema must say "" is a value, not only the reasons.
    revoked_reason = serializers.ChoiceField(
        choices=RevokeReason.choices, allow_blank=True, read_only=True, label=_("撤销原因")
    )

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "user",
            "user_name",
            "prefix",
            "created_by",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked_at",
            "revoked_reason",
            "active",
        ]
        read_only_fields = [
            "user",
            "prefix",
            "created_by",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked_at",
            "revoked_reason",
        ]


class ApiTokenCreateSerializer(serializers.ModelSerializer):
    """Name the token; it is the caller's own (nobody makes one for another user)."""

    class Meta:
        model = ApiToken
        fields = ["name"]


class IssuedApiTokenSerializer(ApiTokenSerializer):
    """The token just made, with its key: shown this once and never again."""

    key = serializers.CharField(read_only=True, label=_("令牌"), help_text=_("仅在创建时返回一次，请妥善保存。"))

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "key"]
