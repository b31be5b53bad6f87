"""The optional read replica: which reads may go to it, and the database router that sends them.

A province deployment may set DATABASE_REPLICA_URL (a PostgreSQL streaming replica of the
primary); settings then define the "replica" alias and install `ReplicaRouter`. Reads go to the
replica only inside `reads_from_replica()` — entered by config.replica's middleware for the
pages and API lists that only read (leaders' dashboards, exports, API list reads) and by the
jobs that build exports — and never:

- for the models that decide who the user is and what they may do (accounts, sessions, API
  tokens, lockout, two-factor devices, the audit trail): a password changed or a token issued a
  moment ago must count at once;
- for a user whose own write is younger than REPLICA_PIN_SECONDS (`pin_to_primary`): the page
  after a save shows the save, whatever the replica's lag;
- inside a transaction (a read that a write depends on);
- when no replica is configured: everything reads the primary, as before.

Writes always go to the primary; migrations run on the primary only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections, transaction

REPLICA = "replica"

# The apps whose rows decide identity and access, read from the primary always.
PRIMARY_ONLY_APPS = frozenset(
    {"accounts", "auth", "sessions", "api", "axes", "otp_totp", "otp_static", "django_otp", "audit", "contenttypes"}
)

# None: reads go to the primary. Otherwise a one-element list holding either a decision made
# (True/False) or the request whose user's pin is still to be looked up at the first read
# (the API authenticates inside the view, after the middleware has run).
_scope: ContextVar[list[Any] | None] = ContextVar("replica_reads", default=None)


def configured() -> bool:
    return REPLICA in connections.settings


def _pin_key(user_id: int) -> str:
    return f"replica:pin:{user_id}"


def pin_to_primary(user_id: int) -> None:
    """The user just wrote: their reads stay on the primary for REPLICA_PIN_SECONDS."""
    if configured():
        cache.set(_pin_key(user_id), 1, settings.REPLICA_PIN_SECONDS)


def is_pinned(user_id: int | None) -> bool:
    return user_id is not None and bool(cache.get(_pin_key(user_id)))


@contextmanager
def reads_from_replica(request: Any = None) -> Iterator[None]:
    """Reads in this block may go to the replica (see the module's rules). With a request, the
    request's user is checked for a pin at the first read, once."""
    token = _scope.set([request if request is not None else True])
    try:
        yield
    finally:
        _scope.reset(token)


def _replica_allowed() -> bool:
    state = _scope.get()
    if state is None or not configured():
        return False
    decision = state[0]
    if not isinstance(decision, bool):
        user = getattr(decision, "user", None)
        user_id = user.pk if user is not None and user.is_authenticated else None
        decision = state[0] = not is_pinned(user_id)
    return decision


class ReplicaRouter:
    """settings.DATABASE_ROUTERS when DATABASE_REPLICA_URL is set."""

    def db_for_read(self, model, **hints) -> str:
        if (
            model._meta.app_label not in PRIMARY_ONLY_APPS
            and _replica_allowed()
            and not transaction.get_connection(DEFAULT_DB_ALIAS).in_atomic_block
        ):
            return REPLICA
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True  # one database and its copy

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        return db == DEFAULT_DB_ALIAS
