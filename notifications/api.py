"""/api/v1/notifications/: the caller's own inbox (another user's item answers 404), read
and marked read through notifications.services."""

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.response import Response

from api.filters import DateTimeFilter, IdFilter
from api.viewsets import ScopedViewSet
from notifications import services
from notifications.choices import Rule
from notifications.models import Notification
from notifications.serializers import MarkedReadSerializer, NotificationSerializer


class NotificationFilterSet(django_filters.FilterSet):
    unread = django_filters.BooleanFilter(label=_("未读"), method="filter_unread")
    rule = django_filters.MultipleChoiceFilter(choices=Rule.choices, distinct=False, label=_("提醒规则"))
    task_id = IdFilter(field_name="task_id", label=_("任务（编号）"))
    created_after = DateTimeFilter(field_name="created_at", lookup_expr="gte", label=_("时间不早于"))

    class Meta:
        model = Notification
        fields = []

    def filter_unread(self, queryset, name, value):
        # As the inbox: a reminder of a time node done since is no longer unread.
        open_items = queryset.unread().values("pk")
        return queryset.filter(pk__in=open_items) if value else queryset.exclude(pk__in=open_items)


class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    queryset = Notification.objects.all()
    serializer_class = NotificationSerializer
    filterset_class = NotificationFilterSet
    ordering_fields = ["created_at", "read_at", "id"]
    ordering = ["-created_at", "-id"]

    def _marked(self, count: int) -> Response:
        return Response({"marked": count, "unread": services.unread_count(self.request.user)})

    @extend_schema(request=None, responses={200: MarkedReadSerializer}, description=_("将这条消息标为已读。"))
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = self.get_object()
        return self._marked(services.mark_read(request.user, ids=[notification.pk]))

    @extend_schema(request=None, responses={200: MarkedReadSerializer}, description=_("将本人所有未读消息标为已读。"))
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        return self._marked(services.mark_read(request.user))
