"""The task lists start from the owner rows of the user's agencies and count and order on
narrow keys; the API's date, risk and updated_since filters get their indexes (each index
says in tasks/models.py which query it serves).

On PostgreSQL the covering index of 0005 grows by the other keys the lists filter and sort on
(order, percent, reporting_exempt, updated_at), so that counting and ordering a user's tasks reads this
index and never the tasks' wide rows (tasks.filters.PagedByKeys). SQLite does without.
"""

from django.conf import settings
from django.db import migrations, models

WIDER = (
    "CREATE INDEX task_list_cover_idx ON tasks_task (id) "
    'INCLUDE (plan_id, status, due_on, last_progress_at, "order", percent, reporting_exempt, updated_at)'
)
NARROWER = "CREATE INDEX task_list_cover_idx ON tasks_task (id) INCLUDE (plan_id, status, due_on, last_progress_at)"


def widen(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS task_list_cover_idx")
        schema_editor.execute(WIDER)


def narrow(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS task_list_cover_idx")
        schema_editor.execute(NARROWER)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0009_must_change_password"),
        ("tasks", "0010_rollover_alignment_exempt"),
        ("workplans", "0008_year_close_and_higher_plan"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="taskowner",
            name="taskowner_agency_role_idx",
        ),
        migrations.AddIndex(
            model_name="task",
            index=models.Index(
                condition=models.Q(("status__in", ("done", "closed")), _negated=True),
                fields=["due_on", "percent"],
                name="task_open_due_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="task",
            index=models.Index(fields=["updated_at"], name="task_updated_at_idx"),
        ),
        migrations.AddIndex(
            model_name="taskowner",
            index=models.Index(fields=["agency", "task", "role"], name="taskowner_agency_task_idx"),
        ),
        migrations.RunPython(widen, narrow),
    ]
