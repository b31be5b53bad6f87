"""PlanImport moved to the imports app (imports/migrations/0001 takes its state, 0002
renames its table): here only the state lets go of it; the table stays as it is."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("workplans", "0005_report_due_day_help"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="PlanImport")],
            database_operations=[],
        ),
    ]
