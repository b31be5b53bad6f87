"""The inbox: unread counts and marking read, shared by the pages and the API."""

from django.utils import timezone

from notifications.models import Notification, NotificationQuerySet, Preference


def inbox(user) -> NotificationQuerySet:
    return Notification.objects.visible_to(user)


def unread_count(user) -> int:
    """Unread items, leaving out reminders of time nodes done since (they ask nothing)."""
    return inbox(user).unread().count()


def mark_read(user, ids=None) -> int:
    """Mark `user`'s unread notifications read: those in `ids`, or all when None. Others'
    notifications are never touched, whatever ids are given. Returns how many changed."""
    unread = inbox(user).filter(read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=timezone.now())


def preference_for(user) -> Preference:
    """The user's reminder settings, unsaved defaults when they never changed them."""
    return Preference.objects.filter(user=user).first() or Preference(user=user)
