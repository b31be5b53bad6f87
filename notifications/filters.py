"""Filters of the notification pages: the inbox (unread or all) and the admins' delivery log
(what needs their action by default, or any state, channel and rule)."""

import django_filters
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from notifications.choices import RESENDABLE_STATES, Channel, DeliveryState, Rule
from notifications.models import Delivery, Notification

# The delivery log's default: what an admin has to act on.
NEEDS_ACTION = "action"
EVERY_STATE = "all"


class InboxFilterSet(django_filters.FilterSet):
    unread = django_filters.BooleanFilter(label=_("未读"), method="filter_unread")

    class Meta:
        model = Notification
        fields = []

    def filter_unread(self, queryset, name, value):
        # Unread means still open: a reminder of a time node done since is not (with_settled).
        open_items = queryset.unread().values("pk")
        return queryset.filter(pk__in=open_items) if value else queryset.exclude(pk__in=open_items)


class DeliveryFilterSet(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(
        label=_("状态"),
        choices=[(NEEDS_ACTION, _("待处理（发送失败或中断）")), (EVERY_STATE, _("全部状态")), *DeliveryState.choices],
        empty_label=None,
        method="filter_state",
    )
    channel = django_filters.ChoiceFilter(label=_("渠道"), choices=Channel.choices, empty_label=_("全部渠道"))
    rule = django_filters.ChoiceFilter(label=_("提醒规则"), choices=Rule.choices, empty_label=_("全部规则"))

    class Meta:
        model = Delivery
        fields = []

    def __init__(self, data=None, *args, **kwargs):
        # With no state asked for, the log opens on what needs an admin's action.
        data = data.copy() if data is not None else QueryDict(mutable=True)
        data.setdefault("state", NEEDS_ACTION)
        super().__init__(data, *args, **kwargs)

    def filter_state(self, queryset, name, value):
        if value == NEEDS_ACTION:
            return queryset.filter(state__in=RESENDABLE_STATES)
        if value in DeliveryState.values:
            return queryset.filter(state=value)
        return queryset
