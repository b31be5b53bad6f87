"""Account rules shared by views, signal receivers, jobs and the other apps: whose work a
user reads (the agency scope), and login events in the audit trail."""

from audit.choices import EventType, Outcome
from audit.services import record
from core.roles import Role

# What each login event counts as in the audit trail's outcome column.
LOGIN_OUTCOMES = {
    EventType.LOGIN: Outcome.SUCCESS,
    EventType.LOGIN_FAILED: Outcome.FAILURE,
    EventType.LOCKOUT: Outcome.DENIED,
    EventType.LOGIN_REFUSED: Outcome.DENIED,
    EventType.LOGOUT: Outcome.SUCCESS,
}


def scope_agency_ids(user) -> set[int] | None:
    """The agencies whose work `user` reads: staff their own agency's, leaders their agency's
    and every agency's below it; None for admins (everything); empty for everyone else (the
    security and audit admins read no work data).

    Every visibility rule (tasks, plans, indicators, exports, digests) starts from this.
    The answer is kept on the user object for the rest of the request: a leader's agency
    tree is read once however many querysets ask."""
    key = (user.role, user.agency_id)
    cached = getattr(user, "_agency_scope", None)
    if cached is not None and cached[0] == key:
        return cached[1]
    if user.role == Role.ADMIN:
        scope = None
    elif user.role == Role.STAFF and user.agency_id:
        scope = {user.agency_id}
    elif user.role in (Role.LEADER, Role.SUPERVISOR) and user.agency_id:
        # A supervisor's agency is usually the bureau: its whole tree. Plans a supervisor
        # is named on are added by the querysets (Plan.supervisors).
        scope = user.agency.descendant_ids()
    else:
        scope = set()
    user._agency_scope = (key, scope)
    return scope


def record_login_event(request, event_type: EventType, *, user=None, username: str = "") -> None:
    """One login, failure, lockout, refusal or logout, as an event in the audit trail. A
    username typed at a failed login is the visitor's input: the audit trail keeps it
    escaped and capped (audit.services.record)."""
    user_agent = request.META.get("HTTP_USER_AGENT", "") if request is not None else ""
    known = user if user is not None and user.pk else None
    username = (username or (user.get_username() if user is not None else ""))[:150]
    record(
        event_type,
        outcome=LOGIN_OUTCOMES[event_type],
        request=request,
        user=known,
        username=username,
        object_type="accounts.user" if known else "",
        object_id=known.pk if known else "",
        object_repr=username,
        detail={"user_agent": user_agent[:200]},
    )
