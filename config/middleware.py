"""Chinese first: the language changes only when the user picks one, never from the browser."""


class IgnoreBrowserLanguageMiddleware:
    """Drop Accept-Language before LocaleMiddleware reads it, so a bureau PC with an
    English browser still gets Chinese; the header's language switch (a cookie) wins."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
