"""Composite same-plan references (see config/integrity.py)."""

from django.db import migrations

from config.integrity import SamePlanReference


class Migration(migrations.Migration):
    dependencies = [("indicators", "0001_initial")]

    operations = [
        SamePlanReference("indicators", "indicator", "task", "indicator_task_same_plan"),
        SamePlanReference("indicators", "reading", "indicator", "reading_indicator_same_plan"),
    ]
