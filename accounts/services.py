"""Account rules shared by views, signal receivers and jobs: the client address, and
login events in the audit trail."""

from axes.helpers import get_client_ip_address

from accounts.models import User


def client_ip(request) -> str | None:
    """The client's address as django-axes sees it (REMOTE_ADDR unless proxies are trusted).

    One resolver for lockout, the login log and the audit trail, so a forged
    X-Forwarded-For can neither dodge a lockout nor falsify a log line.
    """
    if request is None:
        return None
    return get_client_ip_address(request)


# What each login event counts as in the audit trail's outcome column.
_LOGIN_OUTCOMES = {
    "login": "success",
    "login_failed": "failure",
    "lockout": "denied",
    "login_refused": "denied",
    "logout": "success",
}


def record_login_event(request, event_type: str, *, user: User | None = None, username: str = "") -> None:
    """One login, failure, lockout, refusal or logout, as an event in the audit trail. A
    username typed at a failed login is the visitor's input: the audit trail keeps it
    escaped and capped (audit.services.record)."""
    from audit.services import record

    user_agent = request.META.get("HTTP_USER_AGENT", "") if request is not None else ""
    known = user if user is not None and user.pk else None
    username = (username or (user.get_username() if user is not None else ""))[:150]
    record(
        event_type,
        outcome=_LOGIN_OUTCOMES[event_type],
        request=request,
        user=known,
        username=username,
        object_type="accounts.user" if known else "",
        object_id=known.pk if known else "",
        object_repr=username,
        detail={"user_agent": user_agent[:200]},
    )
