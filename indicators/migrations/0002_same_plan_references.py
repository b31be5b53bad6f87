"""Composite same-plan references (see core/integrity.py)."""

from django.db import migrations

from core.integrity import SamePlanReference


class Migration(migrations.Migration):
    dependencies = [("indicators", "0001_initial")]

    operations = [
        SamePlanReference("indicators", "indicator", "task", "indicator_task_same_plan"),
        SamePlanReference("indicators", "reading", "indicator", "reading_indicator_same_plan"),
    ]
