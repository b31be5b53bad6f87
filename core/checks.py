"""System checks of the services the platform runs on (registered by core.apps).

Redis is both the broker and the cache. Under memory pressure an evicting policy
(allkeys-lru and friends) would silently drop queued jobs along with cache entries; with
noeviction Redis refuses writes instead, which the cache treats as a miss and enqueueing
reports (core.jobs.enqueue). So production wants maxmemory-policy noeviction.
"""

import redis
from django.conf import settings
from django.core import checks


def _maxmemory_policy(url: str) -> str | None:
    """The server's policy; None when CONFIG is disabled or renamed (managed Redis)."""
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        return client.config_get("maxmemory-policy").get("maxmemory-policy")
    except redis.exceptions.ResponseError:
        return None
    finally:
        client.close()


def redis_maxmemory_policy(app_configs=None, **kwargs):
    url = getattr(settings, "REDIS_URL", "")
    if not url:
        return []
    try:
        policy = _maxmemory_policy(url)
    except redis.exceptions.RedisError:
        return []  # unreachable now: nothing to read; the services' own checks say so
    if policy is None or policy == "noeviction":
        return []
    message = f"Redis maxmemory-policy is {policy!r}: queued jobs may be evicted under memory pressure."
    hint = "Run redis-server with --maxmemory-policy noeviction (docker-compose.yml does)."
    if settings.PRODUCTION:
        return [checks.Warning(message, hint=hint, id="workplans.W001")]
    return [checks.Info(message, hint=hint, id="workplans.I001")]


def register() -> None:
    checks.register(redis_maxmemory_policy, checks.Tags.caches)
