"""The login lockout's rules in one place: what one account's login name is (login_key),
which account a typed name reaches, how many failures an account and an address have, and
when the login form asks for a CAPTCHA.

The counts are django-axes' (its AccessAttempt rows, one per login name × address ×
browser): failures lock the account, never the address (settings.AXES_LOCKOUT_PARAMETERS);
an address with many failures only gets a CAPTCHA.
"""

import logging
import unicodedata

from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.db.models import Max, Sum
from django.utils import timezone

from accounts.models import User
from audit.choices import EventType
from audit.services import record
from core.net import client_ip

logger = logging.getLogger(__name__)


def login_key(raw: str | None) -> str:
    """A typed login name as the account it names: NFKC (full-width letters and digits,
    the ideographic space become their plain forms), without invisible format characters
    (zero-width space, BOM, soft hyphen), without whitespace at either end (spaces, tabs,
    U+3000…), case-folded. "  ＳＴＡＦＦ_a\\u3000" and "staff_a" are one account.

    The login form, the backend's account lookup, the lockout counter, the rate limit by
    login name and the audit trail's username all use this."""
    text = unicodedata.normalize("NFKC", raw or "")
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf").strip()
    return unicodedata.normalize("NFKC", text.casefold())


def axes_username(request, credentials: dict | None) -> str:
    """settings.AXES_USERNAME_CALLABLE: the key django-axes counts an account's failures by."""
    raw = (credentials or {}).get("username")
    if raw is None and request is not None:
        raw = request.POST.get("username", "")
    return login_key(raw)


def find_account(raw: str | None, *, for_update: bool = False) -> User | None:
    """The one account whose login name has the same login_key as `raw`, or None (no such
    account, or two accounts that only differ by case or width: neither is guessed at).

    With for_update the row stays locked until the transaction ends: tries at one account
    take turns."""
    key = login_key(raw)
    if not key:
        return None
    candidates = User.objects.all()
    if for_update:
        candidates = candidates.select_for_update(of=("self",))
    matches = _answering(key, candidates)
    return matches[0] if len(matches) == 1 else None


def _answering(key: str, users) -> list[User]:
    """The accounts among `users` whose login name has the login_key `key`: the database
    narrows by a case-insensitive match, login_key decides."""
    return [user for user in users.filter(username__iexact=key) if login_key(user.username) == key]


def login_name_taken(raw: str, *, excluding: User | None = None) -> bool:
    """Whether another account already answers to `raw` in some spelling (login_key): a
    new name must not make two accounts that only differ by case or width."""
    others = User.objects.all() if excluding is None else User.objects.exclude(pk=excluding.pk)
    return bool(_answering(login_key(raw), others))


def _window_start():
    return timezone.now() - settings.AXES_COOLOFF_TIME


def account_failures(username: str) -> int:
    """Failures counted against an account within the lockout window."""
    found = AccessAttempt.objects.filter(username=login_key(username), attempt_time__gte=_window_start())
    return found.aggregate(n=Sum("failures_since_start"))["n"] or 0


def is_locked(username: str) -> bool:
    return account_failures(username) >= settings.AXES_FAILURE_LIMIT


def address_failures(ip_address: str) -> int:
    """Failed logins from one address, at any accounts, within the lockout window."""
    found = AccessAttempt.objects.filter(ip_address=ip_address, attempt_time__gte=_window_start())
    return found.aggregate(n=Sum("failures_since_start"))["n"] or 0


def captcha_required(request) -> bool:
    """The login form asks for a CAPTCHA when the client's address has made
    LOGIN_POLICY["captcha_after_failures"] failures within the window, and always when the
    address cannot be told (a proxy that says nothing must not hide a guesser)."""
    threshold = settings.LOGIN_POLICY.get("captcha_after_failures")
    if not threshold:
        return False
    address = client_ip(request)
    if address is None:
        return True
    return address_failures(address) >= threshold


def current_lockouts():
    """Accounts (login keys) locked now: rows of the same key added up within the window,
    the newest first, with their failure count, last try and the time the lock ends."""
    return (
        AccessAttempt.objects.filter(attempt_time__gte=_window_start(), username__isnull=False)
        .exclude(username="")
        .values("username")
        .annotate(failures=Sum("failures_since_start"), last_attempt=Max("attempt_time"))
        .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
        .order_by("-last_attempt", "username")
    )


def unlock(*, username: str = "", ip_address: str = "") -> int:
    """Clear the failures of an account (any spelling of its name) or of an address (which
    also takes its CAPTCHA away); the number of records cleared."""
    cleared = 0
    if username:
        cleared += reset(username=login_key(username))
    if ip_address:
        cleared += reset(ip=ip_address)
    return cleared


def record_unlock(*, username: str, ip_address: str, cleared: int, request=None, detail: dict | None = None) -> None:
    """An unlock is an administrative act on someone's account: into the audit trail as
    解除锁定 (the security admin's page, or the break-glass command with detail saying so)."""
    logger.info("unlock: username=%r ip=%r cleared=%d", username, ip_address, cleared)
    user = find_account(username) if username else None
    record(
        EventType.UNLOCK,
        request=request,
        obj=user,
        object_type="" if user else "axes.accessattempt",
        object_repr="" if user else (username or ip_address),
        detail={"username": login_key(username), "ip_address": ip_address, "cleared": cleared, **(detail or {})},
    )
