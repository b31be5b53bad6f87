"""Below the application, on PostgreSQL: the database itself refuses to change an audit
event, or to delete one younger than 180 days (only the retention purge may remove old
rows). There is deliberately no TRUNCATE trigger: test databases are emptied with
TRUNCATE; production should revoke TRUNCATE from the application's role instead.
On SQLite the application's guard (AuditEvent, its queryset) is the only one."""

from django.db import migrations

PROTECT = """
CREATE OR REPLACE FUNCTION audit_event_protect() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'audit_auditevent rows cannot be changed (id %)', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF OLD.occurred_at > now() - interval '180 days' THEN
        RAISE EXCEPTION 'audit_auditevent rows younger than 180 days cannot be deleted (id %)', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN OLD;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS audit_event_protect ON audit_auditevent;
CREATE TRIGGER audit_event_protect
    BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_event_protect();
"""

UNPROTECT = """
DROP TRIGGER IF EXISTS audit_event_protect ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_event_protect();
"""


def run(sql):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)  # None: the "%" in RAISE are not placeholders

    return apply


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(run(PROTECT), run(UNPROTECT))]
