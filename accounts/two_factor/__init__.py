"""Two-factor sign-in (等保 2.0 level 3: two kinds of authentication, one cryptographic):
a TOTP authenticator app (django-otp) after the password, with one-time recovery codes.

services.py holds the rules, views.py the pages (enrol, verify, the user's own settings,
the security admin's reset), middleware.py keeps a session that owes its second factor
on those pages, receivers.py notes at sign-in that a second factor is owed.
"""
