"""The rules of the second sign-in factor: who needs it, enrolling an authenticator, checking
a code, recovery codes, and taking a user's second factor away."""

import dataclasses
import math
import secrets
from base64 import b32encode

import django_otp
import segno
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import RecoveryCode, RecoveryCodeDevice, recovery_code_digest
from audit.choices import EventType, Outcome
from audit.services import record
from core.roles import ADMIN_ROLES

# Set at sign-in for a user who has an authenticator but whom nothing else obliges to use
# it (receivers.py): this session owes its second factor all the same.
PENDING_SESSION_KEY = "two_factor_pending"
# The recovery codes just issued, shown once by the page that pops them.
NEW_CODES_SESSION_KEY = "two_factor_new_codes"
# Recovery codes: 16 characters of an alphabet without look-alikes (0/O, 1/I), 80 bits.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 16
TOTP_NAME = "authenticator"
RECOVERY_NAME = "recovery"


@dataclasses.dataclass(frozen=True)
class Check:
    """The answer to a code: accepted, or not and why (`wait_seconds` > 0: throttled)."""

    ok: bool
    wait_seconds: int = 0
    remaining_codes: int = 0


def required_for(user) -> bool:
    """The three administrators always sign in with two factors; everyone does when
    OTP_REQUIRED_FOR_ALL is set."""
    return user.role in ADMIN_ROLES or settings.OTP_REQUIRED_FOR_ALL


def authenticator(user) -> TOTPDevice | None:
    """The user's confirmed authenticator, if enrolled."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def has_second_factor(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def owes_second_factor(request) -> bool:
    """Whether this signed-in session must still pass the second factor."""
    user = request.user
    if not user.is_authenticated or user.is_verified():
        return False
    if required_for(user):
        return True
    if request.session.get(PENDING_SESSION_KEY):
        if has_second_factor(user):
            return True
        # Reset since this session signed in: nothing left to verify with.
        request.session.pop(PENDING_SESSION_KEY)
    return False


def verified_by_recovery_code(request) -> bool:
    """This session's second factor was a recovery code (the user may have lost the phone)."""
    return isinstance(getattr(request.user, "otp_device", None), RecoveryCodeDevice)


# --- Enrolment ----------------------------------------------------------------------------


def pending_authenticator(user) -> TOTPDevice:
    """The authenticator being enrolled: the same secret until it is confirmed, so a
    reloaded page shows the QR code already scanned."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)
    return device


def qr_data_uri(device: TOTPDevice) -> str:
    """The otpauth:// URL as an SVG QR code in a data: URL, drawn here (no outside service;
    the CSP allows data: images)."""
    return segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2)


def manual_key(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, for typing into the app by hand."""
    key = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def confirm_authenticator(request, device: TOTPDevice, token: str) -> Check:
    """The first code from the newly scanned authenticator: right, and the authenticator is
    the user's (any older one goes), this session is verified, and fresh recovery codes
    wait in the session to be shown once."""
    user = request.user
    check = _verify(request, device, token, stage="enrol")
    if not check.ok:
        return check
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = issue_recovery_codes(user)
    django_otp.login(request, device)
    request.session.pop(PENDING_SESSION_KEY, None)
    request.session[NEW_CODES_SESSION_KEY] = codes
    record(EventType.OTP_ENROL, request=request, obj=user, detail={"recovery_codes": len(codes)})
    return check


def issue_recovery_codes(user) -> list[str]:
    """A new set of recovery codes for `user`, replacing any older set; only their digests
    are kept, so the list returned is the only time anyone sees them."""
    RecoveryCodeDevice.objects.filter(user=user).delete()
    device = RecoveryCodeDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [_new_code() for _ in range(settings.OTP_RECOVERY_CODES)]
    RecoveryCode.objects.bulk_create(RecoveryCode(device=device, digest=recovery_code_digest(c)) for c in codes)
    return codes


def renew_recovery_codes(request) -> list[str]:
    codes = issue_recovery_codes(request.user)
    request.session[NEW_CODES_SESSION_KEY] = codes
    record(EventType.OTP_ENROL, request=request, obj=request.user, detail={"action": "renew_recovery_codes"})
    return codes


def _new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def remaining_recovery_codes(user) -> int:
    return RecoveryCode.objects.filter(device__user=user).count()


