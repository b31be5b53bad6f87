"""Before 未开始 is held to 0 % (0007): rows that said otherwise are moved to 进行中, since a
percent above 0 was reported and the work had started. A migration of its own, so the
checks are added in a transaction with no pending row changes (PostgreSQL)."""

from django.db import migrations


def started_where_a_percent_was_reported(apps, schema_editor):
    # The historical models carry plain managers: the progress log's refusal of updates
    # (tasks.models.AppendOnlyQuerySet) is not in the way of this one-time repair.
    for name in ("Task", "ProgressUpdate"):
        model = apps.get_model("tasks", name)
        model.objects.filter(status="not_started", percent__gt=0).update(status="in_progress")


class Migration(migrations.Migration):
    dependencies = [
        ("tasks", "0005_task_list_indexes_postgres"),
    ]

    operations = [
        migrations.RunPython(started_where_a_percent_was_reported, migrations.RunPython.noop),
    ]
