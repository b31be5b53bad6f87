"""Indexes for 我的任务 on PostgreSQL (the production database); SQLite does without.

- A trigram index on search_text, so a search over 50,000 tasks does not scan them all
  (pg_trgm is a trusted extension: the database owner may create it).
- A covering index for the list's counts (the owed-this-cycle banner, filtered page
  counts): they read plan, status, due date and last update for the tasks an agency owns
  without visiting the table.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEXES = [
    (
        "task_search_trgm_idx",
        "CREATE INDEX IF NOT EXISTS task_search_trgm_idx ON tasks_task USING gin (search_text gin_trgm_ops)",
    ),
    (
        "task_list_cover_idx",
        "CREATE INDEX IF NOT EXISTS task_list_cover_idx ON tasks_task (id) "
        "INCLUDE (plan_id, status, due_on, last_progress_at)",
    ),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for _name, sql in INDEXES:
            schema_editor.execute(sql)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, _sql in INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("tasks", "0004_progress_submission_key")]

    operations = [
        TrigramExtension(),
        migrations.RunPython(create, drop),
    ]
