"""Status and percent agree: 未开始 is at 0 %, as 已完成 is at 100 % (0001)."""

from django.db import migrations, models

NOT_STARTED_AT_0 = ~models.Q(status="not_started") | models.Q(percent=0)
REBUILT = ("tasks_task", "tasks_progressupdate")


def drop_sqlite_triggers_naming_rebuilt_tables(apps, schema_editor):
    """SQLite adds a check by rebuilding the table, and refuses to rename the rebuilt table
    while another table's trigger names it (indicator_task_same_plan). Those same-plan
    triggers are put back after every migrate (core.integrity.ensure_sqlite_triggers)."""
    if schema_editor.connection.vendor != "sqlite":
        return
    with schema_editor.connection.cursor() as cursor:
        for table in REBUILT:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name != %s AND sql LIKE %s",
                [table, f'%"{table}"%'],
            )
            for (name,) in cursor.fetchall():
                cursor.execute(f'DROP TRIGGER IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [
        ("tasks", "0006_started_where_a_percent_was_reported"),
    ]

    operations = [
        migrations.RunPython(drop_sqlite_triggers_naming_rebuilt_tables, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="progressupdate",
            constraint=models.CheckConstraint(condition=NOT_STARTED_AT_0, name="progress_not_started_is_0_percent"),
        ),
        migrations.AddConstraint(
            model_name="task",
            constraint=models.CheckConstraint(condition=NOT_STARTED_AT_0, name="task_not_started_is_0_percent"),
        ),
    ]
