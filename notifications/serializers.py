"""API serializers for the in-app inbox."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from notifications.models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    unread = serializers.SerializerMethodField(label=_("未读"))

    class Meta:
        model = Notification
        fields = ["id", "rule", "title", "body", "link", "task", "payload", "created_at", "read_at", "unread"]

    def get_unread(self, notification) -> bool:
        return notification.read_at is None


class MarkedReadSerializer(serializers.Serializer):
    marked = serializers.IntegerField(label=_("本次标为已读的条数"))
    unread = serializers.IntegerField(label=_("仍未读的条数"))
