"""Composite same-plan references (see core/integrity.py)."""

from django.db import migrations

from core.integrity import SamePlanReference


class Migration(migrations.Migration):
    dependencies = [("tasks", "0001_initial")]

    operations = [
        SamePlanReference("tasks", "task", "section", "task_section_same_plan"),
    ]
