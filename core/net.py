"""Who is asking: the client's address, and whether they want JSON or a page."""

from axes.helpers import get_client_ip_address

# The pages under /api/ that people open in a browser (the rest of /api/ is the API).
API_PAGES = ("/api/docs/", "/api/redoc/", "/api/tokens/")


def client_ip(request) -> str | None:
    """The client's address as django-axes sees it (REMOTE_ADDR unless TRUSTED_PROXY_COUNT
    says how many proxies to trust).

    One resolver for the lockout, the rate limits and the audit trail, so a forged
    X-Forwarded-For can neither dodge a lockout nor falsify a log line.
    """
    if request is None:
        return None
    return get_client_ip_address(request)


def client_address(request) -> str:
    """client_ip(), never empty: the key the rate limits count by (RATELIMIT_IP_META_KEY)."""
    return client_ip(request) or request.META.get("REMOTE_ADDR") or "unknown"


def wants_json(request) -> bool:
    """The API and scripts asking for JSON get JSON errors; a person's browser gets a page."""
    if request.path.startswith("/api/") and not request.path.startswith(API_PAGES):
        return True
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept
