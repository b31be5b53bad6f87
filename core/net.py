"""Who is asking: the client's address behind the deployment's proxies, and whether they
want JSON or a page.

The address is resolved here and nowhere else: the login lockout and CAPTCHA, the rate
limits (RATELIMIT_IP_META_KEY), the audit trail and the request id all ask client_ip().
"""

import functools
import ipaddress
import uuid

from django.conf import settings

# The pages under /api/ that people open in a browser (the rest of /api/ is the API).
API_PAGES = ("/api/docs/", "/api/redoc/", "/api/tokens/")

# Entries of X-Forwarded-For read from the right before giving up: a chain of proxies is
# short, and a header padded with thousands of entries must not cost more than this.
MAX_FORWARDED_HOPS = 16

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.cache
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def trusted_networks() -> tuple[Network, ...]:
    """settings.TRUSTED_PROXIES (addresses or CIDR networks) parsed once per value."""
    return _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ()) or ()))


def parse_address(raw: str | None) -> Address | None:
    """One address as a proxy or the server wrote it; an IPv4-mapped IPv6 address as the
    IPv4 address it carries; None for anything else (a name, a port, garbage)."""
    if not raw:
        return None
    try:
        address = ipaddress.ip_address(raw.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_trusted_proxy(address: Address | None) -> bool:
    return address is not None and any(address in network for network in trusted_networks())


def from_trusted_proxy(request) -> bool:
    """The request reached us through one of the deployment's own proxies (REMOTE_ADDR is
    in TRUSTED_PROXIES): only then are its X-Forwarded-For and X-Request-ID believed."""
    return request is not None and is_trusted_proxy(parse_address(request.META.get("REMOTE_ADDR")))


def _resolve(request) -> str | None:
    peer = parse_address(request.META.get("REMOTE_ADDR"))
    if peer is None:
        return None
    if not is_trusted_proxy(peer):
        # Straight from the client (or from a proxy we do not know): its headers are its own.
        return str(peer)
    # Each trusted proxy appended the address it received the request from. Walk from the
    # right, past our own proxies; the first address that is not one of them is the client.
    # Whatever stands to its left was written by the client and is not believed.
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop.strip() for hop in forwarded.split(",")][::-1][:MAX_FORWARDED_HOPS]
    for hop in hops:
        address = parse_address(hop)
        if address is None:
            # Garbage where a trusted proxy should have written an address: unresolvable.
            return None
        if not is_trusted_proxy(address):
            return str(address)
    # No header, or nothing but our own proxies in it: the proxy did not say who asked.
    return None


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, unless it is a trusted proxy
    (settings.TRUSTED_PROXIES), in which case the right-most address of X-Forwarded-For
    that is not a trusted proxy. None when it cannot be told (a trusted proxy that sent no
    usable X-Forwarded-For): such requests never share a counter (see client_address).

    Resolved once per request and kept on it."""
    if request is None:
        return None
    if hasattr(request, "_client_ip"):
        cached: str | None = request._client_ip
        return cached
    address = _resolve(request)
    request._client_ip = address
    return address


def client_address(request) -> str:
    """client_ip(), never empty: the key django-ratelimit counts by (RATELIMIT_IP_META_KEY).
    An address that cannot be resolved gets a key of its own for this request, never one
    bucket shared by every such request (a misconfigured proxy would otherwise put the
    whole bureau in it)."""
    address = client_ip(request)
    if address:
        return address
    key = getattr(request, "_unresolved_address_key", None)
    if key is None:
        key = f"unresolved-{uuid.uuid4().hex}"
        request._unresolved_address_key = key
    return key


def wants_json(request) -> bool:
    """The API and scripts asking for JSON get JSON errors; a person's browser gets a page."""
    if request.path.startswith("/api/") and not request.path.startswith(API_PAGES):
        return True
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept
