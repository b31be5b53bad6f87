"""The work list's count in every page's header (待办)."""

from django.utils.functional import SimpleLazyObject

from core.roles import WORK_ROLES
from supervision.worklist import badge_total


def worklist(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.role not in WORK_ROLES:
        return {}
    # Lazy: pages that never show the header (downloads, HTMX fragments) pay nothing; one
    # that does pays one query (the counts are scalar subqueries of one SELECT).
    return {"worklist_count": SimpleLazyObject(lambda: badge_total(user))}
