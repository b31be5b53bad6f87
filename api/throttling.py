"""Request rates per user (per address for anonymous callers), answered with 429 beyond them.

The rates are read from REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] on every request rather
than once at import, so a changed setting applies at once (and tests can lower them)."""

from rest_framework import throttling
from rest_framework.settings import api_settings


class _SettingsRate:
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class UserThrottle(_SettingsRate, throttling.UserRateThrottle):
    scope = "user"


class AnonThrottle(_SettingsRate, throttling.AnonRateThrottle):
    scope = "anon"
