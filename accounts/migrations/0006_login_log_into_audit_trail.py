"""The login log becomes part of the one audit trail: its rows are copied into
audit.AuditEvent (as login events with their time, user, address and outcome), then the
table goes. From here on logins are recorded only in the audit trail."""

from django.db import migrations

# LoginEvent.outcome -> (AuditEvent.event_type, AuditEvent.outcome)
OUTCOMES = {
    "success": ("login", "success"),
    "failure": ("login_failed", "failure"),
    "locked": ("lockout", "denied"),
    "refused": ("login_refused", "denied"),
    "logout": ("logout", "success"),
}


def copy_login_log(apps, schema_editor):
    LoginEvent = apps.get_model("accounts", "LoginEvent")
    AuditEvent = apps.get_model("audit", "AuditEvent")
    batch = []
    for event in LoginEvent.objects.order_by("at", "id").iterator(chunk_size=2000):
        event_type, outcome = OUTCOMES[event.outcome]
        batch.append(
            AuditEvent(
                occurred_at=event.at,
                user_id=event.user_id,
                username=event.username,
                ip_address=event.ip_address,
                event_type=event_type,
                outcome=outcome,
                object_type="accounts.user" if event.user_id else "",
                object_id=str(event.user_id or ""),
                object_repr=event.username,
                detail={"user_agent": event.user_agent[:200], "source": "login log"},
            )
        )
        if len(batch) >= 2000:
            AuditEvent.objects.bulk_create(batch)
            batch = []
    AuditEvent.objects.bulk_create(batch)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_admin_person_constraints"),
        ("audit", "0001_initial"),
    ]

    operations = [
        # Backwards: the table comes back empty (the events stay in the audit trail).
        migrations.RunPython(copy_login_log, migrations.RunPython.noop),
        migrations.DeleteModel(name="LoginEvent"),
    ]
