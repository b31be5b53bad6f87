"""Database-level rule: a child row points only at a parent of its own plan.

A section's parent, a task's section, an indicator's task and a reading's indicator must
all belong to the same plan as the row itself. Django has no composite foreign keys, so
`SamePlanReference` adds them in a migration: on PostgreSQL a real composite FOREIGN KEY
(fk, plan_id) -> parent(id, plan_id); on SQLite, which cannot add such a key to an
existing table, BEFORE INSERT/UPDATE triggers that abort with the constraint's name.

SQLite drops a table's triggers whenever Django's schema editor rebuilds the table, so
`ensure_sqlite_triggers` re-creates them after every migrate (core.apps connects it to
post_migrate). The references it puts back are the SamePlanReference operations the apps'
migrations declare: the migrations are the one list of them.
"""

import functools

from django.apps import apps as global_apps
from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations.base import Operation


def _tables(apps, app_label, model_name, field_name):
    model = apps.get_model(app_label, model_name)
    field = model._meta.get_field(field_name)
    target = field.related_model
    return model._meta.db_table, field.column, target._meta.db_table


def _sqlite_statements(table, column, target, name):
    q = '"{}"'.format
    check = (
        f"NEW.{q(column)} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {q(target)} "
        f"WHERE {q(target)}.id = NEW.{q(column)} AND {q(target)}.plan_id = NEW.plan_id)"
    )
    return [
        f"CREATE TRIGGER IF NOT EXISTS {name}_ins BEFORE INSERT ON {q(table)} FOR EACH ROW "
        f"WHEN {check} BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: {name}'); END",
        f"CREATE TRIGGER IF NOT EXISTS {name}_upd BEFORE UPDATE ON {q(table)} FOR EACH ROW "
        f"WHEN {check} BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: {name}'); END",
    ]


def _sqlite_drop(name):
    return [f"DROP TRIGGER IF EXISTS {name}_ins", f"DROP TRIGGER IF EXISTS {name}_upd"]


class SamePlanReference(Operation):
    reduces_to_sql = True
    reversible = True

    def __init__(self, app_label, model_name, field_name, name):
        self.app_label, self.model_name, self.field_name, self.name = app_label, model_name, field_name, name

    def deconstruct(self):
        return (self.__class__.__qualname__, [self.app_label, self.model_name, self.field_name, self.name], {})

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        table, column, target = _tables(to_state.apps, self.app_label, self.model_name, self.field_name)
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(
                f'ALTER TABLE "{table}" ADD CONSTRAINT "{self.name}" FOREIGN KEY ("{column}", "plan_id") '
                f'REFERENCES "{target}" ("id", "plan_id") DEFERRABLE INITIALLY DEFERRED'
            )
        elif schema_editor.connection.vendor == "sqlite":
            for sql in _sqlite_statements(table, column, target, self.name):
                schema_editor.execute(sql)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        table, _column, _target = _tables(from_state.apps, self.app_label, self.model_name, self.field_name)
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{self.name}"')
        elif schema_editor.connection.vendor == "sqlite":
            for sql in _sqlite_drop(self.name):
                schema_editor.execute(sql)

    def describe(self):
        return f"Keep {self.model_name}.{self.field_name} within the same plan ({self.name})"

    @property
    def migration_name_fragment(self):
        return self.name


@functools.cache
def declared_references() -> tuple[tuple[str, str, str, str], ...]:
    """(app_label, model, foreign key field, constraint name) of every SamePlanReference in
    the project's migrations."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    found = []
    for migration in loader.disk_migrations.values():
        for operation in migration.operations:
            if isinstance(operation, SamePlanReference):
                found.append((operation.app_label, operation.model_name, operation.field_name, operation.name))
    return tuple(sorted(found))


def ensure_sqlite_triggers(using="default", apps=None, **kwargs):
    """post_migrate: put back any same-plan trigger a table rebuild dropped (SQLite only)."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    apps = apps or global_apps
    with connection.cursor() as cursor:
        existing = {row[0] for row in cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        for app_label, model_name, field_name, name in declared_references():
            try:
                table, column, target = _tables(apps, app_label, model_name, field_name)
            except LookupError:
                continue  # migrating backwards past the model
            if table in existing and target in existing:
                for sql in _sqlite_statements(table, column, target, name):
                    cursor.execute(sql)


def drop_sqlite_triggers_naming(*tables):
    """A RunPython step for a migration that rebuilds `tables` on SQLite (a new check, an
    altered field): SQLite refuses to rename a rebuilt table while another table's trigger
    names it (the same-plan triggers), so those are dropped first; ensure_sqlite_triggers
    puts them back after the migrate."""

    def drop(apps, schema_editor):
        if schema_editor.connection.vendor != "sqlite":
            return
        with schema_editor.connection.cursor() as cursor:
            for table in tables:
                cursor.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name != %s AND sql LIKE %s",
                    [table, f'%"{table}"%'],
                )
                for (name,) in cursor.fetchall():
                    cursor.execute(f'DROP TRIGGER IF EXISTS "{name}"')

    return drop
