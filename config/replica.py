"""Which pages read from the replica (core.replica), and the pin after a user's own write.

The routes listed here only read and can bear a replica's lag of a second or two: the leaders'
dashboard, the export downloads and every list the API offers (GET only). Any request that
writes (POST, PUT, PATCH, DELETE) and succeeds pins its user to the primary for
REPLICA_PIN_SECONDS, so the page after a save — a task page, a list, the dashboard — reads
what was just written. Without DATABASE_REPLICA_URL this middleware does nothing.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from core import replica

# URL names (namespace:name) served from the replica on GET/HEAD.
REPLICA_ROUTES = frozenset(
    {
        "dashboards:overview",
        "dashboards:export_download",
        "api:dashboard-list",
    }
)
SAFE_METHODS = ("GET", "HEAD")


def reads_from_replica(view_name: str) -> bool:
    """Whether GET/HEAD of this route may read the replica: the listed pages and every API list."""
    return view_name in REPLICA_ROUTES or (view_name.startswith("api:") and view_name.endswith("-list"))


class ReplicaReadsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not replica.configured():
            return self.get_response(request)
        request._replica_block = None  # type: ignore[attr-defined]
        try:
            response = self.get_response(request)
        finally:
            block = request._replica_block  # type: ignore[attr-defined]
            if block is not None:
                block.__exit__(None, None, None)
        if request.method not in SAFE_METHODS and response.status_code < 400:
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                replica.pin_to_primary(user.pk)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if (
            replica.configured()
            and request.method in SAFE_METHODS
            and match is not None
            and reads_from_replica(match.view_name)
        ):
            block = replica.reads_from_replica(request)
            block.__enter__()
            request._replica_block = block
        return None
