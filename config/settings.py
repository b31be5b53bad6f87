"""Settings for the work-plan platform, read from the environment.

With no environment at all this is the embedded default: SQLite under var/, Celery jobs
run eagerly in-process, email printed to the console. DJANGO_ENV=production switches on
the hardening that `manage.py check --deploy` asks for and refuses to start without a
real SECRET_KEY.
"""

import ipaddress
import os
import secrets
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import env_bool, env_decimal, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

_env = environ.Env()

DJANGO_ENV = env_str("DJANGO_ENV", "development")
if DJANGO_ENV not in {"development", "production"}:
    raise ImproperlyConfigured(f"DJANGO_ENV={DJANGO_ENV!r}: use development or production")
PRODUCTION = DJANGO_ENV == "production"

DEBUG = env_bool("DEBUG", default=not PRODUCTION)
# The debug page and the error e-mail show a secret-looking POST field, variable or key as
# stars on every view, DEBUG on or off (Django's own filter does nothing with DEBUG on).
DEFAULT_EXCEPTION_REPORTER_FILTER = "core.debugging.SecretHidingFilter"


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if key:
        return key
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set when DJANGO_ENV=production")
    # Development: a random key kept in var/ (ignored by git), stable across restarts.
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "axes",
    # The login form's picture CAPTCHA (accounts.forms.LoginForm), drawn locally.
    "captcha",
    "django_htmx",
    "csp",
    # Two-factor sign-in (等保 2.0 level 3): the authenticator app's TOTP (accounts.two_factor).
    "django_otp",
    "django_otp.plugins.otp_totp",
    # The project's apps, bottom layer first (docs/architecture.md).
    "core",
    "audit",
    "api",
    "workdays",
    "accounts",
    "workplans",
    "tasks",
    "indicators",
    "supervision",
    "escalation",
    "assessment",
    "imports",
    "dashboards",
    "notifications",
    "workbench",
    "publication",
    "console",
    "demo",
]

MIDDLEWARE = [
    # Outermost: a database outage anywhere below answers 503 with Retry-After, not 500.
    "config.outages.DatabaseOutageMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # A request id for every request (X-Request-ID), read by the audit trail.
    "audit.middleware.RequestIdMiddleware",
    # Every refusal (401, 403, a 404 for an object outside the user's scope) as an audit
    # event, whichever layer below answered it; outside the per-request transaction, so a
    # refused POST's record commits (audit/denials.py).
    "audit.denials.DenialAuditMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.middleware.IgnoreBrowserLanguageMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Input PostgreSQL cannot store (NUL, lone surrogates, bytes not UTF-8) is a Chinese 400
    # before anything reads the query, the form or the JSON (after the language is chosen).
    "core.unstorable.UnstorableInputMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session passed the second factor.
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Content-Security-Policy, Permissions-Policy, no-store for signed-in users, and the
    # rate limits (after authentication: some limits count per user).
    "csp.middleware.CSPMiddleware",
    "config.security.SecurityHeadersMiddleware",
    "config.security.RateLimitMiddleware",
    # Two-factor sign-in: a session that owes its second factor reaches only the 2FA pages.
    "accounts.two_factor.middleware.TwoFactorMiddleware",
    # The one access policy (accounts/policy.py) on every page and the Django admin.
    "accounts.middleware.AccessPolicyMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Read-only pages on the read replica when one is configured; a write pins its user to
    # the primary for a moment (config/replica.py).
    "config.replica.ReplicaReadsMiddleware",
    # Innermost but for axes: a view's lost database connection is a 503 before any outer
    # middleware makes it a 500 (config/outages.py).
    "config.outages.DatabaseOutageViewMiddleware",
    # One transaction per POST/PUT/PATCH/DELETE: a change and its audit record commit
    # together; an error or a 5xx rolls both back.
    "audit.middleware.AtomicUnsafeRequestsMiddleware",
    # Last, as its documentation asks: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "accounts.context_processors.login_policy",
                "notifications.context_processors.inbox",
                "supervision.context_processors.worklist",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASES = {
    "default": _env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions and a busy timeout make concurrent writers wait their turn
    # instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
    # A file, not an in-memory database, so that threads in tests share it; one per
    # process, so two test runs in one checkout do not trample each other.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
else:
    # Persistent connections in production (gunicorn's workers reuse theirs). Not by default
    # in development: runserver serves each request in a thread of its own and, unlike the
    # test server, never closes what the thread kept, so every request would leave one
    # connection open until PostgreSQL refuses more (tests/security/test_dev_defaults.py).
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 60 if PRODUCTION else 0)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # PostgreSQL's JIT compiler off unless asked for: the dashboard's and the lists' aggregates
    # look costly enough to the planner that it compiles them, and at 50,000 tasks compiling
    # took longer than running (a 60-row scan spent 1.4 s in JIT; the first look of the
    # dashboard halves without it). The platform runs many short queries, not a warehouse's.
    if not env_bool("DATABASE_JIT", default=False):
        # Added to any options DATABASE_URL carries (?options=…), not in their place.
        _options = DATABASES["default"].setdefault("OPTIONS", {})
        _options["options"] = f"{_options.get('options', '')} -c jit=off".strip()

# An optional read replica (PostgreSQL streaming replication): leaders' dashboards, exports
# and API list reads go to it through core.replica's router; writes, sign-in and the pages
# after a user's own write read the primary (docs/scaling.md). Tests mirror it onto the
# primary's test database.
REPLICA_PIN_SECONDS = env_int("REPLICA_PIN_SECONDS", 15)
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = {
        **_env.db_url("DATABASE_REPLICA_URL"),
        "CONN_MAX_AGE": DATABASES["default"].get("CONN_MAX_AGE", 0),
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": dict(DATABASES["default"].get("OPTIONS", {})),
        "TEST": {"MIRROR": "default"},
    }
    DATABASE_ROUTERS = ["core.replica.ReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# --- Login policy (等保 2.0 identity rules) ----------------------------------------------
# The one place the numbers live: validators, django-axes and the session settings below
# read them, and so do the tests.
LOGIN_POLICY = {
    "password_min_length": 8,
    "password_min_classes": 3,  # of: lower case, upper case, digits, symbols
    "max_failures": 5,
    "lockout_minutes": 15,
    # Failed logins from one address (any accounts) within lockout_minutes after which
    # its login form asks for a picture CAPTCHA (登录验证码).
    "captcha_after_failures": 3,
    "idle_minutes": 30,
}

AUTHENTICATION_BACKENDS = [
    "accounts.backends.LockoutBackend",
    # Django's ModelBackend, finding the account by its login name in any spelling.
    "accounts.backends.LoginNameBackend",
    # Model permissions in the Django admin, read from the access policy (no superusers).
    "accounts.backends.PolicyBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "accounts.validators.MinimumLengthValidator",
        "OPTIONS": {"min_length": LOGIN_POLICY["password_min_length"]},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {
        "NAME": "accounts.validators.CharacterClassesValidator",
        "OPTIONS": {"min_classes": LOGIN_POLICY["password_min_classes"]},
    },
    {"NAME": "accounts.validators.NotUsernameValidator"},
]

# Failures lock the account they were made at, whatever spelling of its login name was
# typed (accounts.lockout.login_key: NFKC, no surrounding whitespace, case-folded), never
# an address: a bureau's staff share one NAT address, and one person mistyping must not
# lock the others out. An address with many failures gets a CAPTCHA at the login form
# instead (LOGIN_POLICY["captcha_after_failures"]). Tries at one account take turns (the
# account's row is locked until the failure is counted: accounts.backends.LockoutBackend).
AXES_FAILURE_LIMIT = LOGIN_POLICY["max_failures"]
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_POLICY["lockout_minutes"])
AXES_LOCKOUT_PARAMETERS = ["username"]
# axes.W006 asks for the address as a lockout parameter too: that is the NAT lockout this
# avoids. An address is held back by the CAPTCHA and the login rate limit (RATE_LIMITS).
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_USERNAME_CALLABLE = "accounts.lockout.axes_username"
AXES_CLIENT_IP_CALLABLE = "core.net.client_ip"
AXES_RESET_ON_SUCCESS = True
# A lockout lasts the policy's 15 minutes from the failure that caused it; tries while
# locked are refused and logged but do not extend it.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
# The login CAPTCHA (django-simple-captcha, pictures drawn here with its bundled font): five
# letters and digits, valid for five minutes, one try per picture.
CAPTCHA_LENGTH = 5
CAPTCHA_TIMEOUT = 5
CAPTCHA_FONT_SIZE = 30
CAPTCHA_IMAGE_SIZE = (150, 48)

# Two-factor sign-in (accounts/two_factor/): the three administrators always need it;
# OTP_REQUIRED_FOR_ALL=true asks it of everyone. Anyone else may turn it on for themselves.
OTP_REQUIRED_FOR_ALL = env_bool("OTP_REQUIRED_FOR_ALL", False)
# The name the authenticator app shows beside the login name (django-otp calls it with the
# device; a function, so the default name is translated when the QR code is drawn).
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER") or (lambda device: str(_("督办平台")))
# After the n-th wrong code in a row the next try waits 2^(n-1) seconds (django-otp).
OTP_TOTP_THROTTLE_FACTOR = 1
# How many recovery codes a user is given (each works once).
OTP_RECOVERY_CODES = 10

# The proxies in front of the platform (addresses or CIDR networks, comma-separated), e.g.
# TRUSTED_PROXIES=127.0.0.1 for one nginx on the same host. Only a request whose peer is
# one of them has its X-Forwarded-For and X-Request-ID believed; the client is the
# right-most X-Forwarded-For address that is not one of them (core.net.client_ip).
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError as _error:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {_proxy!r} is not an address or network") from _error
if env_int("TRUSTED_PROXY_COUNT", 0):
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT is replaced by TRUSTED_PROXIES (the proxies' addresses)")

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Idle expiry: every request pushes the expiry 30 minutes ahead.
SESSION_COOKIE_AGE = LOGIN_POLICY["idle_minutes"] * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# --- Internationalisation ------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files --------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
# ECharts comes from the npm registry (package.json, installed by `make venv`) and is
# served from here under vendor/echarts/: no CDN, the site works on an intranet.
STATICFILES_DIRS = [BASE_DIR / "static", ("vendor/echarts", BASE_DIR / "node_modules" / "echarts" / "dist")]
# Outside production, serve straight from the app folders (no collectstatic needed).
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Plan import: the largest file accepted, and how long one parse may run (seconds).
PLAN_UPLOAD_MAX_BYTES = env_int("PLAN_UPLOAD_MAX_BYTES", 20 * 1024 * 1024)
PLAN_PARSE_TIME_LIMIT = env_int("PLAN_PARSE_TIME_LIMIT", 120)
# A scan read by OCR, or a legacy .doc/.wps converted first: minutes, in a job of its own.
PLAN_OCR_TIME_LIMIT = env_int("PLAN_OCR_TIME_LIMIT", 600)
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
# Evidence files attached to a progress update: the largest file, and how many per update.
EVIDENCE_MAX_BYTES = env_int("EVIDENCE_MAX_BYTES", 20 * 1024 * 1024)
EVIDENCE_MAX_FILES = env_int("EVIDENCE_MAX_FILES", 10)
# The request carrying them: all files of one update plus the form.
DATA_UPLOAD_MAX_NUMBER_FILES = EVIDENCE_MAX_FILES + 5
# Quotas on reporting (tasks/quotas.py), per user and per agency; 0 switches one off.
# A day's evidence: one full report (10 files of 20 MB) per person, ten people's worth per
# agency, so a stolen account or a runaway script cannot fill the disk.
EVIDENCE_BYTES_PER_USER_DAY = env_int("EVIDENCE_BYTES_PER_USER_DAY", 200 * 1024 * 1024)
EVIDENCE_BYTES_PER_AGENCY_DAY = env_int("EVIDENCE_BYTES_PER_AGENCY_DAY", 2 * 1024 * 1024 * 1024)
# Reports a minute: a person takes longer than 3 s a report; a system syncing its tasks
# through the API is slowed, not stopped (the answer says how long to wait).
REPORTS_PER_USER_MINUTE = env_int("REPORTS_PER_USER_MINUTE", 20)
REPORTS_PER_AGENCY_MINUTE = env_int("REPORTS_PER_AGENCY_MINUTE", 60)

# The audit trail is read, never replayed: the admin's "revert" would change a task
# behind the progress log's back.
SIMPLE_HISTORY_REVERT_DISABLED = True

# Exports: a ledger of more rows than this runs as a job with a progress bar.
EXPORT_INLINE_MAX_ROWS = env_int("EXPORT_INLINE_MAX_ROWS", 500)
# A built export file is kept this many days, then deleted (dashboards.jobs.expire_exports)
# and shown as 已过期; a download after that says so.
EXPORT_RETENTION_DAYS = env_int("EXPORT_RETENTION_DAYS", 7)
if EXPORT_RETENTION_DAYS < 1:
    raise ImproperlyConfigured(f"EXPORT_RETENTION_DAYS={EXPORT_RETENTION_DAYS}: keep export files at least 1 day")

# The leaders' overview is computed once per scope and year and shared for this long.
DASHBOARD_CACHE_SECONDS = env_int("DASHBOARD_CACHE_SECONDS", 300)

# --- Audit trail (等保 2.0 安全审计; the audit app) ----------------------------------------
# How many days audit events are kept; unset: kept for ever. The law asks for at least
# 180 days (网络安全法 第二十一条), and the database refuses to delete younger rows.
AUDIT_MIN_RETENTION_DAYS = 180
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 0) or None
if AUDIT_RETENTION_DAYS is not None and AUDIT_RETENTION_DAYS < AUDIT_MIN_RETENTION_DAYS:
    raise ImproperlyConfigured(
        f"AUDIT_RETENTION_DAYS={AUDIT_RETENTION_DAYS}: audit events must be kept at least "
        f"{AUDIT_MIN_RETENTION_DAYS} days"
    )
# The search page and its export.
AUDIT_PAGE_SIZE = 50
AUDIT_EXPORT_MAX_ROWS = env_int("AUDIT_EXPORT_MAX_ROWS", 100000)
# Refusals in the trail (audit/denials.py): per user (or address) and reason, at most
# max_per_window events per window_seconds, the rest counted and summarised; the
# alert_threshold-th refusal of one user (or address) within alert_window_seconds tells
# the security admins.
AUDIT_DENIALS = {
    "max_per_window": 30,
    "window_seconds": 600,
    "alert_threshold": 20,
    "alert_window_seconds": 600,
}

# --- Risk marks (red / amber / green), used by every page, job and export -------------
RISK_POLICY = {
    # Amber when the percent trails the share of the plan year elapsed by more than this.
    "pace_gap_points": 20,
    # Amber when due within this many days and below this percent.
    "due_soon_days": 14,
    "due_soon_min_percent": 80,
}

# --- The supervision loop's deadlines, in working days (supervision/deadlines.py) ------
SUPERVISION = {
    # The supervision office reviews a report, a close-out or a request within this many.
    "REVIEW_WORKING_DAYS": env_int("SUPERVISION_REVIEW_WORKING_DAYS", 3),
    # The lead agency's head signs off (or decides a request's unit step) within this many.
    "SIGNOFF_WORKING_DAYS": env_int("SUPERVISION_SIGNOFF_WORKING_DAYS", 2),
    # Co-owners' input is due this many working days before the lead's report.
    "CO_OWNER_LEAD_WORKING_DAYS": env_int("SUPERVISION_CO_OWNER_LEAD_WORKING_DAYS", 3),
}

# --- The 督办单 ladder (escalation/policy.py): when a notice is issued by rule ---------
ESCALATION_POLICY = {
    # Blue (提醒): due within this many working days and below RISK_POLICY's
    # due_soon_min_percent (a task), or not done (a milestone); or this cycle's report late.
    "blue_due_within_working_days": 3,
    # Yellow (警示): overdue, or this many points behind the year's pace (tasks.risk), or a
    # blue notice past its reply deadline unanswered.
    "yellow_points_behind": 20,
    # Red (严重): overdue by more than this many working days, or this many points behind,
    # or a yellow notice past its reply deadline unanswered.
    "red_overdue_working_days": 10,
    "red_points_behind": 40,
    # The reply deadline of a notice, in working days after it is issued, per level.
    "reply_working_days": {"blue": 5, "yellow": 3, "red": 2},
}
# The bureau's series of notice numbers: "督办〔2026〕12号". {series}, {year}, {seq}.
ESCALATION_NUMBER_SERIES = env_str("ESCALATION_NUMBER_SERIES", "督办")
ESCALATION_NUMBER_FORMAT = env_str("ESCALATION_NUMBER_FORMAT", "{series}〔{year}〕{seq}号")
# The office that issues the notices, printed on them.
ESCALATION_ISSUING_OFFICE = env_str("ESCALATION_ISSUING_OFFICE", "督查室")
# The .docx template of the printable notice (docxtpl); empty: the one we ship
# (escalation/docx/notice.docx, made by scripts/make_notice_template.py). A bureau replaces
# it with its own letterhead; a relative path is taken from BASE_DIR, and the template's
# variables are the keys of escalation.printing.notice_context.
ESCALATION_NOTICE_TEMPLATE = env_str("ESCALATION_NOTICE_TEMPLATE", "")

# --- The bulletin (通报, dashboards/bulletins.py) ---------------------------------------
# Its number in the bureau's series, given at issue without gaps: "督查通报〔2026〕3期".
BULLETIN_NUMBER_SERIES = env_str("BULLETIN_NUMBER_SERIES", "督查通报")
BULLETIN_NUMBER_FORMAT = env_str("BULLETIN_NUMBER_FORMAT", "{series}〔{year}〕{seq}期")
# The office printed as its issuer; empty is the notices' issuing office.
BULLETIN_ISSUING_OFFICE = env_str("BULLETIN_ISSUING_OFFICE", "")
# The docxtpl template; empty is the one we ship (dashboards/docx/bulletin.docx, made by
# scripts/make_bulletin_template.py). A relative path is taken from BASE_DIR; the
# template's variables are the keys of dashboards.bulletins.document_context.
BULLETIN_TEMPLATE = env_str("BULLETIN_TEMPLATE", "")

# --- Assessment (考核) ----------------------------------------------------------------
# The weights a new scheme starts from: a co-owner's share of a task's points beside the
# lead's full share (the admin then sets each scheme's own, assessment/rules.py scores).
ASSESSMENT_DEFAULT_WEIGHTS = {
    "lead": env_decimal("ASSESSMENT_LEAD_WEIGHT", "1.00"),
    "co_owner": env_decimal("ASSESSMENT_CO_OWNER_WEIGHT", "0.50"),
}

# --- Reminders (notifications app) ---------------------------------------------------
# Where links in emails and robot messages point.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
REMINDERS = {
    # A task or milestone due in this many days (calendar days, Asia/Shanghai).
    "due_days_before": [7, 1],
    # Overdue: every day for the first N days, then every M days.
    "overdue_daily_days": 7,
    "overdue_then_every_days": 7,
    # This cycle's report not submitted: this many days before the cycle's due day (0 = on the day).
    "report_days_before": [3, 1, 0],
    # The leaders' weekly digest: ISO weekday (1 = Monday).
    "digest_weekday": 1,
    # A day's reminders go out from this time; the inbox gets them at once.
    "send_from": env_str("REMINDER_SEND_FROM", "08:30"),
    # Default quiet hours (each user may change theirs): non-urgent email and robot
    # messages wait until they end. Urgent: due tomorrow, or a report due today.
    "quiet_hours": ["22:00", "08:00"],
    # Sending: transient failures retry after these delays, then the delivery fails.
    "retry_delays_seconds": [60, 300, 1800, 7200],
    # A delivery claimed longer ago than this by a worker that died goes back to pending.
    "claim_lease_seconds": env_int("REMINDER_CLAIM_LEASE_SECONDS", 600),
    # Rows per batch a worker claims and sends in one transaction. Email and robot rows go
    # out as messages over the network, about batch_size at a time; inbox rows are only
    # written here, so their batches are larger: at the year-end peak half the rows are
    # inbox rows, and each batch's fixed statements (claim, wording, COPY) then cost less
    # than the rows.
    "batch_size": 200,
    "inbox_batch_size": 1000,
}
# Robot webhooks on 127.0.0.1 (tests, local trials); production needs the official hosts.
NOTIFICATIONS_ALLOW_LOCAL_WEBHOOKS = env_bool("NOTIFICATIONS_ALLOW_LOCAL_WEBHOOKS", DEBUG)

# --- Email ----------------------------------------------------------------------------
_email = _env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "")
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "workplans@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# EMAIL_URL=filemail:// writes each message to a file here (trials, the worker test).
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))

