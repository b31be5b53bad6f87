"""The filter of Django's error reports (the DEBUG page and the error e-mail): a POST field, a
traceback variable or a dictionary key whose name looks secret is shown as stars, on every
view, with DEBUG on as well as off.

Django's own SafeExceptionReporterFilter hides only what a view names with
sensitive_post_parameters / sensitive_variables, and nothing at all while DEBUG is on, so
`make run`'s debug page would show the password of a login that failed with an exception.
Settings: DEFAULT_EXCEPTION_REPORTER_FILTER = "core.debugging.SecretHidingFilter".
"""

import re

from django.utils.datastructures import MultiValueDict
from django.views.debug import SafeExceptionReporterFilter

# A name is secret when one of its words (split at _ - . spaces, digits and camelCase) is
# one of these, or starts with one of the prefixes: password1, new_password, otp_token,
# captcha_key, webhook_url, csrfmiddlewaretoken, X-Api-Key, recovery_code …
SECRET_WORDS = frozenset(
    {"pwd", "passwd", "pin", "key", "code", "codes", "sign", "signature", "credential", "credentials"}
    | {"authorization", "cookie", "sessionid", "csrfmiddlewaretoken", "otp", "totp", "hotp", "seed"}
)
SECRET_PREFIXES = ("pass", "secret", "token", "captcha", "webhook", "apikey", "otp", "private")
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")


def is_secret_name(name: object) -> bool:
    """Whether a field, variable or key called `name` may hold a secret."""
    if not isinstance(name, str):
        return False
    words = [word.lower() for word in _WORD.findall(name)]
    joined = "".join(words)
    return (
        any(word in SECRET_WORDS or word.startswith(SECRET_PREFIXES) for word in words)
        or "password" in joined
        or "token" in joined
    )


class SecretHidingFilter(SafeExceptionReporterFilter):
    """SafeExceptionReporterFilter, always active, that also hides every secret-looking name."""

    def is_active(self, request) -> bool:
        # Django's is "not DEBUG": its debug page would show everything to whoever is looking.
        return True

    def _named_by_view(self, request) -> list[str] | str:
        return getattr(request, "sensitive_post_parameters", None) or []

    def get_cleansed_multivaluedict(self, request, multivaluedict):
        named = self._named_by_view(request)
        cleansed = multivaluedict.copy()
        for key in list(cleansed):
            if named == "__ALL__" or key in named or is_secret_name(key):
                cleansed.setlist(key, [self.cleansed_substitute])
        return cleansed

    def get_post_parameters(self, request):
        if request is None:
            return {}
        return self.get_cleansed_multivaluedict(request, request.POST)

    def cleanse_special_types(self, request, value):
        try:
            plain_dict = isinstance(value, dict) and not isinstance(value, MultiValueDict)
        except Exception:  # a lazy object that fails when looked at: Django's own handling
            plain_dict = False
        if plain_dict:
            # A function's **kwargs, a form's cleaned_data, a parsed JSON body.
            return {k: self.cleansed_substitute if is_secret_name(k) else v for k, v in value.items()}
        return super().cleanse_special_types(request, value)

    def get_traceback_frame_variables(self, request, tb_frame):
        variables = super().get_traceback_frame_variables(request, tb_frame)
        return [(name, self.cleansed_substitute if is_secret_name(name) else value) for name, value in variables]
