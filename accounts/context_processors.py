"""Template context: the login policy numbers, so pages state the rules that apply."""

from django.conf import settings


def login_policy(request):
    return {"policy": settings.LOGIN_POLICY}
