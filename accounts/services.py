"""Account rules shared by views, signal receivers and jobs: client address, login log."""

from axes.helpers import get_client_ip_address

from accounts.choices import LoginOutcome
from accounts.models import LoginEvent, User


def client_ip(request) -> str | None:
    """The client's address as django-axes sees it (REMOTE_ADDR unless proxies are trusted).

    One resolver for lockout, the login log and the audit trail, so a forged
    X-Forwarded-For can neither dodge a lockout nor falsify a log line.
    """
    if request is None:
        return None
    return get_client_ip_address(request)


def record_login_event(request, outcome: LoginOutcome, *, user: User | None = None, username: str = "") -> LoginEvent:
    user_agent = request.META.get("HTTP_USER_AGENT", "")[:255] if request is not None else ""
    return LoginEvent.objects.create(
        user=user if user is not None and user.pk else None,
        username=(username or (user.get_username() if user is not None else ""))[:150],
        ip_address=client_ip(request),
        user_agent=user_agent,
        outcome=outcome,
    )
