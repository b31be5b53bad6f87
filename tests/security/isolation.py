"""A pytest plugin (tests/conftest.py's pytest_plugins): every test starts with no
rate-limit counts. The counts live in the default cache, which outlives a test (locmem for
the whole session, Redis across runs), so without this a test that turns the limits on
(config/test_settings.py leaves them off) could meet a 429 counted by an earlier test."""

import pytest


def clear_rate_limit_counts():
    from django.conf import settings
    from django.core.cache import caches

    cache = caches[getattr(settings, "RATELIMIT_USE_CACHE", "default")]
    marker = getattr(settings, "RATELIMIT_CACHE_PREFIX", "rl:")
    store = getattr(cache, "_cache", None)
    if hasattr(cache, "delete_pattern"):  # django-redis: only our keys, never the broker's
        cache.delete_pattern(f"{marker}*")  # errors are ignored (IGNORE_EXCEPTIONS)
    elif isinstance(store, dict):  # LocMemCache
        with cache._lock:
            for key in [k for k in store if f":{marker}" in k]:
                store.pop(key, None)
                cache._expire_info.pop(key, None)


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    clear_rate_limit_counts()
    return