# --- The second step of a sign-in -------------------------------------------------------


def verify_code(request, token: str) -> Check:
    """The code from the user's authenticator: right, and this session is verified."""
    device = authenticator(request.user)
    if device is None:
        return Check(ok=False)
    check = _verify(request, device, token, stage="verify")
    if check.ok:
        django_otp.login(request, device)
        request.session.pop(PENDING_SESSION_KEY, None)
    return check


def verify_recovery_code(request, code: str) -> Check:
    """A recovery code, used up: right, and this session is verified (by the recovery
    codes, so the user may then enrol a new authenticator)."""
    user = request.user
    device = RecoveryCodeDevice.objects.filter(user=user, confirmed=True).first()
    if device is None or not has_second_factor(user):
        _record_failure(request, "recovery", "verify", failures=0)
        return Check(ok=False)
    check = _verify(request, device, code, stage="verify")
    if not check.ok:
        return check
    django_otp.login(request, device)
    request.session.pop(PENDING_SESSION_KEY, None)
    remaining = remaining_recovery_codes(user)
    record(EventType.RECOVERY_CODE_USED, request=request, obj=user, detail={"remaining": remaining})
    return Check(ok=True, remaining_codes=remaining)


def prove_possession(request, code: str) -> Check:
    """Before a user changes their own second factor: a current code from the
    authenticator, or a recovery code (used up). A session that signed in with a recovery
    code has just proved it."""
    if verified_by_recovery_code(request):
        return Check(ok=True)
    code = code.strip()
    if code.isdigit():
        device = authenticator(request.user)
        if device is None:
            return Check(ok=False)
        return _verify(request, device, code, stage="confirm")
    return verify_recovery_code(request, code)


def _verify(request, device, token: str, *, stage: str) -> Check:
    """One try of `token` on `device`, throttled (django-otp: after the n-th wrong code in
    a row, 2^(n-1) seconds before the next is looked at); a wrong or early try is recorded."""
    method = "recovery" if isinstance(device, RecoveryCodeDevice) else "totp"
    with transaction.atomic():
        device = type(device).objects.select_for_update().get(pk=device.pk)
        allowed, details = device.verify_is_allowed()
        if not allowed:
            wait = _seconds_until((details or {}).get("locked_until"))
            _record_failure(request, method, stage, failures=device.throttling_failure_count, throttled=True)
            return Check(ok=False, wait_seconds=max(wait, 1))
        if device.verify_token(token.strip().replace(" ", "")):
            return Check(ok=True)
    device.refresh_from_db()
    _record_failure(request, method, stage, failures=device.throttling_failure_count)
    return Check(ok=False)


def _seconds_until(moment) -> int:
    if moment is None:
        return 0
    return math.ceil((moment - timezone.now()).total_seconds())


def _record_failure(request, method: str, stage: str, *, failures: int, throttled: bool = False) -> None:
    detail = {"method": method, "stage": stage, "failures": failures}
    if throttled:
        detail["throttled"] = True
    record(EventType.OTP_FAILED, outcome=Outcome.FAILURE, request=request, obj=request.user, detail=detail)


# --- Taking a second factor away --------------------------------------------------------


def remove_second_factor(user) -> int:
    """Delete the user's authenticators and recovery codes; how many devices went. A
    session verified by one of them is verified no more (OTPMiddleware finds no device)."""
    removed = TOTPDevice.objects.filter(user=user).delete()[1].get(TOTPDevice._meta.label, 0)
    removed += RecoveryCodeDevice.objects.filter(user=user).delete()[1].get(RecoveryCodeDevice._meta.label, 0)
    return removed


def remove_own(request, action: str) -> int:
    """The user takes away their own second factor (after prove_possession): to turn it off
    or to enrol a new authenticator."""
    removed = remove_second_factor(request.user)
    request.session.pop(PENDING_SESSION_KEY, None)
    record(EventType.OTP_RESET, request=request, obj=request.user, detail={"action": action, "by": "self"})
    return removed


def reset_for(request, target) -> int:
    """The security admin resets someone else's second factor (a lost phone and no recovery
    code): at the next sign-in they enrol again, as on their first."""
    removed = remove_second_factor(target)
    record(
        EventType.OTP_RESET,
        request=request,
        obj=target,
        detail={"action": "reset", "by": "security_admin", "devices": removed},
    )
    return removed
