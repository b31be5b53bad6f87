"""The unread count in every page's header."""

from django.utils.functional import SimpleLazyObject

from notifications.services import unread_count


def inbox(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # Lazy: pages that never show the header (downloads, HTMX fragments) pay nothing.
    return {"unread_notifications": SimpleLazyObject(lambda: unread_count(user))}
