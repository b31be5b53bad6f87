"""Signals the audit layer sends for the layers above it to act on."""

from django.dispatch import Signal

# A security alert was recorded (audit.services.raise_alert) and its transaction committed.
# Keyword arguments: event (the AuditEvent), kind (a short machine name such as
# "admin_locked_out" or "repeated_denials"), title and body (translated text for people),
# roles (the role values to tell). The notifications app delivers it to the inbox and by
# email; the audit layer itself imports no app above it.
security_alert = Signal()
