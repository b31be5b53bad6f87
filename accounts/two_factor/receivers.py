"""At sign-in, note in the session that a user who has an authenticator owes their second
factor (for the three administrators the role says so already; see services.owes_second_factor)."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from accounts.two_factor import services


@receiver(user_logged_in, dispatch_uid="accounts_two_factor_pending")
def on_logged_in(sender, request, user, **kwargs):
    if request is None or not hasattr(request, "session"):
        return
    if services.required_for(user) or services.has_second_factor(user):
        request.session[services.PENDING_SESSION_KEY] = True