# --- Celery ---------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
# Redis when there is one (shared by every web process), memory otherwise.
# django-redis rather than Django's own RedisCache: with IGNORE_EXCEPTIONS an unreachable
# Redis is a cache miss (get answers the default, set does nothing, logged), so pages keep
# working while it is down; the short timeouts keep a hung Redis from holding a request.
CACHE_REDIS_TIMEOUT_SECONDS = env_int("CACHE_REDIS_TIMEOUT_SECONDS", 1)
CACHES = {
    "default": (
        {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "workplans",
            "OPTIONS": {
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": CACHE_REDIS_TIMEOUT_SECONDS,
                "SOCKET_TIMEOUT": CACHE_REDIS_TIMEOUT_SECONDS,
            },
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
# No broker configured: run jobs in-process, so the embedded default needs no services.
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "celery")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Processes per Celery worker (default: one per core); more workers: more containers or hosts
# (docker compose up --scale worker=N), each taking batches off the same queue.
if os.environ.get("CELERY_WORKER_CONCURRENCY"):
    CELERY_WORKER_CONCURRENCY = env_int("CELERY_WORKER_CONCURRENCY", 1)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Queueing a job from a request (core.jobs.enqueue) gives up after about a second when
# Redis is down instead of retrying for ever: the change is saved, the job is logged as not
# queued, and a beat sweep or the page's "稍后重试" state takes over.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.25, "interval_max": 0.5}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# A job a worker took but did not acknowledge (acks_late: it died) goes back to the queue
# after this many seconds. Longer than any job runs; tests use a short one.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"retry_policy": {"max_retries": 2, "interval_max": 0.5}}
CELERY_BEAT_SCHEDULE = {
    "purge-expired-sessions": {
        "task": "accounts.jobs.purge_expired_sessions",
        "schedule": crontab(hour=3, minute=17),
        # A missed run is simply skipped: the next night's run does the same work.
        "options": {"expires": 3600},
    },
    # Dashboard history: yesterday's snapshots, written once the day is over.
    "rollup-snapshots": {
        "task": "dashboards.jobs.rollup_snapshots",
        "schedule": crontab(hour=0, minute=20),
        "options": {"expires": 6 * 3600},
    },
    # The leaders' overviews recomputed ahead of their looks in working hours (the job skips
    # other hours and working-day checks itself; one runs at a time).
    "keep-overviews-warm": {
        "task": "dashboards.jobs.refresh_overviews",
        "schedule": crontab(minute="*/2", hour="7-18"),
        "kwargs": {"scheduled": True},
        "options": {"expires": 110},
    },
    # Reminders: a frequent scan for what is due today (its unique keys make every run
    # after the first a no-op), and a sender sweep for what is due to go out: held by
    # quiet hours, waiting to retry, or left by a worker that died.
    "scan-reminders": {
        "task": "notifications.jobs.scan_reminders",
        "schedule": crontab(minute="*/10"),
        "options": {"expires": 9 * 60},
    },
    "dispatch-deliveries": {
        "task": "notifications.jobs.dispatch_deliveries",
        "schedule": crontab(minute="*"),
        "options": {"expires": 50},
    },
    # Audit events past AUDIT_RETENTION_DAYS (a no-op while it is unset).
    "purge-audit-events": {
        "task": "audit.jobs.purge_audit_events",
        "schedule": crontab(hour=3, minute=41),
        "options": {"expires": 6 * 3600},
    },
    # Export files past EXPORT_RETENTION_DAYS: deleted, their rows marked 已过期. Hourly,
    # so a file outlives its retention by an hour at most (a download refuses it anyway).
    "expire-exports": {
        "task": "dashboards.jobs.expire_exports",
        "schedule": crontab(minute=23),
        "options": {"expires": 50 * 60},
    },
    # The 督办单 ladder: once each morning (the job does nothing on a day off; running it
    # again, or twice at once, issues nothing more).
    "escalate": {
        "task": "escalation.jobs.escalate",
        "schedule": crontab(hour=8, minute=30),
        "options": {"expires": 6 * 3600},
    },
    # Public pages (政务公开): once a day; a plan on a daily schedule is built once a day, a
    # weekly one once an ISO week; republished without review only when nothing reviewed
    # (its settings, its narratives) has changed (publication.services.run_scheduled).
    "publish-public-pages": {
        "task": "publication.jobs.publish_scheduled",
        "schedule": crontab(hour=6, minute=40),
        "options": {"expires": 6 * 3600},
    },
    # Idempotency-Key answers past their 24 hours (api.idempotency.KEEP_FOR).
    "purge-idempotency-keys": {
        "task": "api.jobs.purge_idempotency_keys",
        "schedule": crontab(minute=37),
        "options": {"expires": 50 * 60},
    },
}
# Trials and the fault tests: every beat job this often (seconds) instead of its crontab.
if _beat_every := env_int("BEAT_INTERVAL_SECONDS", 0):
    for _entry in CELERY_BEAT_SCHEDULE.values():
        _entry["schedule"] = timedelta(seconds=_beat_every)

# --- REST framework (the API under /api/v1/) ------------------------------------------
# An API token works this many days after it is made (then its owner makes a new one).
API_TOKEN_DAYS = env_int("API_TOKEN_DAYS", 90)
if API_TOKEN_DAYS < 1:
    raise ImproperlyConfigured(f"API_TOKEN_DAYS={API_TOKEN_DAYS}: a token must live at least one day")
REST_FRAMEWORK = {
    # A token per user for systems; the session for the pages (CSRF checked on unsafe methods).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.TokenAuthentication",
        "api.authentication.SessionAuthentication",
    ],
    # The access policy (accounts/policy.py) on every API view, token or session.
    "DEFAULT_PERMISSION_CLASSES": ["accounts.policy.PolicyPermission"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.PagePagination",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.UserThrottle", "api.throttling.AnonThrottle"],
    # Per user (signed in by token or session) and per address (anonymous); beyond: 429.
    "DEFAULT_THROTTLE_RATES": {
        "user": env_str("API_THROTTLE_USER", "1200/min"),
        "anon": env_str("API_THROTTLE_ANON", "60/min"),
    },
    "EXCEPTION_HANDLER": "api.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "ORDERING_PARAM": "ordering",
    "COERCE_DECIMAL_TO_STRING": True,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": _("卫生健康工作要点督办平台 API"),
    "DESCRIPTION": (
        _(
            "计划、任务、进展、指标与督办数据的接口。认证：请求头 `Authorization: Token <令牌>`"
            "（在 /api/tokens/ 创建），或登录后的浏览器会话（写操作需 CSRF 令牌）。"
            "每个用户只能看到自己权限范围内的数据：范围外的对象一律返回 404。"
            "填报状态或进度时须在 `If-Match` 中带上任务的 ETag，过期返回 412 和任务当前状态。"
            "POST 可带 `Idempotency-Key`：24 小时内重试返回第一次的响应，不会重复写入。"
        )
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["accounts.policy.PolicyPermission"],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "TaskStatusEnum": "tasks.choices.TaskStatus",
        "PlanStatusEnum": "workplans.choices.PlanStatus",
        "OwnerRoleEnum": "tasks.choices.OwnerRole",
        # The supervision loop's objects each have a `state` of their own set.
        "ReportStateEnum": "supervision.choices.ReportState",
        "InputStateEnum": "supervision.choices.InputState",
        "CloseOutStateEnum": "supervision.choices.CloseOutState",
        "RequestStateEnum": "supervision.choices.RequestState",
        "RequestKindEnum": "supervision.choices.RequestKind",
        "LoopActionEnum": "supervision.choices.Action",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.add_common_responses",
    ],
    # Swagger UI and Redoc from drf-spectacular-sidecar, served from our own static files.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Browser hardening (every environment; config/security.py) -------------------------
# No inline script, style or event handler anywhere: every script and stylesheet is a file
# under static/. Per-view exceptions are set on the view (the Redoc page, api/urls.py).
from csp.constants import NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],  # Swagger UI's and ECharts' icons are data: URLs
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
CSRF_FAILURE_VIEW = "config.security.csrf_failure"

# Rate limits by URL name (config.security.RateLimitMiddleware, counted by django-ratelimit
# in the default cache): beyond a rate ("count/period", period s, m, h or d, e.g. "10/5m")
# the answer is 429 with Retry-After. Keys: ip, user, post:<form field>. An empty rate
# switches that limit off. If the cache is unreachable the limits fail open (logged);
# the login lockout (django-axes, in the database) still holds.
RATE_LIMITS = {
    "accounts:login": {
        "methods": ["POST"],
        "rates": {
            # A whole bureau behind one NAT address signing in at 9 o'clock stays well
            # below this; guessing from one address meets the CAPTCHA long before it.
            "ip": env_str("RATE_LIMIT_LOGIN_IP", "600/5m"),
            "post:username": env_str("RATE_LIMIT_LOGIN_USERNAME", "30/5m"),
        },
    },
    "imports:upload": {
        "methods": ["POST"],
        "rates": {"user": env_str("RATE_LIMIT_IMPORT", "20/h")},
    },
    "dashboards:export_ledger": {
        "methods": ["POST"],
        "rates": {"user": env_str("RATE_LIMIT_EXPORT", "30/h")},
    },
    "dashboards:export_bulletin": {
        "methods": ["POST"],
        "rates": {"user": env_str("RATE_LIMIT_EXPORT", "30/h")},
    },
    "audit:export": {
        "rates": {"user": env_str("RATE_LIMIT_AUDIT_EXPORT", "20/h")},
    },
}
RATELIMIT_FAIL_OPEN = True
RATELIMIT_IP_META_KEY = "core.net.client_address"

# --- Logging --------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # "audit": one JSON line per audit event, whatever LOG_LEVEL says (audit.services).
    # pikepdf (the evidence PDF checks) says at INFO that it started, on every command.
    "loggers": {"axes": {"level": "WARNING"}, "audit": {"level": "INFO"}, "pikepdf": {"level": "WARNING"}},
}

# --- Production hardening -------------------------------------------------------------
if PRODUCTION:
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DJANGO_ENV=production")
    # Behind a TLS-terminating proxy that sets X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    CSRF_COOKIE_HTTPONLY = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"
